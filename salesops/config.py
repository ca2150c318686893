"""Where everything lives, read once from the environment.

The same variables drive the embedded default and the docker-compose stack:
``SALESOPS_HOME`` (state: embedded Postgres data, Airflow metadata, landing zone),
``SALESOPS_WAREHOUSE_URL`` (an external Postgres instead of the embedded one) and
``SALESOPS_LANDING_URI`` (where channel files arrive; a folder or an fsspec URI).
"""

from __future__ import annotations

import os
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
