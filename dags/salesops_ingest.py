"""Ingestion: discover new files in each channel's landing folder, load them, publish Assets.

Wiring only: discovery and loading live in the ``ingestion`` package. One mapped task per
file (dynamic task mapping); one publish task per channel emits that channel's raw Asset
when something was loaded, which is what the transform DAG is scheduled on.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from salesops.assets import RAW_ASSETS


@dag(
    dag_id="salesops_ingest",
    schedule="@hourly",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["salesops", "ingestion"],
    doc_md=__doc__,
)
def salesops_ingest():
    @task
    def prepare_warehouse() -> None:
        from salesops.setup_warehouse import prepare

        prepare()

    @task
    def discover_files() -> list[dict]:
        from ingestion.discovery import new_files

        return new_files()

    @task(map_index_template="{{ task.op_kwargs['file']['path'] }}", retries=1)
    def load_file(file: dict) -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from ingestion.discovery import load_landing_file
        from ingestion.errors import IngestionError

        try:
            return load_landing_file(file)
        except IngestionError as exc:  # a refused file will not become valid by retrying
            raise AirflowFailException(str(exc)) from exc

    @task
    def all_files_loaded(loaded: list[dict]) -> int:
        """Runs only when every file loaded: a refused file fails the DAG run (publishing still happens)."""
        return len(loaded)

    files = discover_files()
    prepare_warehouse() >> files
    results = load_file.expand(file=files)
    all_files_loaded(results)

    def publish(channel: str, asset: Asset):
        @task(task_id=f"publish_{channel}", outlets=[asset], trigger_rule="all_done")
        def _publish(loaded: list[dict], *, outlet_events=None) -> dict:
            from airflow.sdk.exceptions import AirflowSkipException

            from ingestion.discovery import channel_summary

            summary = channel_summary(loaded, channel)
            if summary is None:
                raise AirflowSkipException(f"no new {channel} files")
            outlet_events[asset].extra = summary
            return summary

        return _publish(results)

    for channel, asset in RAW_ASSETS.items():
        publish(channel, asset)


salesops_ingest()
