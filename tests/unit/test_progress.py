"""How a DAG run's progress is shown: one line rewritten in a terminal, plain lines when piped.

The snapshots themselves come from a real DAG run in tests/e2e/test_transform_dag.py.
"""

from __future__ import annotations

import io

import pytest

from salesops import progress
from salesops.benchmark_run import transform_dag_seconds
from salesops.progress import DagRunProgress, Snapshot

BUILDING = Snapshot(done=12, total=118, failed=0, running=("dbt.dbt_producer_watcher",), dbt_nodes=(212, 420))


def test_a_snapshot_reads_as_tasks_done_the_build_and_the_running_task():
    assert BUILDING.line(34.4) == ("      12/118 tasks done · dbt build 212/420 nodes"
                                   " · running dbt.dbt_producer_watcher (34s)")
    failed = Snapshot(done=5, total=9, failed=2, running=())
    assert failed.line(3) == "      5/9 tasks done (2 failed) (3s)"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture()
def clock(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    return now


def _reporter(out, clock) -> DagRunProgress:
    reporter = DagRunProgress("salesops_transform", out, plain_every=10.0)
    reporter._started = clock[0]
    return reporter


def test_piped_it_writes_a_plain_line_when_something_changed_at_most_every_ten_seconds(clock):
    out = io.StringIO()
    reporter = _reporter(out, clock)
    later = Snapshot(done=13, total=118, failed=0, running=BUILDING.running, dbt_nodes=(300, 420))
    for seconds, snap in [(1, BUILDING), (5, later), (12, later), (13, BUILDING), (30, BUILDING)]:
        clock[0] = 100.0 + seconds
        reporter._show(snap)
    lines = out.getvalue().splitlines()
    assert lines == [BUILDING.line(1), later.line(12), BUILDING.line(30)]
    assert "\r" not in out.getvalue()


def test_in_a_terminal_it_rewrites_one_line_and_clears_it_at_the_end(clock):
    out = _Terminal()
    reporter = _reporter(out, clock)
    short = Snapshot(done=117, total=118, failed=0, running=("publish_marts",))
    for seconds, snap in [(1, BUILDING), (2, short)]:
        clock[0] = 100.0 + seconds
        reporter._show(snap)
    reporter._stop.set()
    reporter.__exit__(None, None, None)
    shown = out.getvalue()
    assert "\n" not in shown
    frames = shown.split("\r")[1:]
    width = len(BUILDING.line(1))
    assert frames[0] == BUILDING.line(1)
    assert frames[1] == short.line(2).ljust(width)  # the longer line before it is overwritten
    assert frames[2:] == [" " * width, ""]  # and the line is cleared for what follows


def test_the_benchmark_reads_the_transform_dags_time_from_the_runs_output():
    output = ("[4/5] airflow: run DAG salesops_ingest (dag.test)\n"
              "      success: 32 success (28.2s; task log: /h/logs/salesops_ingest.log)\n"
              "[5/5] airflow: run DAG salesops_transform (dag.test)\n"
              "      success: 118 success (97.4s; task log: /h/logs/salesops_transform.log)\n")
    assert transform_dag_seconds(output) == 97.4
    with pytest.raises(ValueError, match="no transform DAG time"):
        transform_dag_seconds(output.split("[5/5]")[0])


def test_the_first_run_is_timed_to_the_end_of_the_transform_whatever_dags_follow():
    from salesops.benchmark_run import to_end_of_transform

    dags = [("ingest", 16.3), ("transform", 48.6), ("forecast", 25.5), ("payouts", 1.1), ("report", 4.4)]
    output = "".join(
        f"[{n}/8] airflow: run DAG salesops_{dag} (dag.test)\n"
        f"      success: 3 success ({seconds}s; task log: /h/logs/salesops_{dag}.log)\n"
        for n, (dag, seconds) in enumerate(dags, start=4)
    )
    assert to_end_of_transform(117.0, output) == pytest.approx(117.0 - 25.5 - 1.1 - 4.4)
    # a DAG that did not run (its step absent from the output) takes nothing off
    assert to_end_of_transform(117.0, output.split("[8/8]")[0]) == pytest.approx(117.0 - 25.5 - 1.1)
