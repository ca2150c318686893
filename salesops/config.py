"""Where everything lives, read once from the environment.

The same variables drive the embedded default and the docker-compose stack:
``SALESOPS_HOME`` (state: embedded Postgres data, Airflow metadata, landing zone),
``SALESOPS_WAREHOUSE_URL`` (an external Postgres instead of the embedded one) and
``SALESOPS_LANDING_URI`` (where channel files arrive; a folder or an fsspec URI).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# Telemetry of every tool in the stack stays off: nothing may reach the network.
OFFLINE_ENV = {
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
    "SCARF_ANALYTICS": "false",
    "GX_ANALYTICS_ENABLED": "False",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
}


@dataclass(frozen=True)
class Settings:
    home: Path
    warehouse_url: str | None
    landing_uri: str

    @property
    def embedded(self) -> bool:
        return self.warehouse_url is None

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"


def settings() -> Settings:
    home = Path(os.environ.get("SALESOPS_HOME", "./.salesops")).expanduser().resolve()
    landing = os.environ.get("SALESOPS_LANDING_URI") or str(home / "landing")
    return Settings(
        home=home,
        warehouse_url=os.environ.get("SALESOPS_WAREHOUSE_URL") or None,
        landing_uri=landing,
    )


# Files salesops writes are readable by their owner and group, never by other users
# (landing files hold personal data): 0640 files, 0750 folders.
UMASK = 0o027


class HomeError(RuntimeError):
    """$SALESOPS_HOME cannot hold salesops' state; the message says what to do."""


def ensure_home(cfg: Settings | None = None) -> Path:
    """$SALESOPS_HOME as a folder this user can write, created owner-only (0700) if new."""
    home = (cfg or settings()).home
    what = "set SALESOPS_HOME to a folder you can write"
    try:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:
        raise HomeError(f"SALESOPS_HOME {home} is a file, not a folder; {what}") from None
    except NotADirectoryError:
        raise HomeError(f"SALESOPS_HOME {home}: a part of the path is a file, not a folder; {what}") from None
    except OSError as exc:
        raise HomeError(f"SALESOPS_HOME {home} cannot be created ({exc.strerror.lower()}); {what}") from None
    if not os.access(home, os.W_OK | os.X_OK):
        reason = "is on a read-only file system" if _read_only_fs(home) else "is not writable by you"
        raise HomeError(f"SALESOPS_HOME {home} {reason}; {what}")
    return home


class HomeBusyError(HomeError):
    """Another salesops command is building or running the pipeline on this home."""


@contextlib.contextmanager
def pipeline_lock(command: str) -> Iterator[None]:
    """Hold ``$SALESOPS_HOME/.pipeline.lock`` while ``command`` runs the pipeline or dbt.

    Two such commands on one home would build the same warehouse tables at once (dbt's
    temporary relations collide and one fails midway) and share Airflow's SQLite metadata DB,
    so the second refuses at once, naming the first; it is safe to run it again afterwards.
    The lock is the kernel's (``flock``): it goes with the process, killed or not.
    """
    import time

    from salesops.credentials import home_lock

    home = ensure_home()
    with contextlib.ExitStack() as held:
        try:
            fd = held.enter_context(home_lock(home, "pipeline", wait=False))
        except BlockingIOError:
            holder = (home / ".pipeline.lock").read_text(errors="replace").strip() or "another process"
            raise HomeBusyError(f"{holder} is already using SALESOPS_HOME {home}; run `salesops "
                                f"{command}` again when it has finished") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"`salesops {command}` (pid {os.getpid()}, since "
                      f"{time.strftime('%H:%M:%S')})".encode(), 0)
        yield


def check_landing(uri: str) -> None:
    """Fail now, not after minutes of set-up, when an fsspec landing URI lacks its package
    (ImportError naming it, e.g. s3fs) or names an unknown protocol (ValueError)."""
    if "://" in uri:
        import fsspec

        fsspec.get_filesystem_class(uri.split("://", 1)[0])


def _read_only_fs(path: Path) -> bool:
    return bool(os.statvfs(path).f_flag & os.ST_RDONLY)


def apply_offline_env() -> None:
    """Set the telemetry switches unless the user chose otherwise."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


def _origin_checkout() -> Path | None:
    """The local repository this checkout was cloned from, if it was cloned from a folder."""
    try:
        origin = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "config", "--get", "remote.origin.url"],
            capture_output=True, text=True, timeout=5, check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    path = Path(origin.removeprefix("file://")) if origin and "://" not in origin.replace(
        "file://", "") else None
    return path if path and path.is_dir() else None


def maven_export_dir() -> Path | None:
    """The Maven CRM export: $SALESOPS_MAVEN_DIR, else ``shared/datasets/maven_crm`` beside
    this checkout (or beside the local repository it was cloned from)."""
    if os.environ.get("SALESOPS_MAVEN_DIR"):
        return Path(os.environ["SALESOPS_MAVEN_DIR"])
    roots = [REPO_ROOT]
    origin = _origin_checkout()
    if origin is not None:
        roots.append(origin)
    for root in roots:
        candidate = root.resolve().parent / "shared" / "datasets" / "maven_crm"
        if (candidate / "sales_pipeline.csv").exists():
            return candidate
    return None
