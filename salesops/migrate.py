"""Versioned, idempotent warehouse migrations.

``salesops/migrations/V<nnn>__<name>.sql`` files are applied once each, in order, and
recorded in ``ops.schema_migrations`` with a checksum, so an edited migration that has
already run is reported instead of silently diverging.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^V(\d{3})__(\w+)\.sql$")
# Any constant works: it serialises concurrent `salesops` processes migrating one warehouse.
_LOCK_KEY = 7_310_042


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available() -> list[Migration]:
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("V*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named V<nnn>__<name>.sql")
        found.append(Migration(int(match[1]), match[2], path.read_text()))
    return found


def migrate(conn: psycopg.Connection) -> list[str]:
    """Apply pending migrations; return the names applied (empty when up to date)."""
    applied_now = []
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute("create schema if not exists ops")
        conn.execute(
            "create table if not exists ops.schema_migrations ("
            " version int primary key, name text not null, checksum text not null,"
            " applied_at timestamptz not null default now())"
        )
        done = dict(conn.execute("select version, checksum from ops.schema_migrations").fetchall())
        for migration in available():
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    raise MigrationError(
                        f"migration V{migration.version:03d} ({migration.name}) changed after it "
                        "was applied; add a new migration instead of editing an old one"
                    )
                continue
            conn.execute(migration.sql)
            conn.execute(
                "insert into ops.schema_migrations (version, name, checksum) values (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
            applied_now.append(f"V{migration.version:03d}__{migration.name}")
    return applied_now
