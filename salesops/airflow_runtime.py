"""Run the platform's DAGs in-process with ``dag.test()``: real Airflow, no scheduler needed.

Airflow reads its configuration from the environment when first imported, so
``configure()`` must run before anything imports ``airflow``.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from functools import cache
from pathlib import Path

from salesops.config import REPO_ROOT, UMASK, apply_offline_env, ensure_home, settings

DAGS_FOLDER = REPO_ROOT / "dags"


def configure() -> None:
    """Point Airflow at a metadata DB under $SALESOPS_HOME and at the repo's DAGs."""
    apply_offline_env()
    # Task logs, the metadata DB and dbt's files stay readable by owner and group only.
    os.umask(UMASK)
    ensure_home()
    home = settings().airflow_home
    home.mkdir(mode=0o700, exist_ok=True)
    defaults = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "salesops",
        # Cosmos would cache `dbt ls` output in an Airflow Variable, i.e. write to the metadata
        # DB while parsing; the transform DAG renders from a fresh manifest instead.
        "AIRFLOW__COSMOS__ENABLE_CACHE_DBT_LS": "False",
        # The watcher's producer would rewrite an Airflow Variable holding every node status
        # so far after each node (quadratic: 30 s of a 170 s build here). Off, a producer
        # killed mid-build makes its sensors re-run their own nodes instead (Cosmos docs).
        "AIRFLOW__COSMOS__ENABLE_WATCHER_RELIABLE_RETRY": "False",
        # Cosmos's cache (dbt's partial parse of the project) stays in this home, not in a
        # temporary folder every home and user of the machine shares.
        "AIRFLOW__COSMOS__CACHE_DIR": str(settings().home / "cosmos"),
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    _dbt_on_path()
    # Cosmos warns at import that the OpenLineage provider is absent; lineage is off by choice.
    logging.getLogger("cosmos.operators.local").setLevel(logging.ERROR)


def _dbt_on_path() -> None:
    """Cosmos looks for the ``dbt`` executable on PATH (to render and to run dbt nodes).

    It is installed beside this interpreter, which is not on PATH when the venv is not
    activated (``.venv/bin/salesops run``, ``.venv/bin/pytest``): put that folder first.
    """
    bindir = Path(sys.executable).parent
    if shutil.which("dbt") is None and (bindir / "dbt").exists():
        os.environ["PATH"] = os.pathsep.join([str(bindir), os.environ.get("PATH", "")])


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
def _parsed():
    """Parse the DAGs folder once per process (``import airflow.sdk`` alone costs seconds).

    The dbt manifest is refreshed first (when stale), so the transform DAG renders from it
    here and in every ``dag.test()`` (which parses its DAG file again) without ``dbt ls``.
    """
    ensure_metadata_db()
    from salesops.transform import ensure_manifest

    ensure_manifest()
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))


def import_errors() -> str:
    """The DAG files that failed to import, with their errors ('' when none did)."""
    return "\n".join(f"{path}: {err}" for path, err in _parsed().import_errors.items())


def dagbag(strict: bool = True):
    """The parsed DAGs; ``strict`` raises when any DAG file failed to import."""
    bag = _parsed()
    if strict and bag.import_errors:
        raise RuntimeError(f"DAG import errors:\n{import_errors()}")
    return bag


def run_dag(dag_id: str, conf: dict | None = None):
    """Execute one DAG run in this process and return the DagRun.

    Other DAG files failing to import do not stop this one (a broken dbt project must not
    stop ingestion); this DAG failing to import raises with its error.
    """
    dag = dagbag(strict=False).get_dag(dag_id)
    if dag is None:
        errors = import_errors()
        detail = f"; import errors:\n{errors}" if errors else ""
        raise KeyError(f"no DAG {dag_id!r} in {DAGS_FOLDER}{detail}")
    return dag.test(run_conf=conf)
