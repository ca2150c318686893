"""``salesops benchmark run``: the whole first run from an empty home, and the transform DAG
against a plain ``dbt build`` of the same data, measured in one run.

Each step is the real command in a fresh process, on a scratch ``SALESOPS_HOME`` (its own
embedded warehouse, Airflow metadata DB and demo landing zone), removed afterwards:

1. ``salesops run``: everything a newcomer's first command does (warehouse, migrations,
   Airflow's metadata DB, the dbt manifest, DAG parse, demo data, the ingestion DAG, the
   transform DAG with its quality gates), timed to the end of the transform (the times of the
   DAGs after it, from the output, are taken off). Its output gives the transform DAG's time.
2. ``salesops run`` again: nothing new, so the transform is skipped.
3. The reference: ``salesops build --full-refresh`` on the same warehouse, i.e. one plain
   ``dbt build`` that, like the DAG's first build, builds every model from scratch and runs
   every test, then applies the reader grants.

The ratio is the transform DAG's time over the reference's.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

TARGETS = {"ratio": 1.5, "first_run_s": 100.0, "rerun_s": 15.0}
_DAG_TIME = r"run DAG {dag}.*?\n\s+\w+: .*?\((\d+(?:\.\d+)?)s; task log"


def _salesops(args: list[str], home: Path, echo: Callable) -> tuple[float, str]:
    env = {**os.environ, "SALESOPS_HOME": str(home)}
    for key in ("SALESOPS_WAREHOUSE_URL", "SALESOPS_LANDING_URI"):
        env.pop(key, None)  # the scratch home's own embedded warehouse and landing zone
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "salesops.cli", *args], env=env, capture_output=True,
                          text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        said = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        raise RuntimeError(f"salesops {' '.join(args)} failed in the benchmark's scratch home {home} "
                           f"(exit {done.returncode}): {said[-1] if said else 'no output'}")
    echo(f"salesops {' '.join(args)}: {seconds:.1f}s")
    return seconds, done.stdout


def transform_dag_seconds(run_output: str) -> float:
    """The transform DAG's time in ``salesops run``'s output ("success: ... (118.2s; task log")."""
    return dag_seconds(run_output, "salesops_transform")


def dag_seconds(run_output: str, dag_id: str) -> float:
    match = re.search(_DAG_TIME.format(dag=dag_id), run_output, re.S)
    if match is None:
        raise ValueError(f"the run's output shows no {dag_id.removeprefix('salesops_')} DAG time")
    return float(match[1])


def to_end_of_transform(seconds: float, run_output: str) -> float:
    """The first run's time to the end of the transform: the DAGs after it are taken off (the
    summary printed at the end, well under a second, stays in)."""
    from salesops.pipeline import PIPELINE_DAGS

    after = PIPELINE_DAGS[PIPELINE_DAGS.index("salesops_transform") + 1:]
    return seconds - sum(dag_seconds(run_output, d) for d in after if f"run DAG {d} " in run_output)


def run_run_benchmark(scale: float, output: Path | None, echo: Callable = print) -> dict:
    home = Path(tempfile.mkdtemp(prefix="salesops-bench-run-"))
    try:
        first, out = _salesops(["run", "--scale", str(scale)], home, echo)
        dag = transform_dag_seconds(out)
        first = to_end_of_transform(first, out)
        rerun, _ = _salesops(["run", "--scale", str(scale)], home, echo)
        build, _ = _salesops(["build", "--full-refresh"], home, echo)
    finally:
        subprocess.run([sys.executable, "-m", "salesops.cli", "warehouse", "stop"], check=False,
                       env={**os.environ, "SALESOPS_HOME": str(home)}, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)
    outcome = {"scale": scale, "first_run_s": first, "dag_s": dag, "build_s": build,
               "ratio": dag / build, "rerun_s": rerun}
    echo(f"transform DAG {dag:.1f}s / salesops build --full-refresh {build:.1f}s = "
         f"{outcome['ratio']:.2f}x (target <= {TARGETS['ratio']}x)")
    echo(f"first salesops run {first:.1f}s (target <= {TARGETS['first_run_s']:.0f}s); "
         f"rerun {rerun:.1f}s (target <= {TARGETS['rerun_s']:.0f}s)")
    if output:
        _append_markdown(output, outcome)
    return outcome


RESULTS_MARK = "<!-- run results: salesops benchmark run --output inserts runs above this line -->"


def _append_markdown(output: Path, o: dict) -> None:
    from salesops.benchmark import append_rows

    header = ("| date | machine | scale | first salesops run s | transform DAG s "
              "| salesops build --full-refresh s | DAG / build | rerun s |\n"
              "|---|---|---:|---:|---:|---:|---:|---:|")
    append_rows(output, RESULTS_MARK, header, [
        f"| {datetime.now(UTC):%Y-%m-%d %H:%M} | {platform.machine()} {os.cpu_count()} cores "
        f"| {o['scale']:g} | {o['first_run_s']:.1f} | {o['dag_s']:.1f} | {o['build_s']:.1f} "
        f"| {o['ratio']:.2f}x | {o['rerun_s']:.1f} |"])
