"""Training and scoring the revenue forecast with MLflow: tracked runs, a registered model, a champion.

- Tracking: ``MLFLOW_TRACKING_URI`` when set (the compose stack's server), else a SQLite
  store at ``$SALESOPS_HOME/mlflow/mlflow.db`` with artifacts beside it (owner-only).
- ``train``: backtests every series of every level (``evaluate.backtest``: the model chosen
  at each cutoff from the history before it), logs parameters, MASE / WAPE / coverage of the
  chosen models next to seasonal naive and ETS per level, the predictions and a plot, then
  logs the model (the model chosen per series on the whole history, a ``RevenueForecaster``)
  and registers it as ``salesops-revenue-forecast``. The alias ``champion`` moves to the new
  version only when its backtest MASE is not above the champion's procedure (its candidate
  list) backtested on the same folds; both figures are logged. (Refitting the champion's
  stored choices instead would favour it: they were chosen on data that includes the folds.)
- ``score``: loads ``models:/salesops-revenue-forecast@champion``, forecasts every level from
  the latest marts and appends them to ``ml.revenue_forecasts`` (``store.write``).
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import mlflow
import mlflow.pyfunc
import pandas as pd

MODEL_NAME = "salesops-revenue-forecast"
WIN_MODEL = "salesops-win-probability"
EXPERIMENT = "salesops-revenue-forecast"
CHAMPION = "champion"
INPUT_COLUMNS = ["kind", "key", "manager_name", "region", "month", "won_revenue", "step"]


def tracking_home() -> Path:
    from salesops.config import ensure_home

    home = ensure_home() / "mlflow"
    home.mkdir(mode=0o700, exist_ok=True)
    return home


class _Expected(logging.Filter):
    """MLflow's notices about what salesops does on purpose (a cloudpickled python_model; its
    own database set-up), which a user cannot act on."""

    PHRASES = (
        "serialized using CloudPickle",
        "MLflow database tables",
        "Updating database tables",
        "Validating input example against model signature",
        "in the pickle or cloudpickle format",
    )

    def filter(self, record: logging.LogRecord) -> bool:
        return not any(p in record.getMessage() for p in self.PHRASES)


_OWN_STORES: set[str] = set()  # the home stores this process pointed MLflow at


def _mlflow(experiment: str = EXPERIMENT):
    """mlflow, pointed at the tracking store, with ``experiment`` selected."""
    for name in ("mlflow.pyfunc", "mlflow.sklearn", "mlflow.store.db.utils"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _Expected) for f in logger.filters):
            logger.addFilter(_Expected())
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    artifacts = None  # a tracking server keeps its own
    # mlflow.set_tracking_uri exports MLFLOW_TRACKING_URI: a home store this process chose is not
    # the user's choice (read as one, the next experiment's artifacts went to ./mlruns)
    if not uri or uri in _OWN_STORES:
        home = tracking_home()
        uri, artifacts = f"sqlite:///{home / 'mlflow.db'}", (home / "artifacts").as_uri()
        _OWN_STORES.add(uri)
    if mlflow.get_tracking_uri() != uri:
        mlflow.set_tracking_uri(uri)
    if mlflow.get_experiment_by_name(experiment) is None:
        location = f"{artifacts}/{experiment}" if artifacts and experiment != EXPERIMENT else artifacts
        mlflow.create_experiment(experiment, artifact_location=location)
    mlflow.set_experiment(experiment)
    return mlflow


def history_frame(history) -> pd.DataFrame:
    """The model's input in one frame (``INPUT_COLUMNS``): rep months and product months (step 0),
    and the open pipeline per rep and product (kind ``pipeline_rep`` / ``pipeline_product``: at
    the end of ``month``, ``won_revenue`` expected ``step`` months later)."""
    reps = history.reps.rename(columns={"rep_name": "key"}).assign(kind="rep", step=0)
    products = history.products.rename(columns={"product_name": "key"}).assign(
        kind="product", manager_name=None, region=None, step=0
    )
    frames = [reps, products]
    if history.pipeline is not None:
        pipe = history.pipeline.rename(columns={"expected": "won_revenue"})
        frames.append(
            pipe.assign(
                kind="pipeline_" + pipe["kind"],
                manager_name=None,
                region=None,
                month=pd.PeriodIndex(pipe["month"], freq="M").to_timestamp(),
            )
        )
    frame = pd.concat(frames, ignore_index=True)[INPUT_COLUMNS]
    return frame.assign(
        month=pd.to_datetime(frame["month"]),
        won_revenue=frame["won_revenue"].astype(float),
        step=frame["step"].astype(int),
    )


def _history(frame: pd.DataFrame):
    from ml.forecast.hierarchy import History
    from ml.forecast.pipeline import COLUMNS

    frame = frame.assign(month=pd.to_datetime(frame["month"]).dt.date)
    reps = frame[frame["kind"] == "rep"].rename(columns={"key": "rep_name"})
    products = frame[frame["kind"] == "product"].rename(columns={"key": "product_name"})
    pipe = frame[frame["kind"].str.startswith("pipeline_")]
    pipe = pipe.assign(
        kind=pipe["kind"].str.removeprefix("pipeline_"),
        expected=pipe["won_revenue"],
        month=pd.PeriodIndex(pd.to_datetime(pipe["month"]), freq="M"),
    )
    columns = ["rep_name", "manager_name", "region", "month", "won_revenue"]
    return History(
        reps[columns].reset_index(drop=True),
        products[["product_name", "month", "won_revenue"]].reset_index(drop=True),
        pipe[COLUMNS].reset_index(drop=True) if len(pipe) else None,
    )


class RevenueForecaster(mlflow.pyfunc.PythonModel):
    """The model chosen per (level, series) at training; series it has not seen choose their own."""

    pooled = False  # what versions logged before the choice was pooled per level read

    def __init__(self, choices: dict[str, str], horizon: int, candidates: tuple[str, ...]):
        self.choices = choices  # "level/series key" -> candidate
        self.horizon = horizon
        self.candidates = candidates  # what the choice was made among (the procedure's setting)
        self.pooled = True  # one model per level, chosen on all its series (the procedure's setting)

    def forecast(self, history, horizon: int | None = None):
        from ml.forecast import hierarchy

        fixed = {tuple(k.split("/", 1)): v for k, v in self.choices.items()}
        return hierarchy.forecast(history, horizon or self.horizon, fixed, candidates=self.candidates)

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        frame, _ = self.forecast(_history(model_input), (params or {}).get("horizon"))
        out = frame.assign(period=frame["period"].dt.to_timestamp())
        for column in ("forecast", "lower_80", "upper_80", "lower_95", "upper_95"):
            out[column] = out[column].astype(float)
        return out


@dataclass(frozen=True)
class Trained:
    run_id: str
    version: str
    promoted: bool
    scores: pd.DataFrame  # role x metric, all levels together
    by_level: pd.DataFrame  # (level, role) x metric
    champion_mase: float | None  # the previous champion's MASE on the same folds


def _backtest(
    series_by_level,
    h: int,
    cutoffs: int,
    jobs: int | None,
    candidates: tuple[str, ...],
    pooled: bool = True,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The backtest of every level, and the choice of every series ("level/key" -> model).
    ``pooled``: one model per level, chosen on all its series (docs/forecasting.md)."""
    from ml.forecast import evaluate

    frames, choices = [], {}
    for level, series in series_by_level.items():
        if series:
            predictions, chosen = evaluate.backtest_and_choose(
                series, h, cutoffs, jobs, candidates, pooled=pooled
            )
            frames.append(predictions.assign(level=level))
            choices |= {f"{level}/{key}": model for key, model in chosen.items()}
    return pd.concat(frames, ignore_index=True), choices


