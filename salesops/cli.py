"""The ``salesops`` command line: warehouse, ingestion, demo data, the whole run, benchmarks."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from salesops.config import apply_offline_env, maven_export_dir, settings


@click.group()
def main() -> None:
    """salesops: CRM sales data platform (ingestion, warehouse, marts, forecasts)."""
    apply_offline_env()


# --- warehouse ---------------------------------------------------------------------------------

@main.group()
def warehouse() -> None:
    """The PostgreSQL warehouse (embedded by default, or SALESOPS_WAREHOUSE_URL)."""


@warehouse.command("start")
def warehouse_start() -> None:
    """Start the embedded server (if used) and apply migrations."""
    from salesops.setup_warehouse import prepare

    url = prepare()
    click.echo(f"warehouse ready: {url}")


@warehouse.command("stop")
def warehouse_stop() -> None:
    """Stop the embedded server."""
    from salesops import warehouse as wh

    cfg = settings()
    if not cfg.embedded:
        click.echo("SALESOPS_WAREHOUSE_URL is set: the external warehouse is not ours to stop")
        return
    stopped = wh.embedded(cfg).stop()
    click.echo("warehouse stopped" if stopped else "warehouse was not running")


@warehouse.command("status")
def warehouse_status() -> None:
    """Say whether the warehouse runs, and where."""
    from salesops import warehouse as wh

    state = wh.status()
    click.echo(state.detail + (f"\nurl: {state.url}" if state.url else ""))
    sys.exit(0 if state.running else 3)


@warehouse.command("url")
def warehouse_url() -> None:
    """Print a libpq URL (for psql, dbt, BI tools); starts the embedded server if needed."""
    from salesops import warehouse as wh

    click.echo(wh.ensure_running())


# --- ingestion ---------------------------------------------------------------------------------

@main.command("channels")
def list_channels() -> None:
    """List the channels, their entities, raw tables and presets."""
    from ingestion.contracts import channels, contract, presets

    for name in channels():
        chan = contract(name)
        click.echo(f"{name}: {chan.description}")
        click.echo(f"  formats: {', '.join(chan.formats)}")
        for entity in chan.entities:
            required = ", ".join(entity.required)
            click.echo(f"  {entity.entity} -> {entity.qualified_table} (required: {required})")
        for preset in presets(name):
            click.echo(f"  preset {preset.name}: {', '.join(preset.entities)}")


def _print_results(results) -> None:
    for r in results:
        if r.status == "loaded":
            click.echo(f"loaded   {r.source_file}: {r.rows_in} rows in, {r.rows_loaded} loaded into "
                       f"{r.raw_table}, {r.rows_rejected} rejected (batch {r.batch_id}; {r.message})")
        elif r.status == "skipped":
            click.echo(f"skipped  {r.source_file}: {r.message}")
        else:
            click.echo(f"FAILED   {r.message}", err=True)


@main.command("ingest")
@click.argument("channel")
@click.argument("path")
@click.option("--preset", help="Column-mapping preset (crm_export); detected from headers if omitted.")
def ingest(channel: str, path: str, preset: str | None) -> None:
    """Load a file, or every file of a folder, of CHANNEL into the warehouse."""
    from ingestion.contracts import channels
    from ingestion.loader import ingest_path
    from salesops.setup_warehouse import prepare

    if channel not in channels():
        raise click.BadParameter(f"unknown channel {channel!r}; one of {', '.join(channels())}")
    url = prepare()
    try:
        results = ingest_path(url, channel, path, preset)
    except (FileNotFoundError, KeyError) as exc:
        raise click.ClickException(str(exc)) from exc
    if not results:
        raise click.ClickException(f"{path}: no data files (.csv, .tsv, .xlsx, .jsonl) found")
    _print_results(results)
    rejected = sum(r.rows_rejected for r in results)
    if rejected:
        click.echo(f"{rejected} rejected rows with reasons: select * from ops.rejected_rows "
                   f"where batch_id in ({', '.join(str(r.batch_id) for r in results if r.rows_rejected)})")
    if any(r.status == "failed" for r in results):
        sys.exit(1)


# --- demo data ---------------------------------------------------------------------------------

@main.command("demo-data")
@click.option("--scale", default=1.0, show_default=True,
              help="1 = ~10k leads and ~100k activities; 100 = 1M leads and 10M activities.")
@click.option("--seed", default=42, show_default=True)
@click.option("--landing", type=click.Path(file_okay=False, path_type=Path),
              help="Landing folder to write into (default: the configured landing zone).")
@click.option("--maven", "maven_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="The Maven CRM export to build around (default: ../shared/datasets/maven_crm if present).")
def demo_data(scale: float, seed: int, landing: Path | None, maven_dir: Path | None) -> None:
    """Generate deterministic, realistically messy files for every channel."""
    from ingestion.demo import generate

    target = landing or Path(settings().landing_uri)
    maven_dir = maven_dir or maven_export_dir()
    started = time.perf_counter()
    summary = generate(target, scale=scale, seed=seed, maven_dir=maven_dir)
    for channel, info in summary.items():
        click.echo(f"{channel:18} {info['files']:4} files {info['rows']:>12,} rows")
    source = f"around the Maven export in {maven_dir}" if maven_dir else "with a synthetic CRM export"
    click.echo(f"wrote {target} {source} in {time.perf_counter() - started:.1f}s")


# --- the whole platform ------------------------------------------------------------------------

@main.command("run")
@click.option("--scale", default=1.0, show_default=True, help="Demo-data scale if the landing zone is empty.")
def run(scale: float) -> None:
    """Prepare everything and run the pipeline through Airflow (dag.test)."""
    from salesops.pipeline import run_pipeline

    ok = run_pipeline(scale=scale, maven_dir=maven_export_dir(), echo=click.echo)
    sys.exit(0 if ok else 1)


# --- user reference data: stage map and currency rates ------------------------------------------

def _load_reference(loader, path: Path, replace: bool) -> None:
    from salesops.reference import ReferenceFileError
    from salesops.setup_warehouse import prepare

    url = prepare()
    try:
        result = loader(url, path, replace=replace)
    except ReferenceFileError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(result.line())
    click.echo("the next `salesops build` uses them")


_REPLACE = click.option("--replace", is_flag=True,
                        help="Remove the rows the file does not list (default: add and update only).")


@main.group()
def stages() -> None:
    """Your CRM's pipeline stages: what each custom stage means (won, lost, open)."""


