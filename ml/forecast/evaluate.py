"""Choosing a model per series by rolling-origin backtest, forecasting, and scoring forecasts.

The protocol (docs/forecasting.md), the same for ``salesops forecast``, the tests and the
benchmark:

- **Choice.** A series' model is the candidate (``models.CANDIDATES``) with the smallest
  absolute error over up to four inner rolling origins inside the history it is given:
  cutoffs ``n - k*h'`` (k = 1..4; ``h' = min(h, n - 4)``), each fitted on the months up to
  its cutoff only. Ties go to the earlier candidate. **Pooled** (the sales hierarchy): the
  series of one level share the candidate with the smallest sum of their inner errors, each
  in units of its own mean absolute value (``pick_for_group``); a series it cannot be
  fitted on takes its own choice.
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
from dataclasses import dataclass, replace

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


def _inner_cutoffs(n: int, h: int) -> tuple[list[int], int]:
    """The inner origins of an ``n``-month history and the months each forecasts (see module doc)."""
    step = min(h, n - MIN_INNER_TRAIN)
    return [n - k * step for k in range(1, INNER_FOLDS + 1) if n - k * step >= MIN_INNER_TRAIN], step


def inner_errors(
    y: np.ndarray,
    h: int,
    candidates: tuple[str, ...] = models.CANDIDATES,
    context: models.Context | None = None,
) -> dict[str, float]:
    """Each candidate's total absolute error over the inner rolling origins of ``y`` (see module
    doc); only candidates fitted on every inner origin are scored."""
    cutoffs, step = _inner_cutoffs(len(y), h)
    errors: dict[str, list[float]] = {}
    for cutoff in cutoffs:
        actual = y[cutoff : cutoff + step]
        inner = None if context is None else context.upto(cutoff)
        for name, forecast in fit_all(y[:cutoff], step, candidates, inner).items():
            errors.setdefault(name, []).append(float(np.abs(forecast.mean - actual).sum()))
    return {name: sum(e) for name, e in errors.items() if len(e) == len(cutoffs)}


def choose(
    y: np.ndarray,
    h: int,
    candidates: tuple[str, ...] = models.CANDIDATES,
    context: models.Context | None = None,
) -> str | None:
    """The candidate with the smallest inner-backtest absolute error on ``y`` (see module doc);
    None when no candidate could be fitted on every inner origin."""
    return _lowest(inner_errors(y, h, candidates, context), candidates)


def _lowest(scores: dict[str, float], candidates: tuple[str, ...]) -> str | None:
    """The lowest score; ties go to the earlier candidate."""
    if not scores:
        return None
    return min(scores, key=lambda name: (scores[name], candidates.index(name)))


@dataclass(frozen=True)
class Evidence:
    """What choosing a model for one series at one origin needs: its inner-backtest errors and
    every candidate fitted on its history (or the fallback an awkward series gets)."""

    series: Series  # the history up to the origin
    errors: dict[str, float]
    fits: dict[str, models.Forecast]
    fallback: SeriesForecast | None = None  # all zero or too short: no choice to make

    points: int = 0  # months its inner origins forecast (each error is a sum over these)

    @property
    def weight(self) -> float:
        """The series' mean absolute value: a group's errors are compared in these units."""
        return float(np.mean(np.abs(self.series.values)))


def _by(series: Series, h: int, name: str, forecast: models.Forecast | None = None, note: str | None = None):
    """The series' next ``h`` months by ``name`` (fitted here unless ``forecast`` is given)."""
    periods = pd.period_range(series.end + 1, periods=h, freq="M")
    fitted = forecast if forecast is not None else models.fit(name, series.values, h)
    return SeriesForecast(series.series_id, name, periods, fitted, note)


def _fallback(series: Series, h: int) -> SeriesForecast | None:
    n = len(series.values)
    if not series.values.any():
        return _by(series, h, "zero", note=f"all {n} months are zero: forecast 0")
    if n < MIN_HISTORY:
        return _by(
            series,
            h,
            "mean",
            note=f"{n} months of history (under {MIN_HISTORY}): forecast with the "
            "history mean, wide intervals",
        )
    return None


def evidence(series: Series, h: int, candidates: tuple[str, ...] = models.CANDIDATES) -> Evidence:
    fallback = _fallback(series, h)
    if fallback is not None:
        return Evidence(series, {}, {}, fallback)
    context = series.context()
    cutoffs, step = _inner_cutoffs(len(series.values), h)
    return Evidence(
        series,
        inner_errors(series.values, h, candidates, context),
        fit_all(series.values, h, candidates, context),
        points=len(cutoffs) * step,
    )


GROUP_COVERAGE = 0.8  # the share of a level's series a candidate must be scored on to be shared


