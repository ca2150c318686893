"""``salesops run``: prepare what the platform needs, run its DAGs, report per channel."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from salesops import airflow_runtime
from salesops.config import settings

PIPELINE_DAGS = ("salesops_ingest",)


def _step(echo: Callable, number: int, total: int, text: str) -> float:
    echo(f"[{number}/{total}] {text}")
    return time.perf_counter()


def run_dag_quietly(dag_id: str, log_path: Path):
    """dag.test() logs every task line to stdout; keep them in a file, show the outcome."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # dag.test() warns "No tasks to run" while tasks skipped by an empty mapping settle.
    logging.getLogger("airflow.sdk.definitions.dag").setLevel(logging.ERROR)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        try:
            dag_run = airflow_runtime.run_dag(dag_id)
        finally:
            log_path.write_text(buffer.getvalue())
    return dag_run


def batch_summary(url: str, since: datetime) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select channel, count(*) filter (where status = 'loaded'),"
            " count(*) filter (where status = 'failed'),"
            " coalesce(sum(rows_in), 0)::bigint, coalesce(sum(rows_loaded), 0)::bigint,"
            " coalesce(sum(rows_rejected), 0)::bigint"
            " from ops.ingestion_batches where started_at >= %s group by channel order by channel",
            (since,),
        ).fetchall()


def run_pipeline(scale: float, maven_dir: Path | None, echo: Callable = print) -> bool:
    from ingestion.discovery import landing_is_empty
    from salesops.setup_warehouse import prepare

    cfg = settings()
    total = 3 + len(PIPELINE_DAGS)
    started_at = datetime.now(UTC)
    t = _step(echo, 1, total, "warehouse: start and migrate")
    url = prepare()
    echo(f"      {url} ({time.perf_counter() - t:.1f}s)")

    t = _step(echo, 2, total, "airflow: metadata database and DAGs")
    airflow_runtime.ensure_metadata_db()
    bag = airflow_runtime.dagbag()
    echo(f"      {len(bag.dag_ids)} DAGs parsed from {airflow_runtime.DAGS_FOLDER} "
         f"({time.perf_counter() - t:.1f}s)")

    t = _step(echo, 3, total, f"landing zone: {cfg.landing_uri}")
    if landing_is_empty(cfg.landing_uri):
        from ingestion.demo import generate

        source = f"around the Maven export in {maven_dir}" if maven_dir else "with a synthetic CRM export"
        echo(f"      empty: generating demo data (scale {scale}) {source}")
        summary = generate(Path(cfg.landing_uri), scale=scale, maven_dir=maven_dir)
        files = sum(v["files"] for v in summary.values())
        echo(f"      {files} files written ({time.perf_counter() - t:.1f}s)")
    else:
        echo("      has files: using them")

    ok = True
    for index, dag_id in enumerate(PIPELINE_DAGS, start=4):
        t = _step(echo, index, total, f"airflow: run DAG {dag_id} (dag.test)")
        log = cfg.home / "logs" / f"{dag_id}.log"
        dag_run = run_dag_quietly(dag_id, log)
        states = {}
        for ti in dag_run.get_task_instances():
            states[ti.state] = states.get(ti.state, 0) + 1
        shown = ", ".join(f"{n} {s}" for s, n in sorted(states.items(), key=lambda x: str(x[0])))
        echo(f"      {dag_run.state}: {shown} ({time.perf_counter() - t:.1f}s; task log: {log})")
        ok = ok and dag_run.state == "success"

    rows = batch_summary(url, started_at)
    _print_summary(rows, echo, cfg.landing_uri)
    _record_run(url, started_at, ok, rows)
    return ok


def _print_summary(rows, echo: Callable, landing: str) -> None:
    echo("")
    if not rows:
        echo(f"Nothing new to load: every file in {landing} was already loaded.")
    else:
        header = f"{'channel':18} {'files':>6} {'failed':>6} {'rows in':>12} {'loaded':>12} {'rejected':>9}"
        echo(header)
        echo("-" * len(header))
        for channel, files, failed, rows_in, loaded, rejected in rows:
            echo(f"{channel:18} {files:>6} {failed:>6} {rows_in:>12,} {loaded:>12,} {rejected:>9,}")
    echo("")
    echo("Where to look:")
    echo("  batches:   select * from ops.ingestion_batches order by batch_id desc;")
    echo("  rejects:   select source_file, row_number, reason from ops.rejected_rows;")
    echo("  raw data:  schema raw (one table per channel entity);  psql \"$(salesops warehouse url)\"")


def _record_run(url: str, started_at: datetime, ok: bool, rows) -> None:
    summary = {r[0]: {"files": r[1], "failed": r[2], "rows_in": r[3], "rows_loaded": r[4],
                      "rows_rejected": r[5]} for r in rows}
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into ops.pipeline_runs (command, started_at, finished_at, status, summary)"
            " values ('salesops run', %s, now(), %s, %s)",
            (started_at, "success" if ok else "failed", json.dumps(summary)),
        )
