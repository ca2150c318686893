"""The ``salesops`` command line: warehouse, ingestion, demo data, the whole run, benchmarks.

Every failure ends in one line (``Error: ...``) and a non-zero exit; ``--debug`` (or
``SALESOPS_DEBUG=1``) shows the traceback instead.
"""

from __future__ import annotations

import errno
import os
import sys
import time
import warnings
from pathlib import Path

import click

from ingestion.errors import printable
from salesops.config import (
    UMASK,
    apply_offline_env,
    check_landing,
    ensure_home,
    maven_export_dir,
    pipeline_lock,
    settings,
)


class _Main(click.Group):
    """The root group: any exception a command raises becomes one clear line (see salesops.errors)."""

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.ClickException as exc:
            raise _one_line(exc) from None

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            raise _one_line(exc) from None
        except (click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            # A closed pipe (`salesops channels | head`) is click's to handle: quietly.
            if ctx.params.get("debug") or getattr(exc, "errno", None) == errno.EPIPE:
                raise
            from salesops.errors import describe

            raise click.ClickException(describe(exc)) from None


def _one_line(exc: click.ClickException) -> click.ClickException:
    """Click's own errors on one line (a missing choice lists its choices on lines of their own)
    with what the user typed escaped (it may hold control characters)."""
    from salesops.errors import one_line

    text = one_line(exc.format_message())
    if isinstance(exc, click.UsageError):
        flat: click.ClickException = click.UsageError(text, exc.ctx)
    else:
        flat = click.ClickException(text)
    flat.exit_code = exc.exit_code
    return flat


def echo(text: str = "", err: bool = False) -> None:
    """click.echo with control characters escaped: file names and headers come from outside."""
    click.echo(printable(text), err=err)


@click.group(cls=_Main)
@click.option("--debug", is_flag=True, envvar="SALESOPS_DEBUG",
              help="Show the traceback of a failure (also SALESOPS_DEBUG=1).")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """salesops: CRM sales data platform (ingestion, warehouse, marts, forecasts)."""
    apply_offline_env()
    previous = os.umask(UMASK)  # nothing salesops writes is readable by other users
    ctx.call_on_close(lambda: os.umask(previous))


def _warehouse_url() -> str:
    """The migrated warehouse's URL; the embedded one keeps its data under $SALESOPS_HOME."""
    from salesops.setup_warehouse import prepare

    if settings().embedded:
        ensure_home()
    return prepare()


# --- warehouse ---------------------------------------------------------------------------------

@main.group()
def warehouse() -> None:
    """The PostgreSQL warehouse (embedded by default, or SALESOPS_WAREHOUSE_URL)."""


@warehouse.command("start")
def warehouse_start() -> None:
    """Start the embedded server (if used) and apply migrations."""
    from salesops.warehouse import redacted

    url = _warehouse_url()
    echo(f"warehouse ready: {redacted(url)}  (the full URL: salesops warehouse url)")


@warehouse.command("stop")
def warehouse_stop() -> None:
    """Stop the embedded server."""
    from salesops import warehouse as wh

    cfg = settings()
    if not cfg.embedded:
        echo("SALESOPS_WAREHOUSE_URL is set: the external warehouse is not ours to stop")
        return
    stopped = wh.embedded(cfg).stop()
    echo("warehouse stopped" if stopped else "warehouse was not running")


@warehouse.command("status")
def warehouse_status() -> None:
    """Say whether the warehouse runs, and where."""
    from salesops import warehouse as wh

    state = wh.status()
    echo(" ".join(state.detail.split()) + (f"\nurl: {wh.redacted(state.url)}" if state.url else ""))
    sys.exit(0 if state.running else 3)


@warehouse.command("url")
@click.option("--role", type=click.Choice(["owner", "bi_reader", "finance_reader"]), default="owner",
              show_default=True, help="Whose URL: the owner's, or a reader's (BI tools, finance).")
def warehouse_url(role: str) -> None:
    """Print a libpq URL with its password (for psql, BI tools); starts the embedded server if
    needed. A reader's password is created on first use (rotate it: salesops access rotate)."""
    from salesops import access_admin

    url = _warehouse_url()
    echo(url if role == "owner" else access_admin.login_url(url, role))


# --- access --------------------------------------------------------------------------------------

@main.group()
def access() -> None:
    """Who may log in to the warehouse, and with which password (readers for BI and finance)."""


@access.command("list")
def access_list() -> None:
    """The warehouse's roles: who logs in, with what privileges."""
    from salesops import access_admin

    for line in access_admin.describe(_warehouse_url()):
        echo(line)


def _one_of(role: str, allowed: tuple[str, ...]) -> None:
    if role not in allowed:
        raise click.BadParameter(f"{role!r} is not one of {', '.join(allowed)}", param_hint="ROLE")


@access.command("rotate")
@click.argument("role")
def access_rotate(role: str) -> None:
    """Give ROLE a new password (the old one stops working at once); stored 0600 in
    $SALESOPS_HOME/credentials.json. Print the reader's URL with: salesops warehouse url --role ROLE."""
    from salesops import access_admin

    _one_of(role, tuple(access_admin.ROLES))
    access_admin.rotate(_warehouse_url(), role)
    echo(f"{role}: new password set and stored in the credentials file of SALESOPS_HOME")


@access.command("revoke")
@click.argument("role")
def access_revoke(role: str) -> None:
    """Stop ROLE from logging in (its password is removed); rotate gives it one again."""
    from salesops import access_admin

    _one_of(role, access_admin.READERS)
    access_admin.revoke(_warehouse_url(), role)
    echo(f"{role}: can no longer log in")


# --- ingestion ---------------------------------------------------------------------------------

@main.command("channels")
def list_channels() -> None:
    """List the channels, their entities, raw tables and presets."""
    from ingestion.contracts import channels, contract, presets

    for name in channels():
        chan = contract(name)
        echo(f"{name}: {chan.description}")
        echo(f"  formats: {', '.join(chan.formats)}")
        for entity in chan.entities:
            required = ", ".join(entity.required)
            echo(f"  {entity.entity} -> {entity.qualified_table} (required: {required})")
        for preset in presets(name):
            echo(f"  preset {preset.name}: {', '.join(preset.entities)}")


def _print_results(results) -> None:
    for r in results:
        if r.status == "loaded":
            echo(f"loaded   {r.source_file}: {r.rows_in} rows in, {r.rows_loaded} loaded into "
                 f"{r.raw_table}, {r.rows_rejected} rejected (batch {r.batch_id}; {r.message})")
        elif r.status == "skipped":
            echo(f"skipped  {r.source_file}: {r.message}")
        elif r.status == "rejected":
            echo(f"REJECTED {r.source_file}: {r.rows_in} rows in, 0 loaded, {r.rows_rejected} "
                 f"rejected (batch {r.batch_id}; {r.message})", err=True)
        else:
            echo(f"FAILED   {r.message}", err=True)


def _set_pairs(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for value in values:
        name, sep, constant = value.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{value!r}: write COLUMN=VALUE, e.g. event_id=webinar-2021-04",
                                     param_hint="--set")
        pairs.append((name.strip(), constant))
    return tuple(pairs)


def _files_and_options(channel, path, preset, preset_files, encoding, currency, country, sets):
    """The data files under PATH and the checked load options, or one clear error (nothing booked)."""
    from ingestion.loader import LoadOptions, check_options, files_in

    options = LoadOptions(
        preset=preset, preset_files=tuple(str(p) for p in preset_files), encoding=encoding,
        currency=currency.upper() if currency else None, country=country.upper() if country else None,
        constants=_set_pairs(sets),
    )
    try:
        check_options(channel, options)
        sources = files_in(channel, path, options.preset_files)
    except (FileNotFoundError, KeyError, ValueError) as exc:
        raise click.ClickException(str(exc).strip("'\"")) from exc
    if not sources:
        raise click.ClickException(f"{path}: no data files (.csv, .tsv, .xlsx, .jsonl) found")
    return sources, options


def _load_flags(command):
    """The flags `ingest` and `inspect` share: how to read a file that does not say it itself."""
    flags = [
        click.option("--set", "sets", multiple=True, metavar="COLUMN=VALUE",
                     help="A value for every row of a column the file lacks (e.g. event_id=webinar-04)."),
        click.option("--country", help="ISO country code for rows without one (national phone numbers)."),
        click.option("--currency", help="ISO currency code for amounts that carry none (default: preset's)."),
        click.option("--encoding", help="The file's encoding (cp1252, latin-1, ...); detected if omitted."),
        click.option("--preset-file", "preset_files", multiple=True,
                     type=click.Path(dir_okay=False, path_type=Path),
                     help="A preset YAML file to use beside the installed ones and $SALESOPS_PRESETS_DIR."),
        click.option("--preset", help="Column-mapping preset (crm_export); detected if omitted."),
    ]
    for flag in flags:
        command = flag(command)
    return command


@main.command("ingest")
@click.argument("channel")
@click.argument("path")
@_load_flags
@click.option("--dry-run", is_flag=True, help="Only show how each file would be read (see `inspect`).")
def ingest(channel: str, path: str, preset, preset_files, encoding, currency, country, sets,
           dry_run: bool) -> None:
    """Load a file, or every file of a folder, of CHANNEL into the warehouse."""
    from ingestion.contracts import channels
    from ingestion.loader import ingest_path

    if channel not in channels():
        raise click.BadParameter(f"unknown channel {channel!r}; one of {', '.join(channels())}")
    sources, options = _files_and_options(channel, path, preset, preset_files, encoding, currency,
                                          country, sets)
    if dry_run:
        sys.exit(_inspect(channel, sources, options))
    results = ingest_path(_warehouse_url(), channel, path, options=options)
    _print_results(results)
    rejected = sum(r.rows_rejected for r in results)
    if rejected:
        echo(f"{rejected} rejected rows with reasons: select * from ops.rejected_rows "
                   f"where batch_id in ({', '.join(str(r.batch_id) for r in results if r.rows_rejected)})")
    if any(r.status in ("failed", "rejected") for r in results):
        sys.exit(1)


@main.command("inspect")
@click.argument("path")
@click.option("--channel", default="crm_export", show_default=True, help="The channel the file is for.")
@_load_flags
@click.option("--rejects", default=5, show_default=True, type=click.IntRange(min=0),
              help="How many rejected records to show.")
def inspect(path: str, channel: str, preset, preset_files, encoding, currency, country, sets,
            rejects: int) -> None:
    """Show how a file (or every file of a folder) would load, without loading anything.

    The entity and preset it matches, the column mapping, the detected encoding, separator
    and date layouts, and the first rejected records with their reasons.
    """
    sources, options = _files_and_options(channel, path, preset, preset_files, encoding, currency,
                                          country, sets)
    sys.exit(_inspect(channel, sources, options, rejects))


def _inspect(channel, sources, options, rejects: int = 5) -> int:
    from ingestion.inspect import inspect_file

    worst = 0
    for source in sources:
        report = inspect_file(channel, source, options, rejects)
        for line in report.lines():
            echo(line)
        echo("")
        worst = max(worst, 0 if report.ok else 1)
    return worst


_SCALE = click.FloatRange(min=0, min_open=True)


# --- demo data ---------------------------------------------------------------------------------

@main.command("demo-data")
@click.option("--scale", default=1.0, show_default=True, type=_SCALE,
              help="1 = ~10k leads and ~100k activities; 100 = 1M leads and 10M activities.")
@click.option("--seed", default=42, show_default=True)
@click.option("--landing", type=click.Path(file_okay=False, path_type=Path),
              help="Landing folder to write into (default: the configured landing zone).")
@click.option("--maven", "maven_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="The Maven CRM export to build around (default: ../shared/datasets/maven_crm if present).")
@click.option("--years", default=0, show_default=True, type=click.IntRange(0, 10),
              help="Years of deal history before the Maven window (trend, seasons, reps joining, a price "
                   "rise): what the forecasts learn from.")
def demo_data(scale: float, seed: int, landing: Path | None, maven_dir: Path | None, years: int) -> None:
    """Generate deterministic, realistically messy files for every channel."""
    from ingestion.demo import generate

    cfg = settings()
    if landing is None and "://" in cfg.landing_uri:
        raise click.UsageError(f"SALESOPS_LANDING_URI is {cfg.landing_uri}: demo-data writes to a local "
                               "folder; give one with --landing")
    target = landing or Path(cfg.landing_uri)
    if target.resolve().is_relative_to(cfg.home):
        ensure_home(cfg)
    maven_dir = maven_dir or maven_export_dir()
    started = time.perf_counter()
    summary = generate(target, scale=scale, seed=seed, maven_dir=maven_dir, years=years)
    for channel, info in summary.items():
        echo(f"{channel:18} {info['files']:4} files {info['rows']:>12,} rows")
    source = f"around the Maven export in {maven_dir}" if maven_dir else "with a synthetic CRM export"
    echo(f"wrote {target} {source} in {time.perf_counter() - started:.1f}s")


# --- the whole platform ------------------------------------------------------------------------

@main.command("run")
@click.option("--scale", default=1.0, show_default=True, type=_SCALE,
              help="Demo-data scale if the landing zone is empty.")
@click.option("--retrain", is_flag=True,
              help="Retrain the forecast and win-probability models now, even when the champions are "
                   "recent (else: after SALESOPS_FORECAST_RETRAIN_DAYS, default 30).")
def run(scale: float, retrain: bool) -> None:
    """Prepare everything and run the pipeline through Airflow (dag.test)."""
    from salesops.pipeline import run_pipeline

    ensure_home()
    check_landing(settings().landing_uri)

    with pipeline_lock("run"):
        ok = run_pipeline(scale=scale, maven_dir=maven_export_dir(), echo=echo, retrain=retrain)
    sys.exit(0 if ok else 1)


# --- user reference data: stage map and currency rates ------------------------------------------

def _load_reference(read, loader, path: Path, replace: bool) -> None:
    read(path)  # a bad file is refused before the warehouse is touched (ReferenceFileError)
    result = loader(_warehouse_url(), path, replace=replace)
    echo(result.line())
    echo("the next `salesops build` uses them")


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
    from salesops.reference import load_stage_map, read_stage_map

    _load_reference(read_stage_map, load_stage_map, file, replace)


@main.group()
def rates() -> None:
    """Currency rates to US dollars, by month, used over the built-in averages."""


@rates.command("load")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_REPLACE
def rates_load(file: Path, replace: bool) -> None:
    """Load a rates CSV: currency,month(YYYY-MM),usd_per_unit."""
    from salesops.reference import load_rates, read_rates

    _load_reference(read_rates, load_rates, file, replace)


@main.group()
def quotas() -> None:
    """Quotas: finance's targets split into rep quotas (docs/quotas.md)."""


@quotas.command("load")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--method", type=click.Choice(["historic_share", "forecast_share"]), default="historic_share",
              show_default=True, help="How a company or region target is shared among its reps.")
def quotas_load(file: Path, method: str) -> None:
    """Load targets (level,key,period,target) into finance.quotas, split into rep quotas that add
    up to each target exactly. The performance marts show quota and attainment after the next build."""
    from ml.forecast.quotas import load, read_targets

    targets = read_targets(file)  # a bad file is refused before the warehouse is reached
    loaded = load(_warehouse_url(), file, method, targets)
    q = loaded.quotas
    for (level, key, period), rows in q.groupby(["target_level", "target_key", "target_period"], sort=False):
        ramp = int((rows["method"] == "ramp").sum())
        echo(f"{level} {key} {period}: {rows['quota'].sum():,.2f} -> {rows['rep_name'].nunique()} rep(s), "
             f"{rows['month'].nunique()} month(s), {', '.join(sorted(set(rows['method'])))}"
             + (f" ({ramp} ramping)" if ramp else ""))
    echo(f"finance.quotas: {len(q):,} quotas from {file} (load {loaded.load_id}; {loaded.replaced:,} "
         "replaced earlier ones); `salesops build` or the next run shows them in "
         "marts.rep_performance_monthly")


# --- incentive payouts ---------------------------------------------------------------------------

def _period(text: str, option: str = "--period"):
    import pandas as pd

    from salesops.reference import parse_month

    month = parse_month(text.strip())
    if month is None:
        raise click.BadParameter(f"{text!r} is not a month (2017-06)", param_hint=f"'{option}'")
    return pd.Period(month, freq="M")


@main.group()
def payouts() -> None:
    """Incentive payouts: commission plans (plans/, docs/plans.md) → payout lines, statements, locks."""


@payouts.command("run")
@click.option("--period", required=True, help="The month to pay (2017-06).")
@click.option("--plans", "plans_dir", type=click.Path(file_okay=False, path_type=Path),
              envvar="SALESOPS_PLANS_DIR", help="Folder of plan YAML files (default: the repo's plans/).")
def payouts_run(period: str, plans_dir: Path | None) -> None:
    """Compute the month's payouts from the credits ledger and the plans, post differences for
    locked months, write lines and statements (MLflow-tracked)."""
    from ml.incentives.plans import load_folder
    from ml.incentives.runs import run

    month = _period(period)
    plans = load_folder(plans_dir)  # a bad plan is refused before the warehouse is reached
    outcome = run(_warehouse_url(), month, plans)
    s = outcome.statements
    echo(f"payout run {outcome.run_id} for {month}: {len(outcome.lines):,} lines, {len(s)} reps, "
         f"earned {sum(s['earned']):,.2f}, payable {sum(s['payable']):,.2f} USD "
         f"({outcome.new_credits:,} new credit rows; MLflow run {outcome.mlflow_run_id})")
    if outcome.uncovered:
        echo(f"note: {outcome.uncovered:,} credited deal(s) are on no plan in effect (no lines)")
    for note in outcome.notes:
        echo(f"note: {note}")
    p = outcome.projected
    if len(p):
        echo(f"accrual for {month + 1}: {sum(p['expected_commission']):,.2f} USD expected on "
             f"{int(p['open_deals'].sum()):,} open deals (finance.payout_projections)")


@payouts.command("lock")
@click.option("--period", required=True, help="The month to lock (2017-06).")
def payouts_lock(period: str) -> None:
    """Lock a month at its latest run: the database refuses any change to it from then on."""
    from ml.incentives.runs import lock

    month = _period(period)
    run_id = lock(_warehouse_url(), month)
    echo(f"{month} locked at payout run {run_id}; later differences post into the next open month")


@payouts.command("adjust")
@click.option("--rep", required=True, help="The rep's name.")
@click.option("--period", required=True, help="The open month it is paid in (2017-06).")
@click.option("--amount", required=True, help="USD added to the rep's payout (negative takes it away).")
@click.option("--reason", required=True, help="Why; kept with the adjustment and shown on the statement.")
@click.option("--approved-by", required=True, help="Who approved it (someone other than who enters it).")
@click.option("--by", help="Who enters it (default: your login name).")
def payouts_adjust(rep: str, period: str, amount: str, reason: str, approved_by: str, by: str | None) -> None:
    """Record finance's manual adjustment of a rep's payout; the month's next run pays it."""
    from ml.incentives.runs import adjust, adjustment

    month = _period(period)
    checked = adjustment(amount, reason, approved_by, by)  # refused before the warehouse is reached
    number = adjust(_warehouse_url(), rep, month, checked)
    echo(f"adjustment {number} recorded in finance.payout_adjustments: {rep} {month} {amount} USD; "
         f"`salesops payouts run --period {month}` pays it")


@payouts.command("explain")
@click.option("--rep", required=True, help="The rep's name.")
@click.option("--period", required=True, help="The month (2017-06).")
def payouts_explain(rep: str, period: str) -> None:
    """Every payout line of a rep in a month (its latest run), and why."""
    from ml.incentives.statements import explain

    for line in explain(_warehouse_url(), rep, _period(period)):
        echo(line)


@payouts.command("statements")
@click.option("--period", required=True, help="The month (2017-06).")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "html"]), default="csv", show_default=True)
@click.option("--output", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write to (default: $SALESOPS_HOME/payouts/<month>).")
def payouts_statements(period: str, fmt: str, output: Path | None) -> None:
    """One statement per rep (its lines and totals) and a payroll export, for a month's latest run."""
    from ml.incentives.statements import write_statements

    month = _period(period)
    folder = output or ensure_home() / "payouts" / str(month)
    written = write_statements(_warehouse_url(), month, folder, fmt)
    echo(f"{len(written) - 1} statement(s) and payroll.{fmt} in {folder}")


@payouts.command("replay")
@click.argument("run_id", type=int)
def payouts_replay(run_id: int) -> None:
    """Recompute a payout run from what it recorded and compare it line by line."""
    from ml.incentives.runs import replay

    matched, differ, same_inputs = replay(_warehouse_url(), run_id)
    if not same_inputs:
        raise click.ClickException(f"payout run {run_id}: its inputs cannot be read back as they were "
                                   "(the input fingerprint differs); nothing to compare")
    if differ:
        raise click.ClickException(f"payout run {run_id}: {differ:,} line(s) differ on replay "
                                   f"({matched:,} match)")
    echo(f"payout run {run_id} replayed: all {matched:,} lines identical")


# --- files for people ---------------------------------------------------------------------------

@main.command("report")
@click.option("--month", help="The month to report (2017-06); default: the marts' last closed month.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
              help="Language: English or Chinese.")
@click.option("--edition", type=click.Choice(["sales", "finance"]), default="sales", show_default=True,
              help="sales: read as bi_reader (personal data masked); finance: adds payouts, "
                   "needs finance_reader.")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), default="html", show_default=True,
              help="html: one self-contained file; pdf: printed by headless Chromium.")
