"""The two quality gates of the transform: raw batches before dbt, key marts after it.

Each gate runs its suites as one GX checkpoint, books the outcome in
``ops.pipeline_runs`` (command ``quality_raw`` / ``quality_marts``), logs warnings, and
raises ``QualityGateError`` naming every failed critical expectation (relation, column,
what was expected, what was observed) so the task fails and nothing downstream runs.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import psycopg

from salesops import transform, warehouse
from salesops.quality import suites
from salesops.quality.runner import GateReport, Outcome, run_suites

log = logging.getLogger("salesops.quality")


class QualityGateError(RuntimeError):
    """A critical expectation failed; the message lists which, where and what was seen."""

    def __init__(self, report: GateReport, hint: str):
        self.report = report
        failures = "\n".join(f"  {o.line()}" for o in report.critical_failures)
        super().__init__(
            f"quality gate '{report.gate}' failed: {len(report.critical_failures)} critical "
            f"expectation(s) failed, downstream tasks stop:\n{failures}\n{hint}"
        )


def _book(url: str, report: GateReport, extra: dict) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "insert into ops.pipeline_runs (command, started_at, finished_at, status, summary)"
            " values (%s, now(), now(), %s, %s)",
            (f"quality_{report.gate}", "passed" if report.passed else "failed",
             json.dumps({**extra, **report.as_dict()}, default=str)),
        )


def _finish(url: str, report: GateReport, extra: dict, hint: str) -> dict:
    _book(url, report, extra)
    for outcome in report.warnings:
        log.warning("quality %s: %s", report.gate, outcome.line())
    for note in report.skipped:
        log.warning("quality %s: skipped %s", report.gate, note)
    if not report.passed:
        raise QualityGateError(report, hint)
    log.info("quality gate %s passed: %d checks, %d warnings", report.gate, len(report.outcomes),
             len(report.warnings))
    return {**extra, "summary": report.summary()}


def run_raw_gate(url: str | None = None) -> dict:
    """Validate the raw rows and batches loaded since the last successful transform."""
    url = warehouse.role_url(url or warehouse.ensure_running(), "transformer")
    with psycopg.connect(url) as conn:
        since, upto = transform.pending_batches(conn)
        tables = {r[0] for r in conn.execute(
            "select distinct raw_table from ops.ingestion_batches where status = 'loaded'"
            " and batch_id > %s and batch_id <= %s", (since, upto)).fetchall()}
    window = {"since": since, "upto": upto}
    if since >= upto:
        report = GateReport("raw", skipped=[f"no batches loaded after batch {since}"])
        return _finish(url, report, window, "")
    chosen = [s for s in suites.raw_suites() if s.relation in tables or s.relation.startswith("ops.")]
    report = run_suites("raw", url, chosen, window)
    hint = (f"The rows are in batches {since + 1}..{upto} (ops.ingestion_batches); fix the source "
            "files and load them again, or correct the contract, then rerun the transform.")
    return _finish(url, report, window, hint)


def _defined_models(project: Path) -> set[str]:
    return {p.stem for p in (project / "models").rglob("*.sql")}


def run_marts_gate(url: str | None = None) -> dict:
    """Validate the key marts. A mart the dbt project does not define (yet) is skipped."""
    from salesops.dbt_project import project_dir

    url = warehouse.role_url(url or warehouse.ensure_running(), "transformer")
    with psycopg.connect(url) as conn:
        existing = set(transform.mart_tables(conn))
    defined = _defined_models(project_dir())
    chosen, missing, skipped = [], [], []
    for spec in suites.mart_suites():
        table = spec.relation.split(".", 1)[1]
        if table in existing:
            chosen.append(spec)
        elif spec.dbt_model in defined:
            missing.append(Outcome(spec.name, spec.relation, "table_exists", None,
                                   "the mart exists after dbt ran", suites.CRITICAL, False,
                                   f"dbt model {spec.dbt_model} is defined but {spec.relation} is missing"))
        else:
            skipped.append(f"{spec.relation}: no dbt model {spec.dbt_model!r} in {project_dir()}")
    report = run_suites("marts", url, chosen)
    report.outcomes.extend(missing)
    report.skipped.extend(skipped)
    hint = ("Fix the model (dbt/models) or its inputs, then rerun the transform; until then BI "
            "keeps no access to the rebuilt marts and the marts Asset is not published.")
    return _finish(url, report, {}, hint)


def gate_task(gate: str) -> dict:
    """Run a gate inside an Airflow task: a failed gate fails the task for good (no retry:
    bad data does not get better by retrying)."""
    from airflow.sdk.exceptions import AirflowFailException

    try:
        return {"raw": run_raw_gate, "marts": run_marts_gate}[gate]()
    except QualityGateError as exc:
        raise AirflowFailException(str(exc)) from exc
