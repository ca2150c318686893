"""Transform benchmark: a full dbt build, then an incremental one after a 1% delta.

Everything runs in a scratch database that is dropped afterwards: demo data at ``scale``
(100 = 1M leads, 10M activities) is ingested and built from scratch (``dbt build
--full-refresh``); then a delta of ``delta_scale`` (1 = 1% of scale 100) is ingested and
``dbt build`` runs again, processing only the new batches in the incremental models. The
delta's leads and activities are new records (new ids) on the same CRM: some of its people
are already known, its activities also land on existing opportunities.
The result is the ratio of the two build times, measured in the same run.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

BENCH_DB = "salesops_bench_dbt"


def _ingest_landing(url: str, landing: Path) -> tuple[int, float]:
    from ingestion.contracts import channels
    from ingestion.loader import ingest_path

    started, rows = time.perf_counter(), 0
    for channel in channels():
        folder = landing / channel
        if folder.is_dir():
            rows += sum(r.rows_loaded for r in ingest_path(url, channel, str(folder)))
    return rows, time.perf_counter() - started


def _timed_build(url: str, args: list[str], echo: Callable | None = None) -> float:
    from salesops.dbt_project import run_dbt

    started = time.perf_counter()
    result = run_dbt(args, url)
    seconds = time.perf_counter() - started
    if echo:
        _echo_slowest(result, echo)
    return seconds


def _echo_slowest(result, echo: Callable, top: int = 8) -> None:
    """Where the build's time went: node time by kind, then the slowest nodes."""
    nodes = [(r.execution_time, r.node.resource_type, r.node.name) for r in result.result.results]
    by_kind: dict[str, float] = {}
    for seconds, kind, _ in nodes:
        by_kind[kind] = by_kind.get(kind, 0.0) + seconds
    echo("  node time by kind: " + ", ".join(f"{k} {v:.1f}s" for k, v in sorted(by_kind.items())))
    for seconds, kind, name in sorted(nodes, reverse=True)[:top]:
        echo(f"  {seconds:6.2f}s  {kind} {name}")


def run_transform_benchmark(scale: float, delta_scale: float, output: Path | None,
                            echo: Callable = print) -> dict:
    from ingestion.demo import generate
    from salesops.benchmark import scratch_database
    from salesops.config import maven_export_dir

    with scratch_database(BENCH_DB) as url, tempfile.TemporaryDirectory() as tmp:
        landing, delta = Path(tmp) / "landing", Path(tmp) / "delta"
        generate(landing, scale=scale, seed=42, maven_dir=maven_export_dir())
        rows, seconds = _ingest_landing(url, landing)
        echo(f"ingested {rows:,} rows at scale {scale} in {seconds:.0f}s")
        full = _timed_build(url, ["build", "--full-refresh"])
        echo(f"full build: {full:.1f}s")
        generate(delta, scale=delta_scale, seed=4242, maven_dir=maven_export_dir(),
                 id_offset=DELTA_ID_OFFSET)
        _keep_incremental_channels(delta)
        delta_rows, seconds = _ingest_landing(url, delta)
        echo(f"ingested a delta of {delta_rows:,} rows in {seconds:.0f}s")
        incremental = _timed_build(url, ["build"], echo)
        echo(f"incremental build: {incremental:.1f}s")
    outcome = {"scale": scale, "rows": rows, "delta_rows": delta_rows, "full_s": full,
               "incremental_s": incremental, "ratio": incremental / full}
    echo(f"incremental / full = {outcome['ratio']:.1%} (target <= 10%)")
    if output:
        _append_markdown(output, outcome)
    return outcome


DELTA_CHANNELS = ("web_forms", "marketing_events", "referrals", "ad_leads", "activities")
# The delta's leads and activities are new records: their running ids start beyond any
# base's (scale 100 numbers activities up to ~10M). Without the offset the generator would
# re-use the base's ids and the "delta" would overwrite 1% of old rows with other people.
DELTA_ID_OFFSET = 1_000_000_000


def _keep_incremental_channels(delta: Path) -> None:
    """A delta is new leads and activities; the CRM export, orders and surveys are unchanged."""
    import shutil

    for folder in delta.iterdir():
        if folder.name not in DELTA_CHANNELS:
            shutil.rmtree(folder)


def _append_markdown(output: Path, o: dict) -> None:
    new = not output.exists() or "| full build s |" not in output.read_text()
    with output.open("a", encoding="utf-8") as handle:
        if new:
            handle.write("\n| date | machine | scale | rows | delta | delta rows | full build s "
                         "| incremental s | incremental / full |\n"
                         "|---|---|---:|---:|---|---:|---:|---:|---:|\n")
        handle.write(f"| {datetime.now(UTC):%Y-%m-%d} | {platform.machine()} {os.cpu_count()} cores | "
                     f"{o['scale']:g} | {o['rows']:,} | new records | {o['delta_rows']:,} | "
                     f"{o['full_s']:.1f} | {o['incremental_s']:.1f} | {o['ratio']:.1%} |\n")