def report(month: str | None, lang: str, edition: str, fmt: str) -> None:
    """Write the monthly sales report (headline, trend with quota and forecast, funnel, loss reasons,
    segments, leaderboard, training needs; payouts in the finance edition) and print its path."""
    from salesops.report.build import write_report

    asked = None
    if month is not None:
        asked = _period(month, "--month").to_timestamp().date()
    path, seconds = write_report(asked, lang, edition, fmt, owner_url=_warehouse_url())
    echo(f"report ({edition}, {lang}, {fmt}) written in {seconds:.1f}s: {path}")


@main.command("export")
@click.argument("table")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write: .csv (UTF-8 with BOM) or .xlsx.")
def export(table: str, output: Path) -> None:
    """Write a warehouse table or view (e.g. marts.fct_opportunities) to a CSV or xlsx file.

    Made for spreadsheets: text that could run as a formula (starting with = + - @, a tab
    or a carriage return) is prefixed with ', numbers stay numbers and money stays exact.
    The file is readable by you only (0600).
    """
    from salesops.export import FORMATS, export_table

    if output.suffix.lower() not in FORMATS:
        raise click.BadParameter(f"{output}: the file name must end in .csv or .xlsx", param_hint="--output")
    if not output.parent.is_dir():
        raise click.BadParameter(f"{output.parent}: no such folder", param_hint="--output")
    rows = export_table(_warehouse_url(), table, output)
    echo(f"exported {rows:,} rows of {table} to {output}")


