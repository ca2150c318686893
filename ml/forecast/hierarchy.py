"""Monthly won revenue of the sales hierarchy, forecast coherently.

Levels: ``company`` ← ``region`` ← ``team`` (the manager) ← ``rep``, and ``product`` (the
company split by product). History comes from the marts (``rep_performance_monthly``: won
revenue in USD per rep and month, zero months included; ``fct_opportunities`` for products),
read as ``salesops_ml``. Every series runs to the company's last month with data, so every
forecast covers the same months.

Reconciliation (docs/forecasting.md), exact to the cent:

- reps are forecast by their own chosen models and rounded to cents (half to even);
- a team's point forecast is the sum of its reps', a region's the sum of its teams', the
  company's the sum of its regions' (bottom-up): they add up by construction;
- products are forecast on their own, then their forecasts are used as shares of the
  company's point forecast, allocated to the cent by largest remainder: they add up too;
- the interval of a team, region, company or product is the width of that series' own
  model's interval, centred on the reconciled point (clipped at zero).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from ml.forecast import evaluate, models, pipeline
from ml.forecast.money import allocate, cents
from ml.forecast.series import Series, from_frame

LEVELS = ("company", "region", "team", "rep", "product")
COMPANY = "all"
NO_TEAM, NO_REGION = "(no team)", "(no region)"
BOUNDS = ("lower_80", "upper_80", "lower_95", "upper_95")


@dataclass(frozen=True)
class History:
    reps: pd.DataFrame  # rep_name, manager_name, region, month, won_revenue
    products: pd.DataFrame  # product_name, month, won_revenue
    pipeline: pd.DataFrame | None = None  # pipeline.COLUMNS: the open pipeline per rep / product

    @property
    def last_month(self) -> pd.Period:
        return pd.Period(self.reps["month"].max(), freq="M")


def load_history(url: str) -> History:
    """The history and the open pipeline at each month's end, read from the marts as the ML role."""
    import psycopg

    from ml.forecast.win_probability import load_opportunities
    from salesops.warehouse import role_url

    with psycopg.connect(role_url(url, "ml")) as conn:
        reps = conn.execute(
            "select rep_name, coalesce(manager_name, %s), coalesce(region, %s), month, won_revenue"
            " from marts.rep_performance_monthly where rep_name is not null",
            (NO_TEAM, NO_REGION),
        ).fetchall()
        products = conn.execute(
            "select coalesce(product_name, '(unknown)'), closed_month, sum(amount_usd)"
            " from marts.fct_opportunities"
            " where is_won and closed_month is not null and amount_usd is not null group by 1, 2"
        ).fetchall()
    if not reps:
        from ml.forecast.series import ForecastInputError

        raise ForecastInputError(
            "marts.rep_performance_monthly holds no months yet: run the transform "
            "(`salesops run` or `salesops build`) before forecasting"
        )
    reps = pd.DataFrame(reps, columns=["rep_name", "manager_name", "region", "month", "won_revenue"])
    months = pd.period_range(
        pd.Period(reps["month"].min(), freq="M"), pd.Period(reps["month"].max(), freq="M")
    )
    return History(
        reps,
        pd.DataFrame(products, columns=["product_name", "month", "won_revenue"]),
        pipeline.expected_by_month(load_opportunities(url), months),
    )


def _series(frame: pd.DataFrame, key: str, end: pd.Period, pipe: pd.DataFrame | None = None) -> list[Series]:
    """The series of ``frame`` by ``key``, each to ``end``, with its rows of ``pipe`` (by key)."""
    rows = frame.rename(columns={key: "series_id", "month": "period", "won_revenue": "value"})
    rows = rows.assign(value=rows["value"].astype(float), period=pd.PeriodIndex(rows["period"], freq="M"))
    rows = rows[rows["period"] <= end]
    by_key = {} if pipe is None else dict(iter(pipe.groupby(key)))
    out = []
    for s in from_frame(rows[["series_id", "period", "value"]]):
        tail = end.ordinal - s.end.ordinal  # months after its last row: no sales
        values = np.concatenate([s.values, np.zeros(tail)])
        expected = (
            None
            if pipe is None
            else pipeline.matrix(by_key.get(s.series_id, pipe.iloc[:0]), s.start, len(values))
        )
        out.append(Series(s.series_id, s.start, values, s.filled + tail, expected))
    return out


def tree(history: History) -> pd.DataFrame:
    """rep → team → region: each rep in the team of its latest month, each team in the region
    most of its reps were in that month (so a team has one region)."""
    latest = history.reps.sort_values("month").groupby("rep_name").tail(1).set_index("rep_name")
    team_region = latest.groupby("manager_name")["region"].agg(lambda s: s.mode().iloc[0])
    return pd.DataFrame(
        {"manager_name": latest["manager_name"], "region": latest["manager_name"].map(team_region)}
    )


