"""Bring a warehouse to the current schema: migrations, then the contract-derived raw tables."""

from __future__ import annotations

import psycopg

from salesops import migrate, warehouse


def prepare(url: str | None = None) -> str:
    """Start (if embedded) and migrate the warehouse; return its URL."""
    from ingestion.schema import ensure_raw_tables

    url = url or warehouse.ensure_running()
    with psycopg.connect(url, autocommit=True) as conn:
        migrate.migrate(conn)
        ensure_raw_tables(conn)
    return url