def _plot(predictions: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chosen = predictions[(predictions["role"] == "chosen") & predictions["level"].isin(("company", "region"))]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for axis, level in zip(axes, ("company", "region"), strict=True):
        rows = chosen[chosen["level"] == level].groupby("period")[["forecast", "actual"]].sum()
        axis.plot(rows.index.to_timestamp(), rows["actual"], label="actual", marker="o")
        axis.plot(rows.index.to_timestamp(), rows["forecast"], label="forecast (backtest)", marker="x")
        axis.set_title(f"{level}: won revenue, backtest forecasts vs actual")
        axis.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def train(
    url: str,
    horizon: int = 6,
    cutoffs: int = 3,
    jobs: int | None = None,
    candidates: tuple[str, ...] | None = None,
) -> Trained:
    """Backtest, log, register; promote to champion only when better on the same folds."""
    import tempfile

    from mlflow.models import infer_signature

    from ml.forecast import evaluate, hierarchy, models

    mlflow = _mlflow()
    history = hierarchy.load_history(url)
    series = hierarchy.all_series(history)
    candidates = tuple(candidates or models.CANDIDATES)
    predictions, choices = _backtest(series, horizon, cutoffs, jobs, candidates)
    scores = evaluate.metrics(predictions)
    by_level = predictions.groupby("level", sort=False).apply(evaluate.metrics, include_groups=False)
    mase = float(scores.loc["chosen", "mase"])
    champion_mase = None
    if champion_version() is not None:  # the champion's procedure (its candidates) on the same folds
        old = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@{CHAMPION}").unwrap_python_model()
        old_pooled = old.pooled  # versions before pooling chose per series
        if tuple(old.candidates) == candidates and old_pooled:
            champion_mase = mase
        else:
            champion, _ = _backtest(series, horizon, cutoffs, jobs, tuple(old.candidates), old_pooled)
            champion_mase = float(evaluate.metrics(champion).loc["chosen", "mase"])
    # Ties go to the new version: the same procedure on the same folds, chosen on more data.
    promoted = champion_mase is None or mase <= champion_mase
    with mlflow.start_run(run_name=f"train as of {history.last_month}") as run:
        mlflow.log_params(
            {
                "horizon": horizon,
                "cutoffs": cutoffs,
                "as_of_month": str(history.last_month),
                "candidates": ",".join(candidates),
                "choice": "one model per level, pooled over its series",
                **{f"series_{level}": len(series[level]) for level in hierarchy.LEVELS},
            }
        )
        metrics = {
            f"{metric}_{role}": float(value)
            for role, row in scores.iterrows()
            for metric, value in row.items()
            if pd.notna(value)
        }
        metrics |= {
            f"{metric}_{role}_{level}": float(value)
            for (level, role), row in by_level.iterrows()
            for metric, value in row.items()
            if metric in ("mase", "wape", "coverage_80") and pd.notna(value)
        }
        if champion_mase is not None:
            metrics["champion_mase_same_folds"] = champion_mase
        mlflow.log_metrics(metrics)
        with tempfile.TemporaryDirectory() as folder:
            predictions.to_csv(Path(folder) / "backtest_predictions.csv", index=False)
            _plot(predictions, Path(folder) / "backtest_company_region.png")
            mlflow.log_artifacts(folder)
        example = history_frame(history).head(20)
        forecaster = RevenueForecaster(choices, horizon, candidates)
        output = forecaster.predict(None, example)
        with warnings.catch_warnings():  # the integer columns (horizon) never hold missing values
            warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
            signature = infer_signature(example, output)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=forecaster,
            registered_model_name=MODEL_NAME,
            signature=signature,
            input_example=example,
            pip_requirements=[
                f"statsmodels=={_version('statsmodels')}",
                f"pandas=={_version('pandas')}",
                f"scikit-learn=={_version('scikit-learn')}",
            ],
        )
        version = str(info.registered_model_version)
        mlflow.set_tags(
            {
                "promoted": str(promoted).lower(),
                "reason": "no champion yet"
                if champion_mase is None
                else f"MASE {mase:.4f} vs champion {champion_mase:.4f} on the same folds",
            }
        )
    if promoted:
        mlflow.MlflowClient().set_registered_model_alias(MODEL_NAME, CHAMPION, version)
    return Trained(run.info.run_id, version, promoted, scores, by_level, champion_mase)


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def _champion_of(name: str):
    """The registered version a model's ``champion`` alias points at, or None."""
    try:
        return _mlflow().MlflowClient().get_model_version_by_alias(name, CHAMPION)
    except mlflow.exceptions.MlflowException:
        return None


