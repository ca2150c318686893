"""Probes of the embedded warehouse as an adversarial local user would try them.

Authentication (no trust, no replication, loopback only, passwords from a 0600 file),
least privilege of the roles the components use (tried, not read from the catalog),
permissions on and above ``$SALESOPS_HOME``, concurrent first starts, a killed server
(kill -9 mid-load) and a zombie/stale postmaster. Homes other than the session's are
driven through the real ``salesops`` entry point in subprocesses.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from salesops import warehouse
from salesops.config import settings
from tests.conftest import query

REPO = Path(__file__).resolve().parents[2]


def _cli(home: Path, *args: str, timeout: int = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "SALESOPS_HOME": str(home)}
    env.pop("SALESOPS_WAREHOUSE_URL", None)
    return subprocess.run([sys.executable, "-m", "salesops.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _stop(home: Path) -> None:
    _cli(home, "warehouse", "stop")


def _postmaster_pid(home: Path) -> int:
    return int((home / "pgdata" / "postmaster.pid").read_text().splitlines()[0])


def _port(url: str) -> int:
    return int(psycopg.conninfo.conninfo_to_dict(url)["port"])


# --- authentication -------------------------------------------------------------------------------

def test_no_connection_without_the_password(server_url):
    port = _port(server_url)
    for user in ("postgres", "salesops_loader", "bi_reader"):
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(host="127.0.0.1", port=port, user=user, dbname="salesops", connect_timeout=5)
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(host="127.0.0.1", port=port, user=user, password="salesops",
                            dbname="salesops", connect_timeout=5)


def test_psql_without_password_is_refused(server_url):
    psql = warehouse._binaries() / "psql"
    done = subprocess.run([str(psql), "-w", "-h", "127.0.0.1", "-p", str(_port(server_url)), "-U",
                           "postgres", "-d", "salesops", "-Atc", "select 1"],
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}, timeout=30)
    assert done.returncode != 0 and "password" in done.stderr


def test_host_rules_are_scram_on_loopback_only(server_url):
    with psycopg.connect(server_url) as conn:
        rules = conn.execute("select type, database, user_name, address, auth_method"
                             " from pg_hba_file_rules").fetchall()
        settings_ = dict(conn.execute(
            "select name, setting from pg_settings where name = any(%s)",
            (["listen_addresses", "unix_socket_directories", "password_encryption"],)).fetchall())
    assert rules == [("host", ["all"], ["all"], "127.0.0.1", "scram-sha-256"),
                     ("host", ["all"], ["all"], "::1", "scram-sha-256")]
    assert settings_ == {"listen_addresses": "127.0.0.1", "unix_socket_directories": "",
                         "password_encryption": "scram-sha-256"}


def test_credentials_are_private_and_used(server_url):
    file = settings().home / "credentials.json"
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    secrets = json.loads(file.read_text())
    assert {"postgres", "salesops_loader", "salesops_transformer", "salesops_ml"} <= set(secrets)
    assert len(set(secrets.values())) == len(secrets), "every role has its own password"
    assert psycopg.conninfo.conninfo_to_dict(server_url)["password"] == secrets["postgres"]


# --- least privilege, tried -----------------------------------------------------------------------

FORBIDDEN = {
    "copy program": "copy (select 1) to program 'id'",
    "read server files": "select pg_read_file('/etc/passwd')",
    "create role": "create role intruder login",
    "alter own role": "alter role current_user superuser",
    "read finance": "select * from finance.probe",
    "write finance": "insert into finance.probe values (1)",
    "read password hashes": "select rolpassword from pg_authid",
}


@pytest.fixture()
def finance_table(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("create table finance.probe (paid numeric)")
    return db_url


@pytest.mark.parametrize("role", ["loader", "transformer", "ml", "bi_reader"])
def test_roles_cannot_escalate_or_read_finance(finance_table, role):
    from salesops.access_admin import login_url

    with psycopg.connect(login_url(finance_table, warehouse.SERVICE_ROLES.get(role, role)),
                         autocommit=True) as conn:
        superuser = conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()
        assert superuser == (False,)
        refused = []
        for what, statement in FORBIDDEN.items():
            try:
                conn.execute(statement)
            except psycopg.errors.InsufficientPrivilege:
                refused.append(what)
    assert refused == list(FORBIDDEN)


def test_each_role_writes_only_its_own_layer(db_url):
    from salesops.access_admin import login_url

    def attempt(role: str, statement: str) -> bool:
        with psycopg.connect(login_url(db_url, role), autocommit=True) as conn:
            try:
                conn.execute(statement)
            except psycopg.errors.InsufficientPrivilege:
                return False
            return True

    loader, transformer = "salesops_loader", "salesops_transformer"
    assert not attempt(loader, "create table raw.sneaky (x int)")
    assert not attempt(loader, "create table marts.sneaky (x int)")
    assert not attempt(loader, "select * from ops.transform_builds")
    assert attempt(loader, "select count(*) from ops.ingestion_batches")
    assert not attempt(transformer, "insert into raw.orders (order_id) values ('x')")
    assert not attempt(transformer, "delete from ops.ingestion_batches")
    assert attempt(transformer, "create table marts.allowed (x int)")
    assert not attempt("bi_reader", "select * from raw.orders")
    assert not attempt("bi_reader", "create table marts.sneaky (x int)")


def test_components_connect_as_their_roles(db_url):
    from salesops.dbt_project import dbt_env
    from salesops.warehouse import role_url

    assert dbt_env(db_url)["SALESOPS_PG_USER"] == "salesops_transformer"
    assert psycopg.conninfo.conninfo_to_dict(role_url(db_url, "loader"))["user"] == "salesops_loader"


def test_loader_lands_files_as_the_loader_role(db_url, tmp_path):
    """Given the owner's URL, the loader still works with the loader's privileges only:
    take one away and the load is refused, nothing kept."""
    from ingestion.loader import ingest_file

    path = tmp_path / "orders.csv"
    path.write_text("order_id,order_date,amount\nA1,2024-01-05,10.50\n")
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("revoke insert on raw.orders from salesops_loader")
    try:
        result = ingest_file(db_url, "orders", str(path))
        failed = result.status == "failed" and "permission denied" in result.message
    except psycopg.errors.InsufficientPrivilege:
        failed = True
    assert failed
    assert query(db_url, "select count(*) from raw.orders") == [(0,)]
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("grant insert on raw.orders to salesops_loader")
    assert ingest_file(db_url, "orders", str(path)).rows_loaded == 1


def test_revoked_reader_cannot_log_in(db_url):
    from salesops import access_admin, credentials

    url = access_admin.login_url(db_url, "finance_reader")
    psycopg.connect(url).close()
    access_admin.revoke(db_url, "finance_reader")
    assert credentials.known("finance_reader") is None
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=5)
    rotated = access_admin.login_url(db_url, "finance_reader")
    assert rotated != url
    psycopg.connect(rotated).close()


# --- permissions on and above the home ------------------------------------------------------------

def _others(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode) & 0o007


def test_a_new_home_below_private_folders_widens_nothing(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    (private / "deeper").mkdir(mode=0o700)
    home = private / "deeper" / "home"
    before = {p: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path, private, private / "deeper")}
    try:
        started = _cli(home, "warehouse", "start")
        assert started.returncode == 0, started.stderr
        for folder, mode in before.items():
            assert _others(folder) == mode & 0o007, f"{folder} was opened to others"
            assert stat.S_IMODE(folder.stat().st_mode) & 0o060 == mode & 0o060, f"{folder}: group rw"
        assert _others(home) == 0
        for path in home.rglob("*"):
            if path.is_symlink():
                continue
            assert _others(path) == 0, f"{path} is open to others"
        pgdata = home / "pgdata"
        assert stat.S_IMODE(pgdata.stat().st_mode) == 0o700
        if os.geteuid() == 0:
            # Postgres runs as its own account, in its own group only (never root's).
            assert pgdata.stat().st_uid != 0
            status = Path(f"/proc/{_postmaster_pid(home)}/status").read_text()
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            assert fields["Uid"].split()[0] == str(pgdata.stat().st_uid)
            assert fields["Gid"].split()[0] != "0" and "0" not in fields["Groups"].split()
    finally:
        _stop(home)


# --- starts and recovery --------------------------------------------------------------------------

def test_concurrent_first_starts_all_succeed(tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "SALESOPS_HOME": str(home)}
    procs = [subprocess.Popen([sys.executable, "-m", "salesops.cli", "warehouse", "url"], cwd=REPO,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    try:
        outputs = [p.communicate(timeout=240) for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outputs]
        urls = {out.strip() for out, _ in outputs}
        assert len(urls) == 1
        psycopg.connect(urls.pop()).close()
    finally:
        _stop(home)


def test_a_killed_server_is_restarted_by_the_next_command_and_loads_once(tmp_path):
    """kill -9 of the postmaster in the middle of a load: the next command starts it again;
    nothing was kept from the interrupted load and the file is loaded exactly once."""
    from salesops.benchmark import write_leads_csv

    home = tmp_path / "home"
    landing = tmp_path / "in"
    landing.mkdir()
    write_leads_csv(landing / "ad_leads.csv", 300_000)
    try:
        assert _cli(home, "warehouse", "start").returncode == 0
        env = {**os.environ, "SALESOPS_HOME": str(home)}
        loading = subprocess.Popen([sys.executable, "-m", "salesops.cli", "ingest", "ad_leads",
                                    str(landing)], cwd=REPO, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        url = _cli(home, "warehouse", "url").stdout.strip()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            busy = query(url, "select 1 from pg_stat_activity where query ilike 'copy %%ad_leads%%'")
            if busy:
                break
            time.sleep(0.05)
        os.kill(_postmaster_pid(home), signal.SIGKILL)
        loading.communicate(timeout=120)
        assert loading.returncode != 0, "the load finished before the server was killed"

        rerun = _cli(home, "ingest", "ad_leads", str(landing))
        assert rerun.returncode == 0, rerun.stderr
        assert "Traceback" not in rerun.stderr
        url = _cli(home, "warehouse", "url").stdout.strip()
        batches = query(url, "select status, rows_loaded, rows_rejected from ops.ingestion_batches"
                             " order by batch_id")
        loaded = [b for b in batches if b[0] == "loaded"]
        assert len(loaded) == 1 and loaded[0][1] + loaded[0][2] == 300_000
        assert query(url, "select count(*) from raw.ad_leads") == [(loaded[0][1],)]
    finally:
        _stop(home)


def test_a_stale_or_zombie_postmaster_pid_counts_as_stopped(tmp_path):
    home = tmp_path / "home"
    try:
        assert _cli(home, "warehouse", "start").returncode == 0
        assert _cli(home, "warehouse", "stop").returncode == 0
        server = warehouse.EmbeddedPostgres(home / "pgdata")
        # A zombie: a child of ours that exited and was never reaped holds a pid kill(0) finds.
        child = subprocess.Popen(["true"])
        time.sleep(0.3)
        pid_file = home / "pgdata" / "postmaster.pid"
        port = warehouse._free_port()
        pid_file.write_text(f"{child.pid}\n{home / 'pgdata'}\n0\n{port}\n\n127.0.0.1\n")
        assert server.running_port() is None
        started = _cli(home, "warehouse", "status")
        assert started.returncode == 3 and "stopped" in started.stdout
        again = _cli(home, "warehouse", "start")
        assert again.returncode == 0, again.stderr
        child.wait()
        url = _cli(home, "warehouse", "url").stdout.strip()
        psycopg.connect(url).close()
    finally:
        _stop(home)


def test_a_home_made_before_authentication_is_secured_on_start(tmp_path):
    """A home whose server was initialised with ``trust`` (salesops before issue 12)."""
    home = tmp_path / "home"
    pgdata = home / "pgdata"
    pgdata.mkdir(parents=True, mode=0o700)
    server = warehouse.EmbeddedPostgres(pgdata)
    server._grant_access()
    done = server._run("initdb", "--auth=trust", "--encoding=utf8", "-U", "postgres", "-D", str(pgdata))
    assert done.returncode == 0, done.stderr
    assert "trust" in (pgdata / "pg_hba.conf").read_text()
    try:
        started = _cli(home, "warehouse", "start")
        assert started.returncode == 0, started.stderr
        assert (pgdata / "pg_hba.conf").read_text() == warehouse.PG_HBA
        port = int((home / "warehouse.port").read_text())
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres",
                            connect_timeout=5)
        psycopg.connect(_cli(home, "warehouse", "url").stdout.strip()).close()
    finally:
        _stop(home)


def test_a_role_without_a_password_is_taken_inside_the_owners_session(db_url, monkeypatch):
    """An external warehouse whose owner may not set passwords: the session takes the role."""
    from salesops import credentials
    from salesops.dbt_project import dbt_env

    monkeypatch.setattr(credentials, "known", lambda role, home=None: None)
    url = warehouse.role_url(db_url, "loader")
    with psycopg.connect(url) as conn:
        assert conn.execute("select current_user, session_user").fetchone() == ("salesops_loader", "postgres")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("copy (select 1) to program 'id'")
    assert dbt_env(db_url)["SALESOPS_PG_ROLE"] == "salesops_transformer"