def all_series(history: History) -> dict[str, list[Series]]:
    """The series of every level (keys: ``LEVELS``)."""
    end = history.last_month
    reps = history.reps.drop(columns=["manager_name", "region"]).join(tree(history), on="rep_name")
    rep_pipe = product_pipe = None
    if history.pipeline is not None:  # each rep's open deals count in its team and region of today
        kind = history.pipeline.groupby("kind")
        none = history.pipeline.iloc[:0]
        rep_pipe = (kind.get_group("rep") if "rep" in kind.groups else none).rename(
            columns={"key": "rep_name"}
        )
        # (an inner join on a column can name the index after the key: drop it)
        rep_pipe = rep_pipe.join(tree(history), on="rep_name", how="inner").reset_index(drop=True)
        rep_pipe = rep_pipe.assign(company=COMPANY)
        product_pipe = (kind.get_group("product") if "product" in kind.groups else none).rename(
            columns={"key": "product_name"}
        )
    return {
        "company": _series(reps.assign(company=COMPANY), "company", end, rep_pipe),
        "region": _series(reps, "region", end, rep_pipe),
        "team": _series(reps, "manager_name", end, rep_pipe),
        "rep": _series(reps, "rep_name", end, rep_pipe),
        "product": _series(history.products, "product_name", end, product_pipe),
    }


def _frame(result: evaluate.SeriesForecast, level: str) -> pd.DataFrame:
    """``evaluate.rows`` of one series, keyed by level and series, the point kept as ``base``."""
    return (
        evaluate.rows(result)
        .rename(columns={"series_id": "series_key", "forecast": "base"})
        .assign(level=level, horizon=np.arange(1, len(result.periods) + 1))
    )


def forecast(
    history: History,
    h: int,
    choices: dict[tuple[str, str], str] | None = None,
    jobs: int | None = None,
    candidates: tuple[str, ...] = models.CANDIDATES,
) -> tuple[pd.DataFrame, list[str]]:
    """Reconciled forecasts of every level for the ``h`` months after the history's last month.

    ``choices`` fixes the model of a (level, series key) (a registered model's); other
    series choose their own. Returns rows (level, series_key, period, horizon, model,
    reconciliation, forecast, lower/upper 80/95 as Decimal) and the warnings.
    """
    series = all_series(history)
    flat = [(level, s) for level in LEVELS for s in series[level]]
    fixed = choices or {}
    results = evaluate.map_series(
        lambda item: evaluate.forecast_series(
            item[1], h, fixed.get((item[0], item[1].series_id)), candidates
        ),
        flat,
        jobs,
    )
    notes = [
        f"{level} {r.series_id}: {r.note}"
        for (level, _), r in zip(flat, results, strict=True)
        if r.note and level == "rep"
    ]
    frame = pd.concat(
        [_frame(r, level) for (level, _), r in zip(flat, results, strict=True)], ignore_index=True
    )
    return reconcile(frame, tree(history)), notes


def reconcile(frame: pd.DataFrame, reps: pd.DataFrame) -> pd.DataFrame:
    """Points added up bottom-up from the reps (and products as shares of the company), in cents."""
    frame = frame.copy()
    frame["forecast"] = [cents(v) for v in frame["base"]]
    frame["reconciliation"] = "base"
    key = ["level", "series_key", "period"]
    points = frame.set_index(key)["forecast"].to_dict()
    parents = {
        "rep": reps["manager_name"].to_dict(),  # the team of a rep, the region of a team, ...
        "team": reps.groupby("manager_name")["region"].first().to_dict(),
        "region": dict.fromkeys(reps["region"], COMPANY),
    }
    for child, level in (("rep", "team"), ("team", "region"), ("region", "company")):
        sums: dict[tuple, Decimal] = {}
        for (lvl, series_key, period), value in points.items():
            if lvl == child:
                target = (level, parents[child][series_key], period)
                sums[target] = sums.get(target, Decimal(0)) + value
        points.update(sums)
    company = {period: value for (lvl, _, period), value in points.items() if lvl == "company"}
    products = frame[frame["level"] == "product"]
    for period, rows in products.groupby("period"):
        for (_, row), value in zip(
            rows.iterrows(), allocate(company[period], rows["base"].tolist()), strict=True
        ):
            points[(row["level"], row["series_key"], period)] = value
    frame["forecast"] = [
        points[k] for k in zip(frame["level"], frame["series_key"], frame["period"], strict=True)
    ]
    moved = frame["level"] != "rep"
    frame.loc[moved, "reconciliation"] = np.where(
        frame.loc[moved, "level"] == "product", "top_down_share", "bottom_up"
    )
    shift = frame["forecast"].astype(float) - frame["base"]
    point = frame["forecast"].astype(float)
    for bound in BOUNDS:  # moved with the point; clipped at zero where the point is not below it
        moved_bound = frame[bound] + shift
        floor = np.minimum(point, 0.0)
        frame[bound] = [cents(max(v, f)) for v, f in zip(moved_bound, floor, strict=True)]
    for lower, upper in (("lower_80", "upper_80"), ("lower_95", "upper_95")):  # around the point
        frame[lower] = [min(b, f) for b, f in zip(frame[lower], frame["forecast"], strict=True)]
        frame[upper] = [max(b, f) for b, f in zip(frame[upper], frame["forecast"], strict=True)]
    return frame.drop(columns="base")