# --- dbt: build and docs -------------------------------------------------------------------------

@main.command("build")
@click.option("--select", "-s", "select", help="dbt node selection, e.g. 'marts' or '+fct_opportunities'.")
@click.option("--full-refresh", is_flag=True, help="Rebuild incremental models and snapshots from scratch.")
def build(select: str | None, full_refresh: bool) -> None:
    """Run `dbt build` (seeds, models, snapshots, tests) on the warehouse, then re-apply reader grants.

    Only dbt: no ingestion and no Great Expectations gates (`salesops run` runs those).
    """
    from salesops.transform import build as dbt_build

    args = (["--select", select] if select else []) + (["--full-refresh"] if full_refresh else [])
    with pipeline_lock("build"):
        summary = dbt_build(_warehouse_url(), args)
    echo("")
    for line in summary.lines():
        echo(line, err=line.startswith(("FAILED", "error")))
    if summary.ok:
        echo("reader grants re-applied (bi_reader: marts with personal data masked; "
                   "finance_reader: marts and finance)")
    else:
        echo("reader grants not re-applied: marts rebuilt by this build stay closed to "
                   "bi_reader until a build passes", err=True)
    sys.exit(0 if summary.ok else 1)


@main.command("docs")
@click.option("--serve", is_flag=True, help="Serve the site on 127.0.0.1 until Ctrl-C.")
@click.option("--port", default=8081, show_default=True, type=click.IntRange(1, 65535),
              help="Port for --serve.")