def champion_version(name: str = MODEL_NAME) -> str | None:
    champion = _champion_of(name)
    return None if champion is None else str(champion.version)


def score(url: str, horizon: int = 6):
    """Forecast every level with the champion and append the rows to the warehouse."""
    from ml.forecast import hierarchy, store

    mlflow = _mlflow()
    version = champion_version()
    if version is None:
        raise RuntimeError(f"no {MODEL_NAME} champion yet: run `salesops forecast train` first")
    forecaster = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@{CHAMPION}").unwrap_python_model()
    history = hierarchy.load_history(url)
    forecasts, notes = forecaster.forecast(history, horizon)
    with mlflow.start_run(run_name=f"score as of {history.last_month}") as run:
        written = store.write(url, forecasts, history.last_month, run.info.run_id, MODEL_NAME, version)
        mlflow.log_params(
            {"as_of_month": str(history.last_month), "horizon": horizon, "model_version": version}
        )
        mlflow.log_metrics({"rows_written": written.rows, "rows_already_there": written.already_there})
    return written, forecasts, notes


def champion_summary(name: str = MODEL_NAME) -> dict | None:
    """A model's champion: version, when it was trained, and the metrics of its training run."""
    version = _champion_of(name)
    if version is None:
        return None
    client = _mlflow().MlflowClient()
    return {
        "version": str(version.version),
        "run_id": version.run_id,
        "trained_at": pd.Timestamp(version.creation_timestamp, unit="ms", tz="UTC"),
        **client.get_run(version.run_id).data.metrics,
    }


