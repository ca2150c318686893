"""Transform: raw quality gate → dbt (one task per model, via Cosmos) → marts quality gate → grants.

Scheduled on the raw Assets the ingestion DAG publishes (any channel that loaded
something). Great Expectations checkpoints gate both ends: a failing critical
expectation on the new raw batches stops dbt from running; one on the marts stops the
grants (BI keeps no access to marts that failed their gate) and the ``salesops://marts``
Asset the forecast and payout DAGs are scheduled on. Wiring only: the suites live in
``salesops.quality``, the grants in ``salesops.access``, the dbt project in ``dbt/``.
"""

from __future__ import annotations

import functools
import operator

import pendulum
from airflow.sdk import dag, task
from cosmos import DbtTaskGroup, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import InvocationMode, LoadMode, TestBehavior

from salesops import transform
from salesops.assets import MARTS_ASSET, RAW_ASSETS
from salesops.dbt_project import project_dir

# A fresh manifest (written by `salesops run|build|docs`) renders the project without
# running dbt at parse time; without one, Cosmos runs `dbt ls` with placeholder settings.
_MANIFEST = transform.fresh_manifest()


@dag(
    dag_id="salesops_transform",
    schedule=functools.reduce(operator.or_, RAW_ASSETS.values()),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["salesops", "dbt", "quality"],
    doc_md=__doc__,
)
def salesops_transform():
    @task
    def prepare_warehouse(run_id: str | None = None) -> None:
        """Migrations, then book the dbt build's start (what it will have tested)."""
        from salesops.setup_warehouse import prepare

        prepare()
        transform.book_dbt_build("start", run_id)

    @task(retries=0)
    def quality_raw() -> dict:
        """GX gate on the raw batches loaded since the last successful transform."""
        from airflow.sdk.exceptions import AirflowFailException

        from salesops.quality.gates import QualityGateError, run_raw_gate

        try:
            return run_raw_gate()
        except QualityGateError as exc:  # bad data does not get better by retrying
            raise AirflowFailException(str(exc)) from exc

    dbt = DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            dbt_project_path=project_dir(),
            project_name=transform.project_name(),
            manifest_path=_MANIFEST,
            install_dbt_deps=False,  # no hub packages: nothing to download, offline by design
            env_vars=transform.render_env(),
        ),
        profile_config=ProfileConfig(
            profile_name="salesops",
            target_name="warehouse",
            profiles_yml_filepath=project_dir() / "profiles.yml",
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST if _MANIFEST else LoadMode.DBT_LS,
            # `dbt ls` (no fresh manifest) in a subprocess: the DAG processor never imports dbt.
            invocation_mode=InvocationMode.SUBPROCESS,
            # `dbt build` per node: a model and its own tests in one task, so a failing test
            # stops what is built on the model. A test on several models (relationships)
            # runs as its own task once all of them are built.
            test_behavior=TestBehavior.BUILD,
            should_detach_multiple_parents_tests=True,
            emit_datasets=False,
        ),
        operator_args={
            "interceptors": [transform.warehouse_env],
            # Each node's run would rewrite manifest.json and run_results.json (seconds on a
            # project with hundreds of tests); Cosmos reads the run's result object instead.
            "dbt_cmd_flags": ["--no-write-json"],
        },
    )

    @task(retries=0)
    def quality_marts() -> dict:
        """GX gate on the key marts dbt just built."""
        from airflow.sdk.exceptions import AirflowFailException

        from salesops.quality.gates import QualityGateError, run_marts_gate

        try:
            return run_marts_gate()
        except QualityGateError as exc:
            raise AirflowFailException(str(exc)) from exc

    @task
    def apply_grants() -> list[str]:
        """Reader grants on the tables dbt re-created (BI: personal data masked)."""
        return transform.grant_readers()

    @task(outlets=[MARTS_ASSET])
    def publish_marts(raw: dict, marts: dict, *, outlet_events=None, run_id: str | None = None) -> dict:
        """Book the run (moving the raw watermark) and emit the marts Asset with row counts."""
        transform.book_dbt_build("end", run_id)
        summary = transform.finish(raw, marts)
        outlet_events[MARTS_ASSET].extra = {"marts": summary["marts"], "upto_batch_id": raw["upto"]}
        return summary

    raw_gate = quality_raw()
    marts_gate = quality_marts()
    prepare_warehouse() >> raw_gate >> dbt >> marts_gate
    marts_gate >> apply_grants() >> publish_marts(raw_gate, marts_gate)


salesops_transform()
