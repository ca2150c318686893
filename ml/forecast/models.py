"""Candidate models for one monthly series: history in, point forecast with 80%/95% intervals out.

Baselines (written here: each is the textbook formula of Hyndman & Athanasopoulos,
*Forecasting: Principles and Practice*, 3rd ed., section 5.5, a few lines each):
``mean``, ``seasonal_naive`` (the value 12 months earlier when the history holds two full
years, else the last value), ``drift``. Statistical models come from statsmodels:
``ets`` (additive-error ETS, chosen by AICc over none/additive/damped trend and, with two
years of history, additive seasonality: what AutoETS does), ``theta`` (the Theta method,
deseasonalised with two years of history) and ``arima`` (ARIMA(0,1,1) with drift; with two
years of history also (1,1,1), by AICc). ``ets_theta`` averages the ETS and Theta forecasts
and their interval bounds. ``gbm`` is a scikit-learn gradient-boosting regressor on lags,
the calendar and, when the series carries it, the open pipeline by expected close month
(``ml.forecast.pipeline``): what a pure time-series model cannot see.

A model that cannot be fitted on a history raises ``Unfit`` and is left out of the choice.
Series that never go below zero get forecasts and bounds clipped at zero.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

LEVELS = (80, 95)
_Z = {80: 1.2815515655446004, 95: 1.959963984540054}  # standard normal quantiles
MIN_MONTHS = {"ets": 4, "theta": 6, "arima": 8, "gbm": 18}  # history before each statistical model is tried
SEASON = 12
WINDOW = 6  # months the moving average takes


class Unfit(Exception):
    """The model cannot be fitted on this history."""


@dataclass(frozen=True)
class Context:
    """What a model may know of a series besides its values (only ``gbm`` reads it)."""

    first_month: int  # month of the year (1..12) of the history's first value
    pipeline: np.ndarray | None = None  # (months, steps): see ``series.Series.pipeline``

    def upto(self, n: int) -> Context:
        return Context(self.first_month, None if self.pipeline is None else self.pipeline[:n])

    def key(self) -> tuple:
        return (self.first_month, None if self.pipeline is None else self.pipeline.tobytes())


@dataclass(frozen=True)
class Forecast:
    mean: np.ndarray
    lower: dict[int, np.ndarray]
    upper: dict[int, np.ndarray]

    def clipped(self, floor: float) -> Forecast:
        clip = lambda a: np.maximum(a, floor)  # noqa: E731
        return Forecast(
            clip(self.mean),
            {lv: clip(a) for lv, a in self.lower.items()},
            {lv: clip(a) for lv, a in self.upper.items()},
        )

    def finite(self) -> bool:
        arrays = [self.mean, *self.lower.values(), *self.upper.values()]
        return all(np.isfinite(a).all() for a in arrays)


def season_length(n: int) -> int:
    """12 with at least two full years of history, else 1 (as the MASE scale)."""
    return SEASON if n >= 2 * SEASON else 1


def _normal(mean: np.ndarray, sigma: np.ndarray) -> Forecast:
    return Forecast(
        mean, {lv: mean - _Z[lv] * sigma for lv in LEVELS}, {lv: mean + _Z[lv] * sigma for lv in LEVELS}
    )


def zero(y: np.ndarray, h: int) -> Forecast:
    return _normal(np.zeros(h), np.zeros(h))


def mean(y: np.ndarray, h: int) -> Forecast:
    """The history mean; sigma is the sample SD (one month of history: the value itself)."""
    sd = np.std(y, ddof=1) if len(y) > 1 else abs(y[0])
    return _normal(np.full(h, y.mean()), np.full(h, sd * np.sqrt(1 + 1 / len(y))))


def moving_average(y: np.ndarray, h: int) -> Forecast:
    """The mean of the last ``WINDOW`` months (two quarter-ends), flat; sigma as ``mean``'s, over
    the window. Noisy series such as one rep's month are often best forecast by their level."""
    if len(y) < WINDOW:
        raise Unfit(f"needs {WINDOW} months")
    return mean(y[-WINDOW:], h)