def retrain_reason(max_age_days: float, force: bool = False, name: str = MODEL_NAME) -> str | None:
    """Why a model should be trained before scoring (none yet, too old, asked to), or None."""
    if force:
        return "asked to retrain"
    champion = champion_summary(name)
    if champion is None:
        return "no champion yet"
    age = pd.Timestamp.now(tz="UTC") - champion["trained_at"]
    if age > pd.Timedelta(days=max_age_days):
        return f"the champion is {age.days} days old (retrain after {max_age_days:g})"
    return None


# --- what the forecast DAG runs -------------------------------------------------------------------


def _setting(name: str, default: float) -> float:
    text = os.environ.get(name, "")
    try:
        value = float(text) if text else default
    except ValueError:
        raise RuntimeError(f"{name}={text!r} is not a number") from None
    if value <= 0:
        raise RuntimeError(f"{name}={text!r} must be above zero")
    return value


def horizon_setting() -> int:
    """``SALESOPS_FORECAST_HORIZON``: months the scheduled forecast covers (default 6)."""
    return int(_setting("SALESOPS_FORECAST_HORIZON", 6))


def train_if_due(force: bool = False) -> dict:
    """Train each model when ``retrain_reason`` says so (``SALESOPS_FORECAST_RETRAIN_DAYS``, 30)."""
    from salesops.setup_warehouse import prepare

    max_age = _setting("SALESOPS_FORECAST_RETRAIN_DAYS", 30)
    out = {}
    reason = retrain_reason(max_age, force)
    if reason is None:
        out["revenue"] = {"trained": False, "reason": "the champion is recent enough"}
    else:
        trained = train(prepare(), horizon_setting())
        out["revenue"] = {
            "trained": True,
            "reason": reason,
            "version": trained.version,
            "promoted": trained.promoted,
            "run_id": trained.run_id,
            "mase": float(trained.scores.loc["chosen", "mase"]),
        }
    reason = retrain_reason(max_age, force, WIN_MODEL)
    if reason is None:
        out["win_probability"] = {"trained": False, "reason": "the champion is recent enough"}
    else:
        won = train_win_probability(prepare())
        out["win_probability"] = {
            "trained": True,
            "reason": reason,
            "version": won.version,
            "promoted": won.promoted,
            "run_id": won.run_id,
        }
    return out


def score_latest() -> dict:
    from salesops.setup_warehouse import prepare

    written, forecasts, _ = score(prepare(), horizon_setting())
    scored, scores, as_of = score_win_probability(prepare())
    return {
        "as_of_month": str(written.as_of_month),
        "rows": written.rows,
        "already_there": written.already_there,
        "run_id": written.run_id,
        "series": int(forecasts[["level", "series_key"]].drop_duplicates().shape[0]),
        "opportunities_scored": scored,
        "open_opportunities": len(scores),
        "scores_as_of": f"{as_of:%Y-%m-%d}",
    }


# --- win probability ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainedWin:
    run_id: str
    version: str
    promoted: bool
    metrics: dict[str, float]
    champion_log_loss: float | None