def docs(serve: bool, port: int) -> None:
    """Generate the dbt documentation site (models, columns, tests, lineage)."""
    from salesops.dbt_project import run_dbt

    ensure_home()  # dbt's target and logs live there
    with pipeline_lock("docs"):
        url = _warehouse_url()
        try:
            run_dbt(["docs", "generate"], url)
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from exc
    index = settings().home / "dbt" / "target" / "index.html"
    echo(f"\ndocs generated: {index}")
    if not serve:
        echo("open it in a browser, or serve it: salesops docs --serve")
        return
    echo(f"serving http://127.0.0.1:{port} (Ctrl-C stops)")
    run_dbt(["docs", "serve", "--no-browser", "--host", "127.0.0.1", "--port", str(port)], url)


@main.group("mlflow")
def mlflow_group() -> None:
    """MLflow, where the forecast, win-probability and payout runs are tracked."""


@mlflow_group.command("ui")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535),
              help="Port on 127.0.0.1.")
def mlflow_ui(port: int) -> None:
    """Serve MLflow's UI on this home's tracking store, on 127.0.0.1 only, behind a sign-in, until Ctrl-C."""
    uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    if uri.startswith(("http://", "https://")):
        from urllib.parse import urlsplit

        server = urlsplit(uri)
        echo(f"runs are tracked by the MLflow server at {server.scheme}://{server.hostname}"
             f"{f':{server.port}' if server.port else ''}: open it in a browser")
        return
    from ml.forecast.registry import tracking_home

    home = tracking_home()
    store = uri or f"sqlite:///{home / 'mlflow.db'}"
    if not uri and not (home / "mlflow.db").exists():
        raise click.ClickException(f"no MLflow runs in {home} yet: `salesops run` (or `salesops forecast "
                                   "train`) tracks the first ones")
    from mlflow.cli import cli as mlflow_cli

    from salesops.mlflow_auth import UI_USER, prepare_ui

    # MLflow's server imports starlette's deprecated WSGI middleware: nothing a user can change.
    wsgi_notice = "starlette.middleware.wsgi is deprecated"
    os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"),
                                                         f"ignore:{wsgi_notice}"]))  # the user's stay
    warnings.filterwarnings("ignore", message=wsgi_notice)
    password = prepare_ui(home)
    shown = store if store.startswith("sqlite:") else store.split("://", 1)[0] + "://***"  # no password shown
    echo(f"MLflow UI of {shown}: http://127.0.0.1:{port} (Ctrl-C stops)")
    echo(f"sign in as {UI_USER} with password {password} (this home's own; the runs hold the payout "
         "statements, so the UI asks everyone for it)")
    mlflow_cli.main(["server", "--app-name", "basic-auth", "--backend-store-uri", store,
                     "--default-artifact-root", (home / "artifacts").as_uri(), "--host", "127.0.0.1",
                     "--port", str(port), "--workers", "1"],
                    prog_name="mlflow", standalone_mode=True)


