"""Choosing a model per series by rolling-origin backtest, forecasting, and scoring forecasts.

The protocol (docs/forecasting.md), the same for ``salesops forecast``, the tests and the
benchmark:

- **Choice.** A series' model is the candidate (``models.CANDIDATES``) with the smallest
  absolute error over up to four inner rolling origins inside the history it is given:
  cutoffs ``n - k*h'`` (k = 1..4; ``h' = min(h, n - 4)``), each fitted on the months up to
  its cutoff only. Ties go to the earlier candidate.
- **Awkward series.** All zeros: ``zero``. Under 6 months: the history ``mean`` (a warning
  says so). A month without a row is a zero (``series.from_frame``).
- **Backtest.** Outer cutoffs ``last - k*h`` for k = 1..N (h months apart); at each, the
  choice above runs on the history up to the cutoff only and the chosen model forecasts the
  next h months; seasonal naive and ETS are scored on the same folds.
- **Metrics.** MASE: mean absolute error over the fold divided by the in-sample MAE of the
  seasonal naive on the fold's history (m = 12, m = 1 under 24 months); folds whose scale is
  zero are left out of the mean and counted. WAPE: sum of absolute errors over sum of
  absolute actuals. Coverage: the share of actuals inside the 80% / 95% intervals.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.forecast import models
from ml.forecast.series import ForecastInputError, Series

MIN_HISTORY = 6  # months before a model is chosen; shorter histories get the mean
MIN_INNER_TRAIN = 4  # months of history an inner fold fits on
INNER_FOLDS = 4  # inner rolling origins the choice is made on (2: noisier choices, 6: staler)
BASELINES = ("seasonal_naive", "ets")  # always scored next to the chosen models


@dataclass(frozen=True)
class SeriesForecast:
    series_id: str
    model: str
    periods: pd.PeriodIndex
    forecast: models.Forecast
    note: str | None = None  # why a fallback was used, for the warning line


_FITS: dict[tuple, dict[str, models.Forecast | None]] = {}


def fit_all(
    y: np.ndarray, h: int, candidates: tuple[str, ...], context: models.Context | None = None
) -> dict[str, models.Forecast]:
    """``models.fit_all``, remembered per candidate: the rolling origins of a backtest and of the
    choice inside each of its folds fit the same histories again (a fold h months back is the
    next cutoff's inner fold), so each model is fitted once per history and process."""
    key = (y.tobytes(), h, None if context is None else context.key())
    if key not in _FITS and len(_FITS) >= 4096:
        _FITS.clear()
    done = _FITS.setdefault(key, {})
    missing = tuple(name for name in candidates if name not in done)
    if missing:
        fitted = models.fit_all(y, h, missing, context)
        done |= {name: fitted.get(name) for name in missing}
    return {name: done[name] for name in candidates if done[name] is not None}


def choose(
    y: np.ndarray,
    h: int,
    candidates: tuple[str, ...] = models.CANDIDATES,
    context: models.Context | None = None,
) -> str | None:
    """The candidate with the smallest inner-backtest absolute error on ``y`` (see module doc);
    None when no candidate could be fitted on every inner origin."""
    n = len(y)
    step = min(h, n - MIN_INNER_TRAIN)
    cutoffs = [n - k * step for k in range(1, INNER_FOLDS + 1) if n - k * step >= MIN_INNER_TRAIN]
    errors: dict[str, list[float]] = {}
    for cutoff in cutoffs:
        actual = y[cutoff : cutoff + step]
        inner = None if context is None else context.upto(cutoff)
        for name, forecast in fit_all(y[:cutoff], step, candidates, inner).items():
            errors.setdefault(name, []).append(float(np.abs(forecast.mean - actual).sum()))
    scored = {name: sum(e) for name, e in errors.items() if len(e) == len(cutoffs)}
    if not scored:
        return None
    return min(scored, key=lambda name: (scored[name], candidates.index(name)))


def forecast_series(
    series: Series, h: int, model: str | None = None, candidates: tuple[str, ...] = models.CANDIDATES
) -> SeriesForecast:
    """The next ``h`` months of one series, by ``model`` if given and it can be fitted, else by
    the model ``choose`` picks on its whole history."""
    y = series.values
    context = series.context()
    periods = pd.period_range(series.end + 1, periods=h, freq="M")
    if not y.any():
        return SeriesForecast(
            series.series_id,
            "zero",
            periods,
            models.fit("zero", y, h),
            f"all {len(y)} months are zero: forecast 0",
        )
    if len(y) < MIN_HISTORY:
        return SeriesForecast(
            series.series_id,
            "mean",
            periods,
            models.fit("mean", y, h),
            f"{len(y)} months of history (under {MIN_HISTORY}): forecast with the "
            "history mean, wide intervals",
        )
    if model in models.CANDIDATES:
        try:
            return SeriesForecast(series.series_id, model, periods, models.fit(model, y, h, context))
        except models.Unfit:
            pass
    name = choose(y, h, candidates, context)
    fits = fit_all(y, h, candidates if name is None else (name,), context)
    if name not in fits:  # no candidate fits this history (a narrowed candidate list)
        return SeriesForecast(
            series.series_id,
            "mean",
            periods,
            models.fit("mean", y, h),
            f"none of {', '.join(candidates)} fits its {len(y)} months: history mean",
        )
    return SeriesForecast(series.series_id, name, periods, fits[name])


def rows(result: SeriesForecast) -> pd.DataFrame:
    f = result.forecast
    return pd.DataFrame(
        {
            "series_id": result.series_id,
            "period": result.periods,
            "model": result.model,
            "forecast": f.mean,
            "lower_80": f.lower[80],
            "upper_80": f.upper[80],
            "lower_95": f.lower[95],
            "upper_95": f.upper[95],
        }
    )


def map_series(function, items: list, jobs: int | None) -> list:
    """``function`` over ``items``, on every core when there is enough to share."""
    jobs = jobs or os.cpu_count() or 1
    if jobs == 1 or len(items) < 8:
        return [function(item) for item in items]
    from joblib import Parallel, delayed

    return Parallel(n_jobs=jobs)(delayed(function)(item) for item in items)


def predict(series: list[Series], h: int, jobs: int | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Forecast rows for the ``h`` months after each series' last period, and the warnings."""
    results = map_series(lambda s: forecast_series(s, h), series, jobs)
    notes = [f"series {r.series_id}: {r.note}" for r in results if r.note]
    return pd.concat([rows(r) for r in results], ignore_index=True), notes


def _backtest_one(series: Series, h: int, cutoffs: int, candidates: tuple[str, ...]) -> list[pd.DataFrame]:
    out = []
    for k in range(cutoffs, 0, -1):
        length = len(series.values) - k * h
        if length < 1:
            continue
        cutoff = series.start + (length - 1)
        history = series.upto(cutoff)
        actual = series.values[length : length + h]
        chosen = forecast_series(history, h, candidates=candidates)
        runs = [("chosen", chosen)]
        for name in BASELINES:
            try:
                baseline = fit_all(history.values, h, (name,), history.context()).get(name)
                if baseline is None:
                    raise models.Unfit(name)
            except models.Unfit:  # too short for the baseline itself: its fallback, as the chosen one
                runs.append((name, chosen))
                continue
            runs.append((name, SeriesForecast(series.series_id, name, chosen.periods, baseline)))
        scale = mase_scale(history.values)
        for role, result in runs:
            out.append(rows(result).assign(role=role, cutoff=cutoff, actual=actual, scale=scale))
    return out


def backtest(
    series: list[Series],
    h: int,
    cutoffs: int,
    jobs: int | None = None,
    candidates: tuple[str, ...] = models.CANDIDATES,
) -> pd.DataFrame:
    """Rolling-origin predictions of the chosen models and the baselines (column ``role``)."""
    return backtest_and_choose(series, h, cutoffs, jobs, candidates, choose_too=False)[0]


def backtest_and_choose(
    series: list[Series],
    h: int,
    cutoffs: int,
    jobs: int | None = None,
    candidates: tuple[str, ...] = models.CANDIDATES,
    choose_too: bool = True,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The backtest, and the model each series chooses on its whole history (in the same job,
    so the choice reuses the backtest's fits)."""

    def one(s: Series):
        frames = _backtest_one(s, h, cutoffs, candidates)
        return frames, forecast_series(s, h, candidates=candidates).model if choose_too else None

    results = map_series(one, series, jobs)
    choices = {s.series_id: choice for s, (_, choice) in zip(series, results, strict=True)}
    rows = [frame for frames, _ in results for frame in frames]
    if not rows:
        raise ForecastInputError(f"no series is longer than {h} months: nothing to backtest")
    return pd.concat(rows, ignore_index=True), choices


def mase_scale(history: np.ndarray) -> float:
    """In-sample MAE of the seasonal naive (m = 12 with 24+ months, else 1); NaN if undefined."""
    m = models.season_length(len(history))
    if len(history) <= m:
        return float("nan")
    return float(np.mean(np.abs(history[m:] - history[:-m])))


def metrics(predictions: pd.DataFrame) -> pd.DataFrame:
    """MASE, WAPE and 80%/95% coverage per role over all series and folds (see module doc)."""
    p = predictions.assign(error=(predictions["forecast"] - predictions["actual"]).abs())
    folds = p.groupby(["role", "series_id", "cutoff"], sort=False).agg(
        mae=("error", "mean"), scale=("scale", "first")
    )
    folds["mase"] = folds["mae"] / folds["scale"].where(folds["scale"] > 0)
    out = pd.DataFrame(
        {
            "mase": folds.groupby("role", sort=False)["mase"].mean(),
            "folds": folds.groupby("role", sort=False)["mase"].size(),
            "folds_without_scale": folds.groupby("role", sort=False)["mase"].apply(
                lambda s: int(s.isna().sum())
            ),
            "wape": p.groupby("role", sort=False).apply(
                lambda g: g["error"].sum() / g["actual"].abs().sum() if g["actual"].abs().sum() else np.nan,
                include_groups=False,
            ),
            "coverage_80": p.assign(inside=p["actual"].between(p["lower_80"], p["upper_80"]))
            .groupby("role", sort=False)["inside"]
            .mean(),
            "coverage_95": p.assign(inside=p["actual"].between(p["lower_95"], p["upper_95"]))
            .groupby("role", sort=False)["inside"]
            .mean(),
        }
    )
    return out