def pick_for_group(group: list[Evidence], candidates: tuple[str, ...]) -> str | None:
    """One model for a group of series (a level of the sales hierarchy): the candidate with the
    smallest mean inner-backtest error per forecast month, each series' errors in units of its
    own mean absolute value, over the series it was scored on; a candidate scored on fewer than
    ``GROUP_COVERAGE`` of the series with a choice to make (too short for it) is not shared."""
    chosen = [e for e in group if e.fallback is None and e.errors]
    scores = {}
    for name in candidates:
        scored = [e for e in chosen if name in e.errors]
        if scored and len(scored) >= GROUP_COVERAGE * len(chosen):
            scores[name] = sum(e.errors[name] / e.weight for e in scored) / sum(e.points for e in scored)
    return _lowest(scores, candidates)


def result(ev: Evidence, h: int, model: str | None, candidates: tuple[str, ...]) -> SeriesForecast:
    """The series' forecast by ``model`` (a group's choice), else by its own choice, else the
    history mean when nothing fits."""
    if ev.fallback is not None:
        return ev.fallback
    for name in (model, _lowest(ev.errors, candidates)):
        if name in ev.fits:
            return _by(ev.series, h, name, ev.fits[name])
    n = len(ev.series.values)
    return _by(
        ev.series, h, "mean", note=f"none of {', '.join(candidates)} fits its {n} months: history mean"
    )


def forecast_series(
    series: Series, h: int, model: str | None = None, candidates: tuple[str, ...] = models.CANDIDATES
) -> SeriesForecast:
    """The next ``h`` months of one series, by ``model`` if given and it can be fitted, else by
    the model ``choose`` picks on its whole history."""
    fallback = _fallback(series, h)
    if fallback is not None:
        return fallback
    if model in models.CANDIDATES:
        try:
            return _by(series, h, model, models.fit(model, series.values, h, series.context()))
        except models.Unfit:
            pass
    return result(evidence(series, h, candidates), h, None, candidates)


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


@dataclass(frozen=True)
class _Fold:
    cutoff: pd.Period
    actual: np.ndarray
    evidence: Evidence
    baselines: dict[str, models.Forecast]  # the baselines that can be fitted on the history


def _folds(series: Series, h: int, cutoffs: int, candidates: tuple[str, ...]) -> list[_Fold]:
    out = []
    for k in range(cutoffs, 0, -1):
        length = len(series.values) - k * h
        if length < 1:
            continue
        cutoff = series.start + (length - 1)
        history = series.upto(cutoff)
        baselines = fit_all(history.values, h, BASELINES, history.context())
        out.append(
            _Fold(cutoff, series.values[length : length + h], evidence(history, h, candidates), baselines)
        )
    return out


def _fold_rows(fold: _Fold, chosen: SeriesForecast) -> list[pd.DataFrame]:
    runs = [("chosen", chosen)]
    for name in BASELINES:  # a history too short for a baseline gets its fallback, as the chosen one
        baseline = fold.baselines.get(name)
        runs.append((name, chosen if baseline is None else replace(chosen, model=name, forecast=baseline)))
    scale = mase_scale(fold.evidence.series.values)
    return [
        rows(run).assign(role=role, cutoff=fold.cutoff, actual=fold.actual, scale=scale) for role, run in runs
    ]


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
    pooled: bool = False,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The backtest, and the model each series chooses on its whole history (from the same fits).

    ``pooled``: the series are one group (a level of the sales hierarchy) and share one model,
    chosen at each origin by ``pick_for_group`` on the group's histories up to it."""

    if pooled and len({s.end for s in series}) > 1:  # origins are counted back from a shared end
        raise ValueError("a pooled backtest needs series that end in the same month")

    def one(s: Series):
        return _folds(s, h, cutoffs, candidates), evidence(s, h, candidates) if choose_too else None

    done = map_series(one, series, jobs)
    by_series: list[list[pd.DataFrame]] = [[] for _ in done]
    for k in range(cutoffs):  # origin k of every series that reaches back to it (the earliest first)
        at_origin = [
            (i, folds[k - cutoffs + len(folds)])
            for i, (folds, _) in enumerate(done)
            if len(folds) >= cutoffs - k
        ]
        shared = pick_for_group([f.evidence for _, f in at_origin], candidates) if pooled else None
        for i, fold in at_origin:
            by_series[i] += _fold_rows(fold, result(fold.evidence, h, shared, candidates))
    frames = [frame for frames in by_series for frame in frames]
    if not frames:
        raise ForecastInputError(f"no series is longer than {h} months: nothing to backtest")
    choices = {}
    if choose_too:
        whole = [ev for _, ev in done]
        shared = pick_for_group(whole, candidates) if pooled else None
        choices = {ev.series.series_id: result(ev, h, shared, candidates).model for ev in whole}
    return pd.concat(frames, ignore_index=True), choices


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
