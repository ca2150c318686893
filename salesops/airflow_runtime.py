"""Run the platform's DAGs in-process with ``dag.test()``: real Airflow, no scheduler needed.

Airflow reads its configuration from the environment when first imported, so
``configure()`` must run before anything imports ``airflow``.
"""

from __future__ import annotations

import logging
import os
from functools import cache

from salesops.config import REPO_ROOT, apply_offline_env, settings

DAGS_FOLDER = REPO_ROOT / "dags"


def configure() -> None:
    """Point Airflow at a metadata DB under $SALESOPS_HOME and at the repo's DAGs."""
    apply_offline_env()
    home = settings().airflow_home
    home.mkdir(parents=True, exist_ok=True)
    defaults = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "salesops",
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    # Cosmos warns at import that the OpenLineage provider is absent; lineage is off by choice.
    logging.getLogger("cosmos.operators.local").setLevel(logging.ERROR)


def ensure_metadata_db() -> None:
    """Create or upgrade Airflow's metadata DB once; later calls cost a file check."""
    configure()
    import airflow

    marker = settings().airflow_home / f".migrated-{airflow.__version__}"
    if marker.exists():
        return
    from airflow.utils.db import initdb

    initdb()
    marker.write_text("ok\n")


@cache
def dagbag():
    """Parse the DAGs folder once per process (``import airflow.sdk`` alone costs seconds)."""
    ensure_metadata_db()
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    if bag.import_errors:
        details = "\n".join(f"{path}: {err}" for path, err in bag.import_errors.items())
        raise RuntimeError(f"DAG import errors:\n{details}")
    return bag


def run_dag(dag_id: str, conf: dict | None = None):
    """Execute one DAG run in this process and return the DagRun."""
    dag = dagbag().get_dag(dag_id)
    if dag is None:
        raise KeyError(f"no DAG {dag_id!r} in {DAGS_FOLDER}")
    return dag.test(run_conf=conf)
