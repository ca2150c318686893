"""The open pipeline as known at the end of each month: expected won revenue by the month it may close.

What a pure time-series model cannot see. For a month-end T (docs/forecasting.md):

- **open at T**: engaged on or before T and not closed by T (a later close is still open at
  T). Deals never engaged cannot be placed in time and are left out;
- **value**: the product's list price in USD (known while a deal is open; an open deal's
  amount is not, and a closed one's would leak its outcome). No list price: no value;
- **win probability**: the product's win rate over deals closed by T, smoothed towards the
  overall rate by ``PRIOR_DEALS`` pseudo-deals;
- **expected close month**: from the durations (engage to close) of the deals closed by T:
  a deal of age a closes in month T+k with probability (S(start_k) - S(end_k)) / S(a), S
  the share of those durations above a day count, start_k/end_k the deal's age at the
  start and end of month T+k. A deal older than every closed one is not expected to close.

``expected_by_month`` returns, per (kind, key, month T, step k = 1..``STEPS``), the sum
over the key's open deals of value x win probability x P(close in T+k). Before any deal has
closed there is no basis: nothing is expected. Everything is read from rows dated on or
before T, so the figures for T are the same whatever happened after it (tested).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

STEPS = 12  # months ahead the pipeline is spread over
PRIOR_DEALS = 5  # pseudo-deals at the overall win rate in a product's rate
COLUMNS = ["kind", "key", "month", "step", "expected"]
NO_REP = "(no rep)"  # the marts' rep of deals that name none (int_rep_months_aggregated)


def expected_by_month(opportunities: pd.DataFrame, months: pd.PeriodIndex) -> pd.DataFrame:
    """Expected won revenue of the open pipeline per rep and per product (``COLUMNS``), for each
    month-end of ``months`` and each of the ``STEPS`` months after it. ``opportunities`` has
    the columns of ``win_probability.COLUMNS``."""
    deals = opportunities[opportunities["engaged_date"].notna()]
    engaged = deals["engaged_date"].to_numpy("datetime64[D]")
    closed = deals["closed_date"].to_numpy("datetime64[D]")  # NaT while open
    is_closed = ~np.isnat(closed)
    won = deals["is_won"].fillna(False).astype(bool).to_numpy()
    value = pd.to_numeric(deals["list_price_usd"], errors="coerce").fillna(0.0).to_numpy(float)
    product = deals["product_name"].fillna("(unknown)").to_numpy(object)
    frames = []
    for month in months:
        day = np.datetime64((month + 1).start_time.date(), "D") - 1  # the month's last day
        done = is_closed & (closed <= day)
        if not done.any():
            continue
        durations = np.sort((closed[done] - engaged[done]).astype(int))
        overall = won[done].mean()
        rates = _smoothed_rates(product[done], won[done], overall)
        open_ = (engaged <= day) & ~done
        if not open_.any():
            continue
        age = (day - engaged[open_]).astype(int)
        # the deal's age at the end of each of the next STEPS months
        ends = np.array([np.datetime64((month + k + 1).start_time.date(), "D") - 1 for k in range(STEPS + 1)])
        age_at = (ends[None, :] - engaged[open_][:, None]).astype(int)  # (deals, STEPS + 1); [:, 0] == age
        survive = len(durations) - np.searchsorted(durations, age_at, side="right")  # durations above
        alive = survive[:, :1].astype(float)
        share = np.divide(
            survive[:, :-1] - survive[:, 1:], alive, out=np.zeros((len(age), STEPS)), where=alive > 0
        )
        weight = value[open_] * pd.Series(product[open_]).map(rates).fillna(overall).to_numpy(float)
        expected = share * weight[:, None]
        table = pd.DataFrame(expected, columns=range(1, STEPS + 1))
        table["rep"] = deals["rep_name"].fillna(NO_REP).to_numpy(object)[open_]
        table["product"] = product[open_]
        for kind in ("rep", "product"):
            summed = table.drop(columns=[k for k in ("rep", "product") if k != kind]).groupby(kind).sum()
            long = summed.stack().rename("expected").reset_index()
            long.columns = ["key", "step", "expected"]
            frames.append(long.assign(kind=kind, month=month))
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.concat(frames, ignore_index=True)[COLUMNS]
    return out.astype({"step": int, "expected": float})


def _smoothed_rates(product: np.ndarray, won: np.ndarray, overall: float) -> pd.Series:
    grouped = pd.DataFrame({"product": product, "won": won}).groupby("product")["won"].agg(["size", "sum"])
    return (grouped["sum"] + PRIOR_DEALS * overall) / (grouped["size"] + PRIOR_DEALS)


def matrix(rows: pd.DataFrame, start: pd.Period, length: int) -> np.ndarray:
    """One series' expected pipeline as an array (month from ``start``, step): row i holds what
    was expected at the end of month i for months i+1 .. i+STEPS; zeros where nothing was."""
    out = np.zeros((length, STEPS))
    if len(rows):
        position = pd.PeriodIndex(rows["month"], freq="M").asi8 - start.ordinal
        keep = (position >= 0) & (position < length)
        np.add.at(
            out,
            (position[keep], rows["step"].to_numpy(int)[keep] - 1),
            rows["expected"].to_numpy(float)[keep],
        )
    return out
