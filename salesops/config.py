"""Where everything lives, read once from the environment.

The same variables drive the embedded default and the docker-compose stack:
``SALESOPS_HOME`` (state: embedded Postgres data, Airflow metadata, landing zone),
``SALESOPS_WAREHOUSE_URL`` (an external Postgres instead of the embedded one) and
``SALESOPS_LANDING_URI`` (where channel files arrive; a folder or an fsspec URI).
"""

from __future__ import annotations

import os
import subprocess
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