def train_win_probability(
    url: str, through: pd.Timestamp | None = None, features: list[str] | None = None
) -> TrainedWin:
    """Measure on the holdout next to the historical-rate baseline, fit, log, register (see
    docs/forecasting.md). ``through``: train on the data as known on that day (tests, replays).

    The champion moves when the new model is not worse on outcomes the champion never saw (deals
    closed after the champion's data): both models' log loss on those deals of the holdout.
    Without such deals (the same data again), the new version wins: the same procedure on at
    least as much data."""
    import tempfile

    import mlflow.sklearn
    from mlflow.models import infer_signature
    from sklearn.metrics import log_loss

    from ml.forecast import win_probability as wp

    mlflow = _mlflow()
    features = list(features or wp.FEATURES)
    opportunities = wp.load_opportunities(url)
    if through is not None:
        opportunities = wp.as_known_on(opportunities, pd.Timestamp(through))
    rows = wp.training_rows(opportunities)
    evaluation = wp.evaluate(rows, features)
    fitted = wp.fit(rows, features)
    trained_through = rows["closed_date"].max()
    champion, comparison = _champion_of(WIN_MODEL), {}
    promoted, reason = True, "no champion yet"
    if champion is not None:
        params = mlflow.MlflowClient().get_run(champion.run_id).data.params
        seen_until = pd.Timestamp(params["trained_through"])
        unseen = evaluation.holdout[evaluation.holdout["closed_date"] > seen_until]
        if len(unseen) >= 30:
            old = mlflow.sklearn.load_model(f"models:/{WIN_MODEL}@{CHAMPION}")
            comparison = {
                name: float(
                    log_loss(unseen["won"], m.predict_proba(unseen[wp.FEATURES])[:, 1], labels=[0, 1])
                )
                for name, m in (("champion", old), ("challenger", evaluation.fitted))
            }
            promoted = comparison["challenger"] <= comparison["champion"]
            reason = (
                f"log loss {comparison['challenger']:.4f} vs champion {comparison['champion']:.4f} on "
                f"{len(unseen)} deals closed after {seen_until:%Y-%m-%d}"
            )
        else:
            reason = "no outcomes the champion has not seen: the same procedure on at least as much data"
    with mlflow.start_run(run_name=f"win probability through {trained_through:%Y-%m-%d}") as run:
        mlflow.log_params(
            {
                "holdout_months": wp.HOLDOUT_MONTHS,
                "features": ",".join(features),
                "trained_through": f"{trained_through:%Y-%m-%d}",
                "model": "logistic regression (one-hot + standardised)",
            }
        )
        mlflow.log_metrics(evaluation.metrics | {f"unseen_log_loss_{k}": v for k, v in comparison.items()})
        with tempfile.TemporaryDirectory() as folder:
            evaluation.calibration.to_csv(Path(folder) / "calibration.csv", index=False)
            _calibration_plot(evaluation.calibration, Path(folder) / "calibration.png")
            mlflow.log_artifacts(folder)
        example = rows[wp.FEATURES].head(5)
        info = mlflow.sklearn.log_model(
            fitted,
            name="model",
            registered_model_name=WIN_MODEL,
            input_example=example,
            signature=infer_signature(example, fitted.predict_proba(example)[:, 1]),
            serialization_format="cloudpickle",
            pip_requirements=[f"scikit-learn=={_version('scikit-learn')}"],
        )
        version = str(info.registered_model_version)
        mlflow.set_tags({"promoted": str(promoted).lower(), "reason": reason})
    if promoted:
        mlflow.MlflowClient().set_registered_model_alias(WIN_MODEL, CHAMPION, version)
    return TrainedWin(run.info.run_id, version, promoted, evaluation.metrics, comparison.get("champion"))


def _calibration_plot(calibration: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(5, 5))
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    axis.plot(calibration["predicted"], calibration["observed"], marker="o", label="holdout deciles")
    axis.set_xlabel("predicted win probability")
    axis.set_ylabel("observed win rate")
    axis.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def score_win_probability(url: str):
    """Score every open opportunity with the champion and append to ml.opportunity_scores."""
    import mlflow.sklearn

    from ml.forecast import store
    from ml.forecast import win_probability as wp

    champion = _champion_of(WIN_MODEL)
    if champion is None:
        raise RuntimeError(f"no {WIN_MODEL} champion yet: run `salesops forecast train` first")
    fitted = mlflow.sklearn.load_model(f"models:/{WIN_MODEL}@{CHAMPION}")
    opportunities = wp.load_opportunities(url)
    as_of = wp.as_of_date(opportunities)
    scores = wp.score(fitted, opportunities, as_of)
    with mlflow.start_run(run_name=f"score win probability as of {as_of:%Y-%m-%d}") as run:
        written = store.write_scores(url, scores, as_of, run.info.run_id, str(champion.version))
        mlflow.log_metrics({"rows_written": written, "open_opportunities": len(scores)})
    return written, scores, as_of
