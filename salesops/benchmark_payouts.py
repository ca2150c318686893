"""``salesops benchmark payouts``: the payout engine against a straightforward per-row loop,
and a full payout run with its warehouse writes (issue 11; docs/benchmarks.md).

- Input: ``--rows`` credited deals (default 1M) for ``--reps`` reps (1,000; ten per manager)
  over the 12 months of 2017, amounts $100.00-$9,999.99, generated with a fixed seed.
- Plan: the demo plan ``plans/field-sales.yaml`` (marginal tiers on quarterly bookings with a
  running start, an attainment accelerator on a quarterly quota, a manager override, a draw).
- Engine: ``engine.compute`` for every month of the year (all lines, reasons included).
- Loop: the same plan computed deal by deal in Decimal, the way one would write it without the
  engine (running totals in dicts, tiers walked per deal, a reason per line). Its totals per
  rep and month must equal the engine's (checked): the loop is also an independent reckoning.
- Full run: a scratch database with the deals as ``marts.fct_opportunities``; ``payouts run
  --period 2017-12`` as the ML role: credits ledger written, the year computed, December's
  lines and statements written, MLflow-tracked (a scratch tracking store).

Targets: engine <= 10 s, full run <= 60 s on 2 cores.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg

BENCH_DB = "salesops_bench_payouts"
RESULTS_MARK = "<!-- payout results: salesops benchmark payouts --output inserts runs above this line -->"
CENT = Decimal("0.01")


def credits(rows: int, reps: int, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rep = rng.integers(0, reps, rows)
    days = pd.Timestamp("2017-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), unit="D")
    cents = rng.integers(100_00, 10_000_00, rows)
    return pd.DataFrame(
        {
            "deal_id": [f"D{i:08d}" for i in range(rows)],
            "rep_name": [f"Rep {r:04d}" for r in rep],
            "manager_name": [f"Manager {r // 10:03d}" for r in rep],
            "product_name": "GTX Pro",
            "closed_date": days.date,
            "amount": [Decimal(int(c)).scaleb(-2) for c in cents],
        }
    )


def _step(tiers, value: Decimal) -> Decimal:
    """A marginal table at ``value`` (tiers: (start, end or None, rate))."""
    total = Decimal(0)
    for start, end, rate in tiers:
        if value <= start:
            break
        top = value if end is None else min(value, end)
        total += (top - start) * rate
    return total


def loop(frame: pd.DataFrame, plan) -> dict:
    """The demo plan deal by deal: {(rep, month): cents}, and the lines (with reasons)."""
    spec = {c.name: c.spec for c in plan.components}
    commission = [
        (Decimal(t["from"]), Decimal(t["to"]) if "to" in t else None, Decimal(t["rate"].rstrip("%")) / 100)
        for t in spec["commission"]["tiers"]
    ]
    incentive = Decimal(spec["accelerator"]["target_incentive"])
    quota = plan.quota_monthly * 3
    # attainment edges as bookings; a multiplier pays m incentives per quota booked (divided once, at the end)
    accel = [
        (
            Decimal(t["from"].rstrip("%")) * quota / 100,
            Decimal(t["to"].rstrip("%")) * quota / 100 if "to" in t else None,
            Decimal(t["multiplier"]) * incentive,
        )
        for t in spec["accelerator"]["tiers"]
    ]
    override = Decimal(spec["team override"]["rate"].rstrip("%")) / 100
    running: dict = {}
    totals: dict = {}
    lines = []
    ordered = frame.sort_values(["closed_date", "deal_id", "rep_name"], kind="stable")
    for deal, rep, manager, day, amount in zip(
        ordered["deal_id"],
        ordered["rep_name"],
        ordered["manager_name"],
        ordered["closed_date"],
        ordered["amount"],
        strict=True,
    ):
        quarter = (rep, day.year, (day.month - 1) // 3)
        month = (day.year, day.month)
        before = running.get(quarter, Decimal(0))
        after = before + amount
        running[quarter] = after
        paid = _step(commission, after).quantize(CENT, ROUND_HALF_EVEN) - _step(commission, before).quantize(
            CENT, ROUND_HALF_EVEN
        )
        lines.append((deal, rep, paid, f"${amount:,} of quarterly bookings, ${before:,} before"))
        acc = (_step(accel, after) / quota).quantize(CENT, ROUND_HALF_EVEN) - (
            _step(accel, before) / quota
        ).quantize(CENT, ROUND_HALF_EVEN)
        lines.append((deal, rep, acc, f"attainment {before / quota:.1%} -> {after / quota:.1%}"))
        cut = (amount * override).quantize(CENT, ROUND_HALF_EVEN)
        lines.append((deal, manager, cut, f"override on {rep}'s ${amount:,} deal"))
        for who, value in ((rep, paid + acc), (manager, cut)):
            totals[who, month] = totals.get((who, month), Decimal(0)) + value
    return {k: int(v * 100) for k, v in totals.items()}


def _engine_totals(result) -> dict:
    earned = result.lines[~result.lines["rule"].isin(["draw", "draw recovery"])]
    sums = earned.groupby(["rep_name", "period"])["amount_cents"].sum()
    return {(rep, (p.year, p.month)): int(v) for (rep, p), v in sums.items() if v}


def _full_run(frame: pd.DataFrame, plans, echo: Callable) -> tuple[float, int]:
    from ml.incentives import runs
    from salesops.benchmark import scratch_database

    previous = os.environ.get("MLFLOW_TRACKING_URI")
    try:
        with scratch_database(BENCH_DB) as url, tempfile.TemporaryDirectory() as tmp:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(
                    "create table marts.fct_opportunities (opportunity_id text, rep_name text,"
                    " manager_name text, product_name text, closed_date date, amount_usd numeric(18, 2),"
                    " currency text, is_won boolean, is_closed boolean)"
                )
                with conn.cursor() as cur, cur.copy("copy marts.fct_opportunities from stdin") as copy:
                    columns = ("deal_id", "rep_name", "manager_name", "product_name", "closed_date", "amount")
                    for row in zip(*(frame[c] for c in columns), strict=True):
                        copy.write_row((*row, "USD", True, True))
                conn.execute("grant select on marts.fct_opportunities to salesops_ml")
                conn.execute("analyze marts.fct_opportunities")
            os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{Path(tmp) / 'mlflow.db'}"
            started = time.perf_counter()
            outcome = runs.run(url, pd.Period("2017-12", freq="M"), plans)
            seconds = time.perf_counter() - started
    finally:
        if previous is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = previous
    echo(
        f"full run: payout run for 2017-12 in {seconds:.1f}s ({outcome.new_credits:,} credits recorded, "
        f"{len(outcome.lines):,} December lines and {len(outcome.statements):,} statements written)"
    )
    return seconds, len(outcome.lines)


def run_payouts_benchmark(
    rows: int, reps: int, output: Path | None, echo: Callable = print, warehouse: bool = True
) -> dict:
    from ml.incentives import engine
    from ml.incentives.plans import PLANS_DIR, load_file

    plan = load_file(PLANS_DIR / "field-sales.yaml")
    started = time.perf_counter()
    frame = credits(rows, reps)
    echo(
        f"generated {rows:,} credited deals for {reps:,} reps over 2017 "
        f"in {time.perf_counter() - started:.1f}s"
    )
    started = time.perf_counter()
    result = engine.compute(frame, [plan], pd.Period("2017-12", freq="M"))
    engine_s = time.perf_counter() - started
    echo(f"engine: {len(result.lines):,} lines, {len(result.statements):,} statements in {engine_s:.1f}s")
    started = time.perf_counter()
    looped = loop(frame, plan)
    loop_s = time.perf_counter() - started
    same = looped == _engine_totals(result)
    echo(
        f"per-row loop: {loop_s:.1f}s; totals per rep and month {'equal' if same else 'DIFFER'} "
        f"({len(looped):,} rep-months)"
    )
    if not same:
        raise RuntimeError("the engine and the per-row loop disagree: a bug in one of them")
    full_s, written = _full_run(frame, [plan], echo) if warehouse else (None, 0)
    outcome = {
        "rows": rows,
        "reps": reps,
        "lines": len(result.lines),
        "engine_s": engine_s,
        "loop_s": loop_s,
        "speedup": loop_s / engine_s,
        "full_run_s": full_s,
        "written": written,
    }
    echo(
        f"engine {engine_s:.1f}s (target <= 10 s), per-row loop {loop_s:.1f}s: {outcome['speedup']:.1f}x; "
        + (f"full run {full_s:.1f}s (target <= 60 s)" if full_s is not None else "full run skipped")
    )
    if output:
        _append(output, outcome)
    return outcome


def _append(output: Path, o: dict) -> None:
    from salesops.benchmark import append_rows

    full = f"{o['full_run_s']:.1f}" if o["full_run_s"] is not None else "-"
    row = (
        f"| {datetime.now():%Y-%m-%d %H:%M} | {platform.machine()} {os.cpu_count()} cores "
        f"| {o['rows']:,} | {o['reps']:,} | {o['lines']:,} | {o['engine_s']:.1f} | {o['loop_s']:.1f} "
        f"| {o['speedup']:.1f}x | {full} |"
    )
    append_rows(
        output,
        RESULTS_MARK,
        "| date | machine | deals | reps | lines | engine s | per-row loop s | "
        "engine speed-up | full run s |\n|---|---|---:|---:|---:|---:|---:|---:|---:|",
        [row],
    )