# --- forecasts -----------------------------------------------------------------------------------

@main.group()
def forecast() -> None:
    """Revenue forecasts: try the forecaster on your own monthly series (docs/forecasting.md)."""


_ROLE_LABELS = {"chosen": "chosen models", "seasonal_naive": "seasonal naive", "ets": "ETS (auto)"}
_SERIES_INPUT = click.option("--input", "input_path", required=True,
                             type=click.Path(dir_okay=False, path_type=Path),
                             help="CSV with columns series_id,period,value (period: YYYY-MM-01).")
_HORIZON = click.option("--horizon", required=True, type=click.IntRange(1, 60),
                        help="Months to forecast.")
_OUTPUT = click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path),
                       help="The CSV to write.")


@forecast.command("adjust")
@click.option("--level", required=True, type=click.Choice(["company", "region", "team", "rep", "product"]))
@click.option("--key", required=True, help="'all', the region, the manager, the rep or the product.")
@click.option("--month", required=True, help="The forecast month, e.g. 2018-01.")
@click.option("--amount", required=True, help="USD added to the model's forecast (negative lowers it).")
@click.option("--reason", required=True, help="Why; kept with the adjustment.")
@click.option("--by", help="Who adjusts (default: your login name).")
def forecast_adjust(level: str, key: str, month: str, amount: str, reason: str, by: str | None) -> None:
    """Layer a manager's adjustment on a revenue forecast (the model's number is kept as it is)."""
    from ml.forecast.adjustments import adjust

    number = adjust(_warehouse_url(), level, key, month, amount, reason, by)
    echo(f"adjustment {number} recorded in finance.forecast_adjustments: {level} {key} {month} {amount} USD; "
         "marts.forecast_adjusted shows it after the next build")


