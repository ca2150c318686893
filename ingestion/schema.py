"""Raw landing tables, derived from the contracts (additive: new columns are added, none dropped)."""

from __future__ import annotations

import psycopg
from psycopg import sql

from ingestion.contracts import Entity, all_entities

EXTRA_COLUMN = "_extra"


def landing_columns(entity: Entity) -> list[tuple[str, str]]:
    columns = [(c.name, c.sql_type) for c in entity.columns]
    return columns + [
        (EXTRA_COLUMN, "jsonb"),
        # The file is the batch's (ops.ingestion_batches.source_file): not repeated per row.
        ("_batch_id", "bigint not null"),
        ("_row_number", "bigint not null"),
        ("_record_hash", "bigint not null"),
        ("_loaded_at", "timestamptz not null default now()"),
    ]


def ensure_raw_tables(conn: psycopg.Connection) -> None:
    """Create every channel's raw table. Its one index is a BRIN on ``_batch_id``: batches are
    appended in order, so a few summary pages find a batch's rows (the dbt tests of new batches)
    and COPY pays next to nothing to keep it."""
    with conn.transaction():
        conn.execute("create schema if not exists raw")
        for entity in all_entities():
            table = sql.Identifier("raw", entity.table)
            cols = landing_columns(entity)
            conn.execute(
                sql.SQL("create table if not exists {} ({})").format(
                    table,
                    sql.SQL(", ").join(
                        sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in cols
                    ),
                )
            )
            for name, type_ in cols:
                conn.execute(
                    sql.SQL("alter table {} add column if not exists {} {}").format(
                        table, sql.Identifier(name), sql.SQL(type_.replace(" not null", ""))
                    )
                )
                if " default " in type_:
                    conn.execute(sql.SQL("alter table {} alter column {} set default {}").format(
                        table, sql.Identifier(name), sql.SQL(type_.split(" default ", 1)[1])))
                else:  # a default an earlier version declared (idempotent)
                    conn.execute(sql.SQL("alter table {} alter column {} drop default").format(
                        table, sql.Identifier(name)))
            conn.execute(sql.SQL("create index if not exists {} on {} using brin (_batch_id)").format(
                sql.Identifier(f"{entity.table}_batch_id_brin"), table))
            conn.execute(sql.SQL("grant select, insert on {} to salesops_loader").format(table))
            conn.execute(sql.SQL("grant select on {} to salesops_transformer").format(table))
            conn.execute(
                sql.SQL("comment on table {} is {}").format(
                    table, sql.Literal(f"Landing table of channel {entity.channel}, "
                                       f"entity {entity.entity}; append-only, one row per accepted record.")
                )
            )