@stages.command("load")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_REPLACE
def stages_load(file: Path, replace: bool) -> None:
    """Load a stage map CSV: raw_stage,stage_semantics(won|lost|open)[,stage_order]."""
    from salesops.reference import load_stage_map

    _load_reference(load_stage_map, file, replace)


@main.group()
def rates() -> None:
    """Currency rates to US dollars, by month, used over the built-in averages."""


@rates.command("load")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_REPLACE
def rates_load(file: Path, replace: bool) -> None:
    """Load a rates CSV: currency,month(YYYY-MM),usd_per_unit."""
    from salesops.reference import load_rates

    _load_reference(load_rates, file, replace)


# --- dbt: build and docs -------------------------------------------------------------------------

@main.command("build")
@click.option("--select", "-s", "select", help="dbt node selection, e.g. 'marts' or '+fct_opportunities'.")
@click.option("--full-refresh", is_flag=True, help="Rebuild incremental models and snapshots from scratch.")
def build(select: str | None, full_refresh: bool) -> None:
    """Run `dbt build` (seeds, models, snapshots, tests) on the warehouse, then re-apply reader grants.

    Only dbt: no ingestion and no Great Expectations gates (`salesops run` runs those).
    """
    from salesops.setup_warehouse import prepare
    from salesops.transform import build as dbt_build

    url = prepare()
    args = (["--select", select] if select else []) + (["--full-refresh"] if full_refresh else [])
    summary = dbt_build(url, args)
    click.echo("")
    for line in summary.lines():
        click.echo(line, err=line.startswith(("FAILED", "error")))
    if summary.ok:
        click.echo("reader grants re-applied (bi_reader: marts with personal data masked; "
                   "finance_reader: marts and finance)")
    else:
        click.echo("reader grants not re-applied: marts rebuilt by this build stay closed to "
                   "bi_reader until a build passes", err=True)
    sys.exit(0 if summary.ok else 1)


@main.command("docs")
@click.option("--serve", is_flag=True, help="Serve the site on 127.0.0.1 until Ctrl-C.")
@click.option("--port", default=8081, show_default=True, help="Port for --serve.")
def docs(serve: bool, port: int) -> None:
    """Generate the dbt documentation site (models, columns, tests, lineage)."""
    from salesops.dbt_project import run_dbt
    from salesops.setup_warehouse import prepare

    url = prepare()
    try:
        run_dbt(["docs", "generate"], url)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    index = settings().home / "dbt" / "target" / "index.html"
    click.echo(f"\ndocs generated: {index}")
    if not serve:
        click.echo("open it in a browser, or serve it: salesops docs --serve")
        return
    click.echo(f"serving http://127.0.0.1:{port} (Ctrl-C stops)")
    run_dbt(["docs", "serve", "--no-browser", "--host", "127.0.0.1", "--port", str(port)], url)


@main.group()
def benchmark() -> None:
    """Performance benchmarks, each against a reference measured in the same run."""


@benchmark.command("ingest")
@click.option("--rows", default=1_000_000, show_default=True, help="Generated leads to ingest.")
@click.option("--rounds", default=3, show_default=True, help="Alternating rounds; the median ratio counts.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Append the result as a markdown row to this file (e.g. docs/benchmarks.md).")
def benchmark_ingest(rows: int, rounds: int, output: Path | None) -> None:
    """Ingest generated leads and compare with a raw COPY of the same rows."""
    from salesops.benchmark import run_ingest_benchmark

    run_ingest_benchmark(rows, output, echo=click.echo, rounds=rounds)


@benchmark.command("transform")
@click.option("--scale", default=100.0, show_default=True,
              help="Demo-data scale (100 = 1M leads, 10M activities).")
@click.option("--delta-scale", default=1.0, show_default=True,
              help="Size of the delta (1 = 1% of scale 100).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Append the result as a markdown row to this file (e.g. docs/benchmarks.md).")
def benchmark_transform(scale: float, delta_scale: float, output: Path | None) -> None:
    """Full dbt build, then an incremental build after a delta; reports their ratio."""
    from salesops.benchmark_transform import run_transform_benchmark

    run_transform_benchmark(scale, delta_scale, output, echo=click.echo)


if __name__ == "__main__":
    main()