@forecast.command("category")
@click.argument("opportunity_id")
@click.argument("category", type=click.Choice(["omitted", "pipeline", "best_case", "commit"]))
@click.option("--reason", required=True, help="Why; kept with the override.")
@click.option("--by", help="Who overrides (default: your login name).")
def forecast_category(opportunity_id: str, category: str, reason: str, by: str | None) -> None:
    """Put an open deal in a forecast category whatever its win probability says."""
    from ml.forecast.adjustments import override_category

    number = override_category(_warehouse_url(), opportunity_id, category, reason, by)
    echo(f"override {number} recorded: {opportunity_id} -> {category}; marts.pipeline_forecast shows it "
         "after the next build")


@forecast.command("predict")
@_SERIES_INPUT
@_HORIZON
@_OUTPUT
def forecast_predict(input_path: Path, horizon: int, output: Path) -> None:
    """Forecast the HORIZON months after each series' last period, by the model each series'
    own backtest chooses; 80% and 95% intervals."""
    from ml.forecast.files import predict_file

    forecasts, notes = predict_file(input_path, horizon, output)
    for note in notes:
        echo(f"warning: {note}", err=True)
    chosen = forecasts.drop_duplicates("series_id")["model"].value_counts()
    echo(f"wrote {len(forecasts):,} forecasts for {forecasts['series_id'].nunique():,} series to {output} "
         f"(models: {', '.join(f'{name} {count}' for name, count in chosen.items())})")


