"""Bring a warehouse to the current schema: migrations, the contract-derived raw tables, and
the passwords of the roles salesops components connect as."""

from __future__ import annotations

import psycopg

from salesops import credentials, migrate, warehouse

# Any constant: serialises concurrent `prepare` calls (first starts of several commands).
_PREPARE_LOCK = 7_310_043


def set_role_passwords(conn: psycopg.Connection) -> list[str]:
    """Give each service role its password from ``$SALESOPS_HOME`` (idempotent).

    Skipped when the connecting role may not (an external warehouse whose owner is neither
    superuser nor CREATEROLE): components then take their role inside the owner's session
    (``warehouse.role_url``).
    """
    from salesops.access_admin import may_set_passwords, set_login

    if not may_set_passwords(conn):
        return []
    for role in warehouse.SERVICE_ROLES.values():
        set_login(conn, role, credentials.password(role))
    return list(warehouse.SERVICE_ROLES.values())


def prepare(url: str | None = None) -> str:
    """Start (if embedded) and migrate the warehouse; return its (owner's) URL."""
    from ingestion.schema import ensure_raw_tables

    url = url or warehouse.ensure_running()
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_PREPARE_LOCK,))
        migrate.migrate(conn)
        ensure_raw_tables(conn)
        set_role_passwords(conn)
    return url
