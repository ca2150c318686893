"""Transform: raw quality gate → dbt (Cosmos: one build, a task per node) → marts quality gate → grants.

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

from salesops import transform
from salesops.assets import MARTS_ASSET, RAW_ASSETS


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
    def prepare_warehouse() -> None:
        """Migrations (the dbt build books its own start: what it will have tested)."""
        from salesops.setup_warehouse import prepare

        prepare()

    @task(retries=0)
    def quality_raw() -> dict:
        """GX gate on the raw batches loaded since the last successful transform."""
        from salesops.quality.gates import gate_task

        return gate_task("raw")

    # One `dbt build` runs every node; a task per node reports its outcome (Cosmos watcher mode).
    dbt = transform.dbt_task_group()

    @task(retries=0)
    def quality_marts() -> dict:
        """GX gate on the key marts dbt just built."""
        from salesops.quality.gates import gate_task

        return gate_task("marts")

    @task
    def apply_grants() -> list[str]:
        """Reader grants on the tables dbt re-created (BI: personal data masked)."""
        return transform.grant_readers()

    @task(outlets=[MARTS_ASSET])
    def publish_marts(raw: dict, marts: dict, *, outlet_events=None, run_id: str | None = None) -> dict:
        """Book the run (its build succeeded, the raw watermark moves); emit the marts Asset."""
        summary = transform.finish(raw, marts, run_id)
        outlet_events[MARTS_ASSET].extra = {"marts": summary["marts"], "upto_batch_id": raw["upto"]}
        return summary

    raw_gate = quality_raw()
    marts_gate = quality_marts()
    prepare_warehouse() >> raw_gate >> dbt >> marts_gate
    marts_gate >> apply_grants() >> publish_marts(raw_gate, marts_gate)


salesops_transform()