@forecast.command("backtest")
@_SERIES_INPUT
@_HORIZON
@click.option("--cutoffs", default=3, show_default=True, type=click.IntRange(1, 24),
              help="Rolling origins, HORIZON months apart; the last is the last period - HORIZON.")
@_OUTPUT
def forecast_backtest(input_path: Path, horizon: int, cutoffs: int, output: Path) -> None:
    """Forecast each series from the history up to each cutoff only and score it against what
    happened: MASE, WAPE and interval coverage next to seasonal naive and ETS."""
    from ml.forecast.files import backtest_file

    predictions, scores = backtest_file(input_path, horizon, cutoffs, output)
    chosen = predictions[predictions["role"] == "chosen"]
    echo(f"backtest of {chosen['series_id'].nunique():,} series, up to {cutoffs} cutoffs each "
         f"({chosen['cutoff'].min()} .. {chosen['cutoff'].max()}), horizon {horizon}: "
         f"{len(chosen):,} forecasts written to {output}")
    echo(f"{'':16} {'MASE':>6} {'WAPE':>7} {'cover 80%':>10} {'cover 95%':>10}")
    for role, row in scores.iterrows():
        echo(f"{_ROLE_LABELS[role]:16} {row['mase']:6.3f} {row['wape']:7.1%} {row['coverage_80']:10.1%} "
             f"{row['coverage_95']:10.1%}")
    mase = scores["mase"]
    echo(f"MASE of the chosen models: {mase['chosen'] / mase['seasonal_naive']:.2f}x seasonal naive, "
         f"{mase['chosen'] / mase['ets']:.2f}x ETS")
    unscaled = int(scores.loc["chosen", "folds_without_scale"])
    if unscaled:
        echo(f"note: {unscaled} of {int(scores.loc['chosen', 'folds'])} folds have a history whose "
             "seasonal-naive error is zero (constant or too short) and are not in the MASE", err=True)


@forecast.command("train")
@click.option("--horizon", default=6, show_default=True, type=click.IntRange(1, 24), help="Months ahead.")
@click.option("--cutoffs", default=3, show_default=True, type=click.IntRange(1, 12),
              help="Backtest origins, HORIZON months apart.")
def forecast_train(horizon: int, cutoffs: int) -> None:
    """Backtest and train the revenue forecast of every level (company, region, team, rep,
    product) and the win probability of open opportunities on the marts; track both in MLflow,
    register them, promote each if it is not worse than its champion."""
    from ml.forecast.registry import MODEL_NAME, train

    echo("training: backtest of every series of every level, then the model on the whole history ...")
    trained = train(_warehouse_url(), horizon, cutoffs)
    _print_training(trained)
    echo(f"{MODEL_NAME} version {trained.version} (MLflow run {trained.run_id}): "
         + ("champion" if trained.promoted else "not promoted, the champion stays"))
    from ml.forecast.registry import WIN_MODEL, train_win_probability

    echo("training: win probability of open opportunities ...")
    won = train_win_probability(_warehouse_url())
    m = won.metrics
    echo(f"  holdout of {m['holdout_deals']:.0f} deals: model Brier {m['brier_model']:.4f}, log loss "
         f"{m['log_loss_model']:.4f}, AUC {m['auc_model']:.3f}; historical win rate by stage and "
         f"product: Brier {m['brier_baseline']:.4f}, log loss {m['log_loss_baseline']:.4f}, "
         f"AUC {m['auc_baseline']:.3f}")
    echo(f"{WIN_MODEL} version {won.version} (MLflow run {won.run_id}): "
         + ("champion" if won.promoted else "not promoted, the champion stays"))


def _print_training(trained) -> None:
    echo(f"  {'level':8} {'model':15} {'MASE':>6} {'WAPE':>7} {'cover 80%':>10}")
    for (level, role), row in trained.by_level.iterrows():
        echo(f"  {level:8} {_ROLE_LABELS[role]:15} {row['mase']:6.3f} {row['wape']:7.1%} "
             f"{row['coverage_80']:10.1%}")
    row = trained.scores.loc["chosen"]
    echo(f"  {'all':8} {'chosen models':15} {row['mase']:6.3f} {row['wape']:7.1%} "
         f"{row['coverage_80']:10.1%}")
    if trained.champion_mase is not None:
        echo(f"  the champion on the same folds: MASE {trained.champion_mase:.3f}")


@forecast.command("score")
@click.option("--horizon", default=6, show_default=True, type=click.IntRange(1, 24), help="Months ahead.")
def forecast_score(horizon: int) -> None:
    """Forecast every level and score every open opportunity with the champion models; append to
    ml.revenue_forecasts and ml.opportunity_scores (an as-of already scored keeps its rows)."""
    from ml.forecast.registry import score

    written, forecasts, notes = score(_warehouse_url(), horizon)
    for note in notes:
        echo(f"note: {note}")
    from ml.forecast.registry import score_win_probability

    scored, scores, as_of = score_win_probability(_warehouse_url())
    echo(f"ml.opportunity_scores: {scored:,} of {len(scores):,} open opportunities scored as of "
         f"{as_of:%Y-%m-%d} (the rest were scored for that date before)")
    series = forecasts[["level", "series_key"]].drop_duplicates().shape[0]
    echo(f"ml.revenue_forecasts: {written.rows:,} rows as of {written.as_of_month} "
         f"({written.already_there:,} already there, kept) for {series:,} series; "
         f"MLflow run {written.run_id}")