def seasonal_naive(y: np.ndarray, h: int) -> Forecast:
    m = season_length(len(y))
    if len(y) <= m:
        raise Unfit("needs more than one season")
    residuals = y[m:] - y[:-m]
    sigma = np.sqrt(np.mean(residuals**2))
    steps = np.arange(h)
    return _normal(y[len(y) - m + steps % m], sigma * np.sqrt(steps // m + 1))


def drift(y: np.ndarray, h: int) -> Forecast:
    n = len(y)
    if n < 3:
        raise Unfit("needs three months")
    slope = (y[-1] - y[0]) / (n - 1)
    residuals = np.diff(y) - slope
    sigma = np.sqrt(np.sum(residuals**2) / (n - 2))
    steps = np.arange(1, h + 1)
    return _normal(y[-1] + slope * steps, sigma * np.sqrt(steps * (1 + steps / (n - 1))))


def ets(y: np.ndarray, h: int) -> Forecast:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    n = len(y)
    if n < MIN_MONTHS["ets"]:
        raise Unfit(f"needs {MIN_MONTHS['ets']} months")
    seasonal = n >= 2 * SEASON
    specs = [(None, False, None), ("add", False, None), ("add", True, None)]
    if seasonal:
        specs += [(trend, damped, "add") for trend, damped, _ in specs]
    history = pd.Series(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        best = _lowest_aicc(
            lambda trend=trend, damped=damped, season=season: ETSModel(
                history,
                error="add",
                trend=trend,
                damped_trend=damped,
                seasonal=season,
                seasonal_periods=SEASON if season else None,
                initialization_method="heuristic" if seasonal else "estimated",
            ).fit(disp=False)
            for trend, damped, season in specs
        )
        if best is None:
            raise Unfit("no ETS model converged")
        prediction = best.get_prediction(start=n, end=n + h - 1)
        frames = {lv: prediction.summary_frame(alpha=1 - lv / 100) for lv in LEVELS}
    return Forecast(
        np.asarray(prediction.predicted_mean, dtype=float),
        {lv: frames[lv]["pi_lower"].to_numpy(float) for lv in LEVELS},
        {lv: frames[lv]["pi_upper"].to_numpy(float) for lv in LEVELS},
    )


def _lowest_aicc(fits):
    """The fitted model with the lowest finite AICc among ``fits`` (callables; one that fails to
    fit is skipped), or None."""
    best = None
    for make in fits:
        try:
            fit = make()
        except (ValueError, np.linalg.LinAlgError):
            continue
        if np.isfinite(fit.aicc) and (best is None or fit.aicc < best.aicc):
            best = fit
    return best


def theta(y: np.ndarray, h: int) -> Forecast:
    from statsmodels.tsa.forecasting.theta import ThetaModel

    n = len(y)
    if n < MIN_MONTHS["theta"]:
        raise Unfit(f"needs {MIN_MONTHS['theta']} months")
    if np.ptp(y) == 0:
        raise Unfit("constant history")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = ThetaModel(
                pd.Series(y),
                period=SEASON,
                deseasonalize=n >= 2 * SEASON,
                method="additive" if y.min() <= 0 else "auto",
            ).fit()
            point = fit.forecast(h).to_numpy(float)
            bounds = {lv: fit.prediction_intervals(h, alpha=1 - lv / 100) for lv in LEVELS}
        except (ValueError, np.linalg.LinAlgError) as exc:
            raise Unfit(str(exc)) from None
    return Forecast(
        point,
        {lv: bounds[lv]["lower"].to_numpy(float) for lv in LEVELS},
        {lv: bounds[lv]["upper"].to_numpy(float) for lv in LEVELS},
    )


def arima(y: np.ndarray, h: int) -> Forecast:
    from statsmodels.tsa.arima.model import ARIMA

    n = len(y)
    if n < MIN_MONTHS["arima"]:
        raise Unfit(f"needs {MIN_MONTHS['arima']} months")
    # ARIMA(0,1,1) with drift; with two years of history also (1,1,1), by AICc. (More orders
    # cost ~40 ms each per fit and were never chosen on the real series of the tests.)
    orders = ((0, 1, 1), (1, 1, 1)) if n >= 2 * SEASON else ((0, 1, 1),)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        best = _lowest_aicc(lambda order=order: ARIMA(y, order=order, trend="t").fit() for order in orders)
        if best is None:
            raise Unfit("no ARIMA model converged")
        prediction = best.get_forecast(h)
        bounds = {lv: prediction.conf_int(alpha=1 - lv / 100) for lv in LEVELS}
    return Forecast(
        np.asarray(prediction.predicted_mean, dtype=float),
        {lv: bounds[lv][:, 0] for lv in LEVELS},
        {lv: bounds[lv][:, 1] for lv in LEVELS},
    )


GBM_LAGS = 3  # months of lags; the first origin a row is made from is month GBM_LAGS - 1
GBM_FLOOR = 0.1  # the least level a row is relative to, in the history's mean absolute values


def _gbm_design(
    z: np.ndarray, pipe: np.ndarray | None, first_month: int, origins: np.ndarray, steps: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Features of the forecast from the end of month ``origins[j]`` for ``steps[j]`` months ahead,
    on the scaled history ``z``, and the level they are relative to: the mean of the twelve months
    to the origin (fewer early on), at least ``GBM_FLOOR``. Relative to that level, a growing
    series keeps values the trees have seen. NaN where a feature does not exist yet (the model
    handles it)."""

    def at(index):
        return np.where(index >= 0, z[np.clip(index, 0, len(z) - 1)], np.nan)

    level = np.maximum([z[max(0, i - SEASON + 1) : i + 1].mean() for i in origins], GBM_FLOOR)
    columns = [
        at(origins),
        at(origins - 1),
        at(origins - 2),
        np.where(steps <= SEASON, at(origins + steps - SEASON), np.nan),  # the target's month a year before
    ]
    if pipe is not None:
        inside = steps <= pipe.shape[1]
        columns.append(np.where(inside, pipe[origins, np.clip(steps, 1, pipe.shape[1]) - 1], np.nan))
        columns.append(pipe[origins].sum(axis=1))  # the whole open pipeline, expected
    relative = np.column_stack(columns) / level[:, None]
    calendar = np.column_stack([steps, (first_month - 1 + origins + steps) % SEASON])  # target's month
    return np.column_stack([calendar, relative]).astype(float), level


def _gbm_fit_predict(train: np.ndarray, target: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Fit on ``train`` and predict ``rows``; a feature no training row has is left out."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    known = ~np.isnan(train).all(axis=0)
    model = HistGradientBoostingRegressor(
        max_iter=60,
        learning_rate=0.1,
        max_leaf_nodes=7,
        min_samples_leaf=5,
        l2_regularization=1.0,
        random_state=0,
    )
    return model.fit(train[:, known], target).predict(rows[:, known])


def gbm(y: np.ndarray, h: int, context: Context | None = None) -> Forecast:
    """Direct multi-step gradient boosting (one model for every step, the step a feature) on the
    series scaled by its mean absolute value. Intervals: normal, from the errors of the same
    model fitted without the last ``h`` months on forecasts of those months, widening with the
    square root of the step."""
    n = len(y)
    if context is None:
        raise Unfit("needs the calendar")
    if n < MIN_MONTHS["gbm"]:
        raise Unfit(f"needs {MIN_MONTHS['gbm']} months")
    scale = float(np.mean(np.abs(y)))
    if scale == 0:
        raise Unfit("all zero")
    z = y / scale
    pipe = None if context.pipeline is None else context.pipeline / scale
    origins, steps = (a.ravel() for a in np.meshgrid(np.arange(GBM_LAGS - 1, n - 1), np.arange(1, h + 1)))
    target = origins + steps
    rows = target <= n - 1
    origins, steps, target = origins[rows], steps[rows], target[rows]
    design, level = _gbm_design(z, pipe, context.first_month, origins, steps)
    relative = z[target] / level
    early = target <= n - 1 - h  # what a fit h months ago could learn from
    late = (origins <= n - 1 - h) & ~early  # its forecasts of the last h months
    if early.sum() < 20 or late.sum() < 3:
        raise Unfit("too few months to learn from")
    guess = _gbm_fit_predict(design[early], relative[early], design[late]) * level[late]
    errors = guess - z[target[late]]
    ahead = np.arange(1, h + 1)
    spread = np.sqrt(np.mean(errors**2) * ahead / steps[late].mean())
    rows, now = _gbm_design(z, pipe, context.first_month, np.full(h, n - 1), ahead)
    point = _gbm_fit_predict(design, relative, rows) * now
    return _normal(point * scale, spread * scale)


def combine(*forecasts: Forecast) -> Forecast:
    """The average of the forecasts and of their interval bounds."""
    avg = lambda arrays: np.mean(arrays, axis=0)  # noqa: E731
    return Forecast(
        avg([f.mean for f in forecasts]),
        {lv: avg([f.lower[lv] for f in forecasts]) for lv in LEVELS},
        {lv: avg([f.upper[lv] for f in forecasts]) for lv in LEVELS},
    )


BASE = {
    "seasonal_naive": seasonal_naive,
    "moving_average": moving_average,
    "drift": drift,
    "ets": ets,
    "theta": theta,
    "arima": arima,
    "gbm": gbm,
}
WITH_CONTEXT = {"gbm"}  # the models that read a series' ``Context``
COMBINATIONS = {"ets_theta": ("ets", "theta")}
FALLBACKS = {"zero": zero, "mean": mean}
CANDIDATES = (*BASE, *COMBINATIONS)  # in order of preference when two score the same


def fit(name: str, y: np.ndarray, h: int, context: Context | None = None) -> Forecast:
    """One model's forecast (``Unfit`` if it cannot be fitted), clipped at zero for a series that is."""
    if name in COMBINATIONS:
        forecast = combine(*(fit(part, y, h, context) for part in COMBINATIONS[name]))
    elif name in WITH_CONTEXT:
        forecast = BASE[name](y, h, context)
    else:
        forecast = {**BASE, **FALLBACKS}[name](y, h)
    if not forecast.finite():
        raise Unfit("the forecast is not finite")
    return forecast.clipped(0.0) if y.min() >= 0 else forecast


def fit_all(
    y: np.ndarray, h: int, candidates: tuple[str, ...] = CANDIDATES, context: Context | None = None
) -> dict[str, Forecast]:
    """Every candidate that can be fitted on ``y`` (a combination reuses its parts' fits)."""
    out: dict[str, Forecast] = {}
    parts_needed = {part for name in candidates for part in COMBINATIONS.get(name, ())}
    for name in BASE:
        if name in candidates or name in parts_needed:
            with contextlib.suppress(Unfit):
                out[name] = fit(name, y, h, context)
    for name, parts in COMBINATIONS.items():
        if name in candidates and all(part in out for part in parts):
            out[name] = combine(*(out[part] for part in parts))
    return {name: out[name] for name in candidates if name in out}
