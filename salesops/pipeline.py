"""``salesops run``: prepare what the platform needs, run its DAGs, report per channel and mart.

The DAGs run in order through ``dag.test()``: ingestion, then the transform (GX gate on
the new raw batches → dbt → GX gate on the marts → grants). The transform runs only when
batches were loaded after the last successful transform (or it never succeeded): a
rerun with nothing new says so and leaves the marts as they are; ``salesops build``
rebuilds them on demand. Then the forecast (train the revenue forecast when due, score
every level into ``ml.revenue_forecasts``), when the marts' last month is not scored yet. Then
the payouts (the marts' last month under the commission plans in ``plans/``: lines, statements
and a payroll export under ``$SALESOPS_HOME/payouts/<month>``), when that month has no payout run
since the marts were built.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import psycopg

from salesops import airflow_runtime
from salesops.config import settings

PIPELINE_DAGS = ("salesops_ingest", "salesops_transform", "salesops_forecast", "salesops_payouts",
                 "salesops_report")


def _step(echo: Callable, number: int, total: int, text: str) -> float:
    echo(f"[{number}/{total}] {text}")
    return time.perf_counter()


def run_dag_quietly(dag_id: str, log_path: Path, progress: TextIO | None = None, conf: dict | None = None):
    """dag.test() logs every task line to stdout; keep them in a file, show the outcome.

    ``progress`` (the real stdout when None) gets the run's progress while it runs: tasks
    done of total and the running step, on one updating line in a terminal, plain lines
    otherwise (salesops.progress).
    """
    from salesops.progress import DagRunProgress

    log_path.parent.mkdir(parents=True, exist_ok=True)
    # dag.test() warns "No tasks to run" while tasks skipped by an empty mapping settle.
    logging.getLogger("airflow.sdk.definitions.dag").setLevel(logging.ERROR)
    # The watcher's producer logs dbt's warnings to the console, through the progress line;
    # the run's summary lists them instead (progress.dbt_flags).
    logging.getLogger("cosmos.operators._watcher.base").setLevel(logging.ERROR)
    buffer = io.StringIO()
    reporter = DagRunProgress(dag_id, progress or sys.stdout)
    with reporter, contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        try:
            dag_run = airflow_runtime.run_dag(dag_id, conf)
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


def run_pipeline(scale: float, maven_dir: Path | None, echo: Callable = print, retrain: bool = False) -> bool:
    """The whole pipeline; ``retrain``: the forecast DAG runs and retrains both models whether or
    not they are due (its conf ``{"retrain": true}``)."""
    from salesops.setup_warehouse import prepare
    from salesops.warehouse import redacted, role_url

    cfg = settings()
    total = 3 + len(PIPELINE_DAGS)
    started_at = datetime.now(UTC)
    t = _step(echo, 1, total, "warehouse: start and migrate")
    owner = prepare()
    # The run reads and books its summary with the transformer's privileges only.
    url = role_url(owner, "transformer")
    echo(f"      {redacted(url)} ({time.perf_counter() - t:.1f}s)")
    parsing = _start_manifest(url)

    t = _step(echo, 2, total, f"landing zone: {cfg.landing_uri}")
    _fill_landing_zone(cfg.landing_uri, scale, maven_dir, echo, t)
    # What the DAGs would do, asked the way they ask it: nothing to load and marts up to date
    # means no DAG has work, and Airflow is not even started.
    skip = {"salesops_ingest": _ingest_not_needed(owner, cfg.landing_uri),
            "salesops_transform": _transform_not_needed(url),
            "salesops_forecast": None if retrain else _forecast_not_needed(url, owner),
            "salesops_payouts": _payouts_not_needed(owner),
            "salesops_report": _report_not_needed(owner)}

    t = _step(echo, 3, total, "airflow: metadata database, dbt manifest and DAGs")
    bag = None
    if all(skip.values()):
        echo("      not started: no DAG has work (see below)")
    else:
        airflow_runtime.ensure_metadata_db()
        _refresh_manifest(echo, url, parsing)
        bag = airflow_runtime.dagbag(strict=False)
        echo(f"      {len(bag.dag_ids)} DAGs parsed from {airflow_runtime.DAGS_FOLDER} "
             f"({time.perf_counter() - t:.1f}s)")
        if errors := airflow_runtime.import_errors():
            echo(f"      DAG import errors (those DAGs will not run):\n{errors}")

    ok = True
    runs = {}
    for index, dag_id in enumerate(PIPELINE_DAGS, start=4):
        t = _step(echo, index, total, f"airflow: run DAG {dag_id} (dag.test)")
        if dag_id == "salesops_transform" and runs:  # the ingestion may have loaded something
            skip[dag_id] = _transform_not_needed(url)
        if dag_id == "salesops_forecast" and "salesops_transform" in runs:
            skip[dag_id] = ("the transform did not succeed: no marts to forecast from"
                            if runs["salesops_transform"].state != "success"
                            else None if retrain else _forecast_not_needed(url, owner))
        if dag_id == "salesops_payouts" and "salesops_transform" in runs:
            skip[dag_id] = ("the transform did not succeed: no marts to pay from"
                            if runs["salesops_transform"].state != "success" else _payouts_not_needed(owner))
        if dag_id == "salesops_report" and "salesops_transform" in runs:
            skip[dag_id] = ("the transform did not succeed: no marts to report on"
                            if runs["salesops_transform"].state != "success" else _report_not_needed(owner))
        elif dag_id == "salesops_report" and runs:
            skip[dag_id] = _report_not_needed(owner)
        if skip[dag_id]:
            echo(f"      skipped: {skip[dag_id]}")
            continue
        if dag_id not in bag.dag_ids:
            echo("      not run: its DAG file failed to import (see above)")
            ok = False
            continue
        log = cfg.home / "logs" / f"{dag_id}.log"
        conf = {"retrain": True} if retrain and dag_id == "salesops_forecast" else None
        dag_run = run_dag_quietly(dag_id, log, conf=conf)
        runs[dag_id] = dag_run
        states = {}
        for ti in dag_run.get_task_instances():
            states[ti.state] = states.get(ti.state, 0) + 1
        shown = ", ".join(f"{n} {s}" for s, n in sorted(states.items(), key=lambda x: str(x[0])))
        echo(f"      {dag_run.state}: {shown} ({time.perf_counter() - t:.1f}s; task log: {log})")
        failed = sorted(ti.task_id for ti in dag_run.get_task_instances() if ti.state == "failed")
        if failed:
            echo(f"      failed task(s): {', '.join(failed)}")
        if dag_id == "salesops_transform":
            _print_dbt_flags(dag_run.run_id, echo)
        if dag_id == "salesops_forecast":
            _print_forecasts(url, echo)
            _print_quota_loads(owner, started_at, echo)
        if dag_id == "salesops_payouts" and dag_run.state == "success":
            _print_payouts(owner, echo)
        if dag_id == "salesops_report":
            _print_reports(dag_run, echo)
        ok = ok and dag_run.state == "success"

    rows = batch_summary(url, started_at)
    _print_summary(rows, echo, cfg.landing_uri)
    transform = _print_marts(url, started_at, "salesops_transform" in runs, echo)
    _print_where_to_look(echo)
    _record_run(url, started_at, ok, rows, transform)
    if report := _latest_report():
        echo(f"\nReport: {report}")
    return ok


def _print_dbt_flags(run_id: str, echo: Callable) -> None:
    from salesops.progress import dbt_flags

    flags = dbt_flags("salesops_transform", run_id)
    warned = sum(f.startswith("WARN") for f in flags)
    for line in flags:
        echo(f"      {line}")
    if warned:
        echo(f"      {warned} dbt warning(s): flagged rows, kept in the marts and out of the totals they "
             "cannot count in (docs/data_quality.md)")


def _fill_landing_zone(landing: str, scale: float, maven_dir: Path | None, echo: Callable,
                       started: float) -> None:
    from ingestion.discovery import landing_is_empty

    if landing_is_empty(landing) and "://" in landing:
        echo("      empty: nothing to load (demo data is written to local landing folders only)")
    elif landing_is_empty(landing):
        from ingestion.demo import generate

        source = f"around the Maven export in {maven_dir}" if maven_dir else "with a synthetic CRM export"
        echo(f"      empty: generating demo data (scale {scale}) {source}")
        summary = generate(Path(landing), scale=scale, maven_dir=maven_dir)
        files = sum(v["files"] for v in summary.values())
        echo(f"      {files} files written ({time.perf_counter() - started:.1f}s)")
    else:
        echo("      has files: using them")


def _ingest_not_needed(owner_url: str, landing: str) -> str | None:
    """Why the ingestion DAG can be skipped (every landed file is already booked), or None."""
    from ingestion.discovery import new_files

    if new_files(owner_url, landing):
        return None
    return "every file in the landing zone was loaded before (ops.ingestion_batches)"


_MANIFEST_URL = "SALESOPS_MANIFEST_URL"  # the parse's warehouse URL, to its own process only


def _start_manifest(url: str):
    """Start ``dbt parse`` in a process of its own unless the manifest is fresh: it runs beside
    the demo data and Airflow's metadata DB (~5 s on the other core) and is waited for before the
    DAGs are parsed. The URL goes in its environment (readable by this user only), not argv."""
    import os
    import subprocess

    from salesops import transform

    if transform.fresh_manifest() is not None:
        return None
    code = ("import os, sys; from salesops.transform import ensure_manifest; "
            f"sys.exit(0 if ensure_manifest(os.environ.pop({_MANIFEST_URL!r})) else 1)")
    return subprocess.Popen([sys.executable, "-c", code], env={**os.environ, _MANIFEST_URL: url},
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _refresh_manifest(echo: Callable, url: str, parsing=None) -> None:
    """Write dbt's manifest so the transform DAG renders without running ``dbt ls`` (parsed with
    the warehouse's profile: the DAGs' dbt commands then parse only what changed). ``parsing``:
    the parse ``_start_manifest`` started, waited for here (done again in this process if it
    failed, which says why)."""
    from salesops import transform

    t = time.perf_counter()
    if parsing is not None:
        parsing.wait()
    if transform.fresh_manifest() is not None:
        if parsing is not None:
            echo(f"      dbt manifest written: {transform.manifest_path()} (parsed beside the steps "
                 f"above; waited {time.perf_counter() - t:.1f}s)")
        return
    if transform.ensure_manifest(url) is None:
        # The DAG then renders with `dbt ls`, which reports the same error as an import error.
        echo(f"      dbt parse failed in {transform.project_dir()}: the transform DAG renders with"
             " `dbt ls` and shows the error")
        return
    echo(f"      dbt manifest written: {transform.manifest_path()} ({time.perf_counter() - t:.1f}s)")


def _transform_not_needed(url: str) -> str | None:
    """Why the transform can be skipped (nothing new since its last success), or None."""
    from salesops import transform

    with psycopg.connect(url) as conn:
        since, upto = transform.pending_batches(conn)
        last = transform.last_transform(conn)
    if last is None or last["status"] != "success":
        return None
    if upto > since:
        return None
    return (f"nothing new was loaded since the last transform (raw batches up to {since} are in "
            f"the marts, built {last['finished_at']:%Y-%m-%d %H:%M}); `salesops build` rebuilds them")


def _forecast_not_needed(url: str, owner: str) -> str | None:
    """Why the forecast can be skipped (the marts' last month is already scored and no new targets
    file waits), or None."""
    with psycopg.connect(url) as conn:
        if conn.execute("select to_regclass('marts.rep_performance_monthly')").fetchone()[0] is None:
            return "no marts yet"
        last = conn.execute("select max(month) from marts.rep_performance_monthly").fetchone()[0]
        scored = conn.execute("select max(as_of_month) from ml.forecast_runs").fetchone()[0]
    if last is None:
        return "the marts hold no months yet"
    if scored is None or scored < last:
        return None
    from ml.forecast.quotas import TARGETS_FOLDER, new_target_files

    if new_target_files(owner, settings().landing_uri):
        return None  # finance dropped targets: the DAG splits them into quotas
    return (f"forecasts as of {scored:%Y-%m} (the marts' last month) are in ml.revenue_forecasts, and no "
            f"new file in {TARGETS_FOLDER}/; `salesops forecast train` / `score` run them on demand")


def _payouts_not_needed(owner_url: str) -> str | None:
    """Why the payouts can be skipped (the marts' last month was paid since they were built), or None."""
    from salesops import transform
    from salesops.warehouse import role_url

    with psycopg.connect(role_url(owner_url, "ml")) as conn:
        if conn.execute("select to_regclass('marts.fct_opportunities')").fetchone()[0] is None:
            return "no marts yet"
        last = conn.execute("select max(closed_date) from marts.fct_opportunities where is_won").fetchone()[0]
        paid = conn.execute("select period, ran_at from finance.payout_runs"
                            " order by run_id desc limit 1").fetchone()
    with psycopg.connect(role_url(owner_url, "transformer")) as conn:
        built = transform.last_transform(conn)
    if last is None:
        return "no won deals in the marts yet"
    if paid is None or paid[0] < last.replace(day=1) or (built and built["finished_at"] > paid[1]):
        return None
    return (f"{paid[0]:%Y-%m} (the marts' last month) was paid after the last build; `salesops payouts run "
            "--period YYYY-MM` reruns a month")


def _report_not_needed(owner_url: str) -> str | None:
    """Why the report can be skipped (the last closed month's reports were written after the marts,
    forecasts and payouts last changed), or None."""
    from salesops import transform
    from salesops.config import ensure_home
    from salesops.report.build import EDITIONS, pipeline_langs, report_path
    from salesops.report.data import last_closed_month
    from salesops.warehouse import role_url

    with psycopg.connect(role_url(owner_url, "ml")) as conn:
        if conn.execute("select to_regclass('marts.company_kpis_monthly')").fetchone()[0] is None:
            return "no marts yet"
        month = last_closed_month(conn)
        changed = conn.execute("select greatest((select max(ran_at) from finance.payout_runs),"
                               " (select max(scored_at) from ml.forecast_runs))").fetchone()[0]
    with psycopg.connect(role_url(owner_url, "transformer")) as conn:
        built = transform.last_transform(conn)
    if month is None:
        return "the marts hold no closed deals yet"
    times = [t for t in (changed, built and built["finished_at"]) if t is not None]
    inputs = max(times) if times else None
    paths = [report_path(ensure_home(), month, edition, lang, "html")
             for lang in pipeline_langs() for edition in EDITIONS]
    if inputs is None or not all(p.exists() and p.stat().st_mtime > inputs.timestamp() for p in paths):
        return None
    return f"the reports of {month:%Y-%m} are newer than their inputs; `salesops report` rewrites one"


def _print_reports(dag_run, echo: Callable) -> None:
    """Where the reports are (what the DAG's task returned)."""
    out = {}
    for ti in dag_run.get_task_instances():
        if ti.task_id == "write_reports" and ti.state == "success":
            out = ti.xcom_pull(task_ids="write_reports") or {}
    for path in out.get("reports", []):
        echo(f"      report: {path}")
    for note in out.get("notes", []):
        echo(f"      note: {note}")


def _latest_report():
    """The newest sales report in English (else any language) under $SALESOPS_HOME/reports."""
    from salesops.config import ensure_home

    found = sorted((ensure_home() / "reports").glob("*/report-sales-*.html"),
                   key=lambda p: (p.parent.name, p.name == "report-sales-en.html"))
    return found[-1] if found else None


def _print_payouts(owner_url: str, echo: Callable) -> None:
    """The month's payout run and where its statements are."""
    from salesops.config import ensure_home
    from salesops.warehouse import role_url

    with psycopg.connect(role_url(owner_url, "ml")) as conn:
        row = conn.execute("select r.run_id, r.period, r.payable, count(s.rep_name)"
                           " from finance.payout_runs as r join finance.payout_statements as s using (run_id)"
                           " group by r.run_id order by r.run_id desc limit 1").fetchone()
        accrual = row and conn.execute(
            "select to_char(period, 'YYYY-MM'), sum(expected_commission), sum(open_deals)"
            " from finance.payout_projections where run_id = %s group by period", (row[0],)).fetchone()
    if row is None:
        echo("      no payout run (see the task log)")
        return
    folder = ensure_home() / "payouts" / f"{row[1]:%Y-%m}"
    echo(f"      payout run {row[0]} for {row[1]:%Y-%m}: {row[3]} statements, payable {row[2]:,.2f} USD")
    if accrual:
        echo(f"      accrual for {accrual[0]}: {accrual[1]:,.2f} USD expected on {accrual[2]:,} open deals "
             "(finance.payout_projections)")
    echo(f"      statements: {folder} (payroll.csv and one statement per rep; "
         f"`salesops payouts explain --rep NAME --period {row[1]:%Y-%m}`)")


def _print_quota_loads(owner: str, since: datetime, echo: Callable) -> None:
    """The target files the forecast DAG split into quotas during this run."""
    with psycopg.connect(owner) as conn:
        loads = conn.execute("select source_file, quotas, targets from finance.quota_loads"
                             " where loaded_at >= %s order by load_id", (since,)).fetchall()
    for source, quotas, targets in loads:
        echo(f"      finance.quotas: {Path(source).name}: {targets:,} target(s) split into {quotas:,} rep "
             "quotas (docs/quotas.md)")


def _print_forecasts(url: str, echo: Callable) -> None:
    """The champion with its backtest scores, and what the scoring wrote."""
    from ml.forecast.registry import MODEL_NAME, champion_summary

    champion = champion_summary()
    if champion is None:
        echo("      no champion model (see the task log)")
        return
    ratio = lambda other: (f"{champion['mase_chosen'] / champion[other]:.2f}x"  # noqa: E731
                           if champion.get(other) else "n/a")
    echo(f"      champion {MODEL_NAME} v{champion['version']}: backtest MASE {champion['mase_chosen']:.3f} "
         f"({ratio('mase_seasonal_naive')} seasonal naive, {ratio('mase_ets')} ETS), 80% interval "
         f"coverage {champion['coverage_80_chosen']:.0%}")
    from ml.forecast.registry import WIN_MODEL

    win = champion_summary(WIN_MODEL)
    if win is not None:
        echo(f"      champion {WIN_MODEL} v{win['version']}: holdout AUC {win['auc_model']:.3f}, Brier "
             f"{win['brier_model']:.4f} (historical win rate by stage and product: AUC "
             f"{win['auc_baseline']:.3f}, Brier {win['brier_baseline']:.4f})")
    with psycopg.connect(url) as conn:
        row = conn.execute("select as_of_month, rows_written, series from ml.forecast_runs"
                           " order by scored_at desc limit 1").fetchone()
        scores = conn.execute("select as_of_date, count(*) from ml.opportunity_scores"
                              " group by 1 order by 1 desc limit 1").fetchone()
    if row and row[1]:
        echo(f"      ml.revenue_forecasts: {row[1]:,} rows for {row[2]:,} series as of {row[0]:%Y-%m}")
    elif row:
        echo(f"      ml.revenue_forecasts: {row[2]:,} series as of {row[0]:%Y-%m} were already scored (kept)")
    if scores:
        echo(f"      ml.opportunity_scores: {scores[1]:,} open opportunities scored as of "
             f"{scores[0]:%Y-%m-%d}")


def _print_marts(url: str, started_at: datetime, ran: bool, echo: Callable) -> dict:
    """A line per mart (rows) and per quality gate of this run; returns them for the audit row."""
    from salesops import transform

    with psycopg.connect(url) as conn:
        marts = transform.mart_row_counts(conn)
        gates = conn.execute(
            "select command, status, summary from ops.pipeline_runs where started_at >= %s"
            " and command like 'quality_%%' order by run_id", (started_at,)).fetchall()
    if not ran and not marts:
        return {}
    echo("")
    if marts:
        header = f"{'mart':32} {'rows':>12}"
        echo(header)
        echo("-" * len(header))
        for name, count in marts.items():
            echo(f"{name:32} {count:>12,}")
    else:
        echo("No marts in the warehouse yet.")
    result = {"marts": marts, "gates": {}}
    for command, status, summary in gates:
        summary = summary.get("summary", {}) if summary else {}
        gate = command.removeprefix("quality_")
        warnings = summary.get("warnings", [])
        skipped = summary.get("skipped", [])
        echo(f"quality gate {gate:6} {status.upper()}: {summary.get('checks', 0)} checks, "
             f"{len(summary.get('failed_critical', []))} critical failures, {len(warnings)} warnings"
             + (f", {len(skipped)} skipped" if skipped else ""))
        for line in summary.get("failed_critical", []) + warnings:
            echo(f"    {line}")
        result["gates"][gate] = status
    return result


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


def _print_where_to_look(echo: Callable) -> None:
    echo("")
    echo("Where to look:")
    echo("  batches:   select * from ops.ingestion_batches order by batch_id desc;")
    echo("  rejects:   select source_file, row_number, reason from ops.rejected_rows;")
    echo("  raw data:  schema raw (one table per channel entity);  psql \"$(salesops warehouse url)\"")
    echo("  marts:     schema marts (BI: bi_reader, personal data masked in *_masked views);"
         " docs: salesops docs")
    echo("  quality:   select command, status, summary from ops.pipeline_runs"
         " where command like 'quality_%' order by run_id desc;")
    echo("  payouts:   salesops payouts explain --rep NAME --period YYYY-MM;  salesops payouts lock"
         " --period YYYY-MM (finance, after review); docs/payouts.md")


def _record_run(url: str, started_at: datetime, ok: bool, rows, transform: dict | None = None) -> None:
    summary = {r[0]: {"files": r[1], "failed": r[2], "rows_in": r[3], "rows_loaded": r[4],
                      "rows_rejected": r[5]} for r in rows}
    if transform:
        summary["_transform"] = transform
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into ops.pipeline_runs (command, started_at, finished_at, status, summary)"
            " values ('salesops run', %s, now(), %s, %s)",
            (started_at, "success" if ok else "failed", json.dumps(summary)),
        )
