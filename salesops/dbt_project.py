"""Run the dbt project against the configured warehouse.

dbt reads its connection from ``SALESOPS_PG_*`` (see ``dbt/profiles.yml``), derived here
from the warehouse URL, so the embedded server, an external one and the compose stack
all use the same profile. Build output goes under ``$SALESOPS_HOME/dbt`` so the project
folder can be read-only (as it is in the containers).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from salesops.config import REPO_ROOT, apply_offline_env, settings

# Named on every dbt command salesops runs, as Cosmos names them on its own: dbt parses the
# project again from scratch when the profile or target named differ from its last parse.
PROFILE_ARGS = ("--profile", "salesops", "--target", "warehouse")


def project_dir() -> Path:
    return Path(os.environ.get("SALESOPS_DBT_PROJECT_DIR", REPO_ROOT / "dbt"))


def _session_role(options: str) -> str:
    """The role in libpq ``options`` (``-c role=NAME``), or ""."""
    match = re.search(r"-c\s*role=(\S+)", options)
    return match[1] if match else ""


def dbt_env(url: str) -> dict[str, str]:
    """The environment dbt (and Cosmos) needs to reach the warehouse at ``url``."""
    import psycopg

    from salesops.warehouse import role_url

    # dbt runs as the transformer role, whatever URL it was given.
    parts = psycopg.conninfo.conninfo_to_dict(role_url(url, "transformer"))
    home = settings().home / "dbt"
    return {
        "SALESOPS_PG_HOST": str(parts.get("host", "127.0.0.1")),
        "SALESOPS_PG_PORT": str(parts.get("port", 5432)),
        "SALESOPS_PG_USER": str(parts.get("user", "postgres")),
        "SALESOPS_PG_PASSWORD": str(parts.get("password") or ""),
        "SALESOPS_PG_DBNAME": str(parts.get("dbname", "salesops")),
        "SALESOPS_PG_ROLE": _session_role(str(parts.get("options", ""))),
        # Set for the transform DAG's build only (transform.warehouse_env: the DAG run's id, which
        # the build is booked under); cleared here, as Cosmos leaves a task's environment in os.environ.
        "SALESOPS_DAG_BUILD_ID": "",
        "DBT_TARGET_PATH": str(home / "target"),
        "DBT_LOG_PATH": str(home / "logs"),
        "DBT_PROFILES_DIR": str(project_dir()),
        "DBT_PROJECT_DIR": str(project_dir()),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
    }


def configure(url: str) -> None:
    apply_offline_env()
    os.environ.update(dbt_env(url))


def run_dbt(args: list[str], url: str | None = None):
    """Invoke dbt in-process (``dbtRunner``); returns its result. Raises on failure."""
    from salesops import warehouse

    configure(url or warehouse.ensure_running())
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke([*args, "--project-dir", str(project_dir()),
                                 "--profiles-dir", str(project_dir()), *PROFILE_ARGS])
    if not result.success:
        raise RuntimeError(f"dbt {' '.join(args)} failed: {result.exception or 'see the log above'}")
    return result