@main.group()
def benchmark() -> None:
    """Performance benchmarks, each against a reference measured in the same run."""


@benchmark.command("ingest")
@click.option("--rows", default=1_000_000, show_default=True, type=click.IntRange(min=1),
              help="Generated leads to ingest.")
@click.option("--rounds", default=3, show_default=True, type=click.IntRange(min=1),
              help="Alternating rounds; the median ratio counts.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Append the result as a markdown row to this file (e.g. docs/benchmarks.md).")
def benchmark_ingest(rows: int, rounds: int, output: Path | None) -> None:
    """Ingest generated leads and compare with a raw COPY of the same rows."""
    from salesops.benchmark import run_ingest_benchmark

    ensure_home()
    run_ingest_benchmark(rows, output, echo=echo, rounds=rounds)


@benchmark.command("transform")
@click.option("--scale", default=100.0, show_default=True, type=_SCALE,
              help="Demo-data scale (100 = 1M leads, 10M activities).")
@click.option("--delta-scale", default=1.0, show_default=True, type=_SCALE,
              help="Size of the delta (1 = 1% of scale 100).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Append the result as a markdown row to this file (e.g. docs/benchmarks.md).")
def benchmark_transform(scale: float, delta_scale: float, output: Path | None) -> None:
    """Full dbt build, then an incremental build after a delta; reports their ratio."""
    from salesops.benchmark_transform import run_transform_benchmark

    ensure_home()
    run_transform_benchmark(scale, delta_scale, output, echo=echo)


@benchmark.command("report")
@click.option("--scale", default=100.0, show_default=True, type=_SCALE,
              help="Demo-data scale (100 = 1M leads, 10M activities).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Append the result as a markdown row to this file (e.g. docs/benchmarks.md).")
def benchmark_report(scale: float, output: Path | None) -> None:
    """The monthly report (each edition and language, HTML and PDF) on a warehouse of demo scale
    SCALE, against the 20 s target for one month's HTML report."""
    from salesops.benchmark_report import run_report_benchmark

    ensure_home()
    run_report_benchmark(scale, output, echo=echo)


@benchmark.command("forecast")
@click.option("--input", "inputs", multiple=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Series files (series_id,period,value) instead of the bundled real monthly sales series.")
@click.option("--no-warehouse", is_flag=True, help="Skip the warehouse's history (the marts' hierarchy).")
@click.option("--scoring-rows", default=100_000, show_default=True, type=click.IntRange(min=0),
              help="Open opportunities to time win-probability scoring on (0: skip).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Append the result as markdown rows to this file (e.g. docs/benchmarks.md).")
def benchmark_forecast(inputs: tuple[Path, ...], no_warehouse: bool, scoring_rows: int,
                       output: Path | None) -> None:
    """Forecast accuracy (h = 6, 3 origins): MASE of the chosen models over seasonal naive and
    ETS on the same folds, and interval coverage; real series and the warehouse's history."""
    from salesops.benchmark_forecast import run_forecast_benchmark

    run_forecast_benchmark(list(inputs), None if no_warehouse else _warehouse_url(), output, echo=echo,
                           scoring_rows=scoring_rows)


@benchmark.command("payouts")
@click.option("--rows", default=1_000_000, show_default=True, type=click.IntRange(min=1),
              help="Credited deals to pay (over the 12 months of 2017).")
@click.option("--reps", default=1_000, show_default=True, type=click.IntRange(min=1),
              help="Reps they belong to.")
@click.option("--no-warehouse", is_flag=True, help="Skip the full run against a scratch database.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Append the result as a markdown row to this file (e.g. docs/benchmarks.md).")
def benchmark_payouts(rows: int, reps: int, no_warehouse: bool, output: Path | None) -> None:
    """The payout engine on --rows credited deals against a per-row Decimal loop (same totals,
    checked), and a full payout run with its warehouse writes."""
    from salesops.benchmark_payouts import run_payouts_benchmark

    if not no_warehouse:
        _warehouse_url()
    run_payouts_benchmark(rows, reps, output, echo=echo, warehouse=not no_warehouse)


@benchmark.command("run")
@click.option("--scale", default=1.0, show_default=True, type=_SCALE,
              help="Demo-data scale of the first run (1 = 10k leads, 100k activities).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Append the result as a markdown row to this file (e.g. docs/benchmarks.md).")
def benchmark_run(scale: float, output: Path | None) -> None:
    """A first `salesops run` from an empty home, a rerun, and the transform DAG against
    `salesops build --full-refresh` of the same data; reports their ratio."""
    from salesops.benchmark_run import run_run_benchmark

    ensure_home()
    run_run_benchmark(scale, output, echo=echo)

if __name__ == "__main__":
    main()
