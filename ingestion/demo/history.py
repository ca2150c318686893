"""Years of deal history before the Maven window (``salesops demo-data --years N``).

The Maven export covers 15 months, too short to forecast from (no season repeats twice).
This writes ``sales_pipeline_history.csv`` in the Maven pipeline layout (same columns, so the
CRM channel loads it with the Maven preset): won and lost deals of the same reps, products and
accounts in the N years that end the month before the export's first close (the Maven window
opens in 2016-10 but closes nothing before 2017-03), so the two together read as one company's
monthly history without a hole. What a forecaster should find in it:

- **trend**: the monthly deal volume grows from 60% to the level each rep has in the Maven
  export;
- **seasonality**: the Maven export's own quarter rhythm — the first month of a quarter sells
  least (×0.65), the last most (×1.2..1.25);
- **reps joining**: a third of the reps join during the history (nothing before their first
  month); their series are short;
- **reps leaving**: ``LEAVERS`` former reps (fake names, in Maven's teams) sell at an average
  rep's level and leave during the history, never reaching the Maven window; they are in
  ``sales_teams_history.csv`` (the Maven teams layout);
- **one regime change**: halfway through, a price rise lifts every deal's value by 15%.

Deal counts are Poisson draws around that level; values are the product's list price ±15%;
engage dates 1 to 17 weeks before the close. Seeded: same seed and years, same file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import config as C
from .maven import PRODUCTS, Maven
from .rand import rng_for

FILE = "sales_pipeline_history.csv"
TEAMS_FILE = "sales_teams_history.csv"
LEAVERS = 4
SEASON = np.array([0.65, 0.95, 1.25, 0.65, 0.95, 1.25, 0.65, 0.95, 1.2, 0.65, 0.95, 1.2])  # Jan..Dec
PRICE_RISE = 1.15
LOST_PER_WON = 0.6


def write(out_dir: Path, mv: Maven, years: int, seed: int) -> list[tuple[Path, int]]:
    if years <= 0:
        return []
    rng = rng_for(seed, "history", years)
    closes = mv.close_day[mv.close_day >= 0]
    first_close = (pd.Period(C.PERIOD_START, freq="M") if not len(closes) else
                   pd.Period(pd.Timestamp(C.PERIOD_START) + pd.Timedelta(days=int(closes.min())), freq="M"))
    months = pd.period_range(first_close - 12 * years, first_close - 1, freq="M")
    closing_months = max(len({(pd.Timestamp(C.PERIOD_START) + pd.Timedelta(days=int(d))).to_period("M")
                              for d in np.unique(closes)}), 1)
    reps = sorted(mv.teams["sales_agent"])
    won = mv.pipeline[mv.pipeline["deal_stage"] == "Won"].groupby("sales_agent").size()
    level = np.array([max(won.get(rep, 0) / closing_months, 0.5) for rep in reps])  # a month in Maven
    joins = np.where(rng.random(len(reps)) < 1 / 3, rng.integers(1, len(months) - 3, len(reps)), 0)
    leavers = _leavers(mv, rng)
    reps += list(leavers["sales_agent"])
    level = np.concatenate([level, np.full(len(leavers), level.mean())])
    joins = np.concatenate([joins, np.zeros(len(leavers), dtype=joins.dtype)])
    leaves = np.full(len(reps), len(months))  # the month index a rep stops selling
    leaves[-len(leavers):] = rng.integers(len(months) // 3, len(months) - 2, len(leavers))
    accounts = mv.accounts["account"].to_numpy(dtype=object)
    products = np.array([p[0] for p in PRODUCTS], dtype=object)
    prices = np.array([float(p[2]) for p in PRODUCTS])
    shares = np.array([p[3] for p in PRODUCTS])
    rows = []
    for t, month in enumerate(months):
        trend = 0.6 + 0.4 * t / (len(months) - 1)
        rate = level * trend * SEASON[month.month - 1]
        rate[(joins > t) | (leaves <= t)] = 0.0
        for stage, factor in (("Won", 1.0), ("Lost", LOST_PER_WON)):
            counts = rng.poisson(rate * factor)
            for rep, n in zip(reps, counts, strict=True):
                if n:
                    rows.append((month, rep, stage, int(n), t >= len(months) // 2))
    total = sum(r[3] for r in rows)
    which = rng.choice(len(products), size=total, p=shares / shares.sum())
    spread = rng.uniform(0.85, 1.15, total)
    days = rng.random(total)
    engage_lag = rng.integers(7, 120, total)
    out = {k: [] for k in ("opportunity_id", "sales_agent", "product", "account", "deal_stage", "engage_date",
                           "close_date", "close_value")}
    i = 0
    for month, rep, stage, n, risen in rows:
        start, length = month.start_time, month.days_in_month
        for _ in range(n):
            close = start + pd.Timedelta(days=int(days[i] * length))
            value = round(prices[which[i]] * spread[i] * (PRICE_RISE if risen else 1.0))
            out["opportunity_id"].append(f"H{i:07d}")
            out["sales_agent"].append(rep)
            out["product"].append(products[which[i]])
            out["account"].append(accounts[rng.integers(len(accounts))])
            out["deal_stage"].append(stage)
            out["engage_date"].append(f"{close - pd.Timedelta(days=int(engage_lag[i])):%Y-%m-%d}")
            out["close_date"].append(f"{close:%Y-%m-%d}")
            out["close_value"].append(str(value if stage == "Won" else 0))
            i += 1
    path, teams = Path(out_dir) / FILE, Path(out_dir) / TEAMS_FILE
    pd.DataFrame(out).to_csv(path, index=False, lineterminator="\n")
    leavers.to_csv(teams, index=False, lineterminator="\n")
    return [(path, total), (teams, len(leavers))]


def _leavers(mv: Maven, rng) -> pd.DataFrame:
    """``LEAVERS`` former reps with fake names no Maven rep has, each in a Maven manager's team."""
    from .names import WESTERN_FIRST, WESTERN_LAST

    taken, names = set(mv.teams["sales_agent"]), []
    while len(names) < LEAVERS:
        first, last = rng.integers(len(WESTERN_FIRST)), rng.integers(len(WESTERN_LAST))
        name = f"{WESTERN_FIRST[first]} {WESTERN_LAST[last]}"
        if name not in taken:
            taken.add(name)
            names.append(name)
    teams = mv.teams[["manager", "regional_office"]].drop_duplicates().reset_index(drop=True)
    picked = teams.iloc[rng.integers(len(teams), size=LEAVERS)].reset_index(drop=True)
    return pd.DataFrame({"sales_agent": names, **picked})
