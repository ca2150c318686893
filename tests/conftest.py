"""Shared fixtures: one real embedded Postgres per test session, a fresh database per test.

SALESOPS_HOME points at a temporary folder before anything imports Airflow, so the
suite never touches a developer's own warehouse or metadata DB.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

_SESSION_HOME = Path(tempfile.mkdtemp(prefix="salesops-test-"))
os.environ["SALESOPS_HOME"] = str(_SESSION_HOME)
os.environ.pop("SALESOPS_WAREHOUSE_URL", None)
os.environ.pop("SALESOPS_LANDING_URI", None)

from salesops.config import apply_offline_env  # noqa: E402

apply_offline_env()



@pytest.fixture(scope="session")
def server_url() -> str:
    """URL of the session's embedded warehouse (database ``salesops``), migrated."""
    from salesops import warehouse
    from salesops.setup_warehouse import prepare

    url = prepare()
    yield url
    warehouse.embedded().stop()


@contextlib.contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A new, migrated database on the session's server (its URL), dropped afterwards."""
    import psycopg

    from salesops.setup_warehouse import prepare

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = psycopg.conninfo.make_conninfo(server_url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"create database {name}")
    url = psycopg.conninfo.make_conninfo(server_url, dbname=name)
    try:
        prepare(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")


@contextlib.contextmanager
def copy_of(server_url: str, template_url: str) -> Iterator[str]:
    """A new database cloned from the one at ``template_url`` (its URL), dropped afterwards."""
    import psycopg

    source = psycopg.conninfo.conninfo_to_dict(template_url)["dbname"]
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = psycopg.conninfo.make_conninfo(server_url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        # CREATE DATABASE ... TEMPLATE needs the source without sessions (dbt's are idle).
        conn.execute("select pg_terminate_backend(pid) from pg_stat_activity"
                     " where datname = %s and pid <> pg_backend_pid()", (source,))
        conn.execute(f'create database {name} template "{source}"')
    try:
        yield psycopg.conninfo.make_conninfo(server_url, dbname=name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")


@pytest.fixture(scope="session")
def demo_build(server_url, maven_dir, tmp_path_factory):
    """Demo data (scale 0.1, seed 7) around the Maven export, every channel ingested and
    ``dbt build`` run once per session: (its database URL, dbt's result). Tests that change
    the warehouse work on a copy (``copy_of``)."""
    from ingestion.demo import CHANNELS, generate
    from ingestion.loader import ingest_path
    from salesops.dbt_project import run_dbt

    landing = tmp_path_factory.mktemp("demo-landing")
    generate(landing, scale=0.1, seed=7, maven_dir=maven_dir)
    with scratch_database(server_url) as url:
        for channel in CHANNELS:
            results = ingest_path(url, channel, str(landing / channel))
            assert results and {r.status for r in results} == {"loaded"}, channel
        yield url, run_dbt(["build"], url)


@pytest.fixture()
def db_url(server_url: str) -> str:
    """A new, migrated database on the session's server, dropped after the test."""
    with scratch_database(server_url) as url:
        yield url


@pytest.fixture(scope="session")
def maven_dir() -> Path:
    """The real Maven export (CI has shared/ beside the clone)."""
    from salesops.config import maven_export_dir

    found = maven_export_dir()
    assert found is not None, "Maven export not found: set SALESOPS_MAVEN_DIR or put shared/ beside the repo"
    return found


def query(url: str, statement: str, params=None) -> list[tuple]:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(statement, params).fetchall()
