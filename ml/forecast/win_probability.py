"""Win probability of every open opportunity, from what is known at the scoring date only.

Features of an opportunity as of a date T (``features``), each computed from records dated
on or before T:

- ``stage_at``: ``engaging`` when it was engaged by T, else ``prospecting``;
- ``age_days``: days from its engage date to T (0 while prospecting);
- ``product_name`` and ``list_price_usd``;
- the rep's and the account's history before T: deals closed, and the win rate of those
  (smoothed towards the overall rate before T with 5 pseudo-deals);
- its activities up to T (``marts.fct_opportunity_activity_days``): how many, how many
  meetings, and the days since the last one (none yet: the days since it was engaged).

Training rows are the closed deals, each seen at the midpoint of its open window (engage to
close; a deal never engaged, at its close date minus one day) and labelled won or lost. The
model is a scikit-learn logistic regression on one-hot categories and standardised
numbers: its per-deal factors are exact (each feature's coefficient times its distance from
the training mean, in log-odds, one-hot parts summed per feature: the SHAP values of a
linear model), so every score carries its top three reasons. It is measured on the deals
that closed in the last ``HOLDOUT_MONTHS`` months (trained on the ones before) against the
historical win rate by stage and product: Brier score, log loss, ROC AUC, calibration by
decile.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

HOLDOUT_MONTHS = 3
PRIOR_DEALS = 5  # pseudo-deals at the overall win rate in the rep's and account's rates
CATEGORICAL = ["stage_at", "product_name"]
NUMERIC = [
    "age_days",
    "list_price_usd",
    "rep_closed_before",
    "rep_win_rate_before",
    "account_closed_before",
    "account_win_rate_before",
    "activities_before",
    "meetings_before",
    "days_since_activity",
]
FEATURES = CATEGORICAL + NUMERIC  # the model's input; a model may use a subset of them
COLUMNS = [
    "opportunity_id",
    "product_name",
    "account_name",
    "rep_name",
    "engaged_date",
    "closed_date",
    "is_closed",
    "is_won",
    "amount_usd",
    "list_price_usd",
]


def load_opportunities(url: str) -> pd.DataFrame:
    import psycopg

    from salesops.warehouse import role_url

    with psycopg.connect(role_url(url, "ml")) as conn:
        rows = conn.execute(f"select {', '.join(COLUMNS)} from marts.fct_opportunities").fetchall()
        days = []  # no activity mart yet (an older warehouse), or not granted yet: no activities
        readable = (
            "select to_regclass('marts.fct_opportunity_activity_days') is not null"
            " and has_table_privilege('marts.fct_opportunity_activity_days', 'select')"
        )
        if conn.execute(readable).fetchone()[0]:
            days = conn.execute(
                "select opportunity_id, activity_date, sum(activities), sum(meetings)"
                " from marts.fct_opportunity_activity_days where activities > 0"
                " group by 1, 2 order by 1, 2"
            ).fetchall()
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for column in ("engaged_date", "closed_date"):
        frame[column] = pd.to_datetime(frame[column])
    return with_activities(
        frame, pd.DataFrame(days, columns=["opportunity_id", "day", "activities", "meetings"])
    )


ACTIVITY_COLUMNS = ["activity_days", "activities_upto", "meetings_upto"]


def with_activities(opportunities: pd.DataFrame, days: pd.DataFrame) -> pd.DataFrame:
    """Each opportunity with its activity days (sorted) and the running counts of activities and
    meetings up to each: rows (opportunity_id, day, activities, meetings), one per deal and day."""
    days = days.assign(day=pd.to_datetime(days["day"]).to_numpy("datetime64[D]")).sort_values(
        ["opportunity_id", "day"]
    )
    by_deal = {
        deal: (
            rows["day"].to_numpy("datetime64[D]"),
            rows["activities"].to_numpy(np.int64).cumsum(),
            rows["meetings"].to_numpy(np.int64).cumsum(),
        )
        for deal, rows in days.groupby("opportunity_id", sort=False)
    }
    none = (np.array([], dtype="datetime64[D]"), np.array([], np.int64), np.array([], np.int64))
    held = [by_deal.get(deal, none) for deal in opportunities["opportunity_id"]]
    return opportunities.assign(**{c: [h[i] for h in held] for i, c in enumerate(ACTIVITY_COLUMNS)})


def _activity_as_of(deals: pd.DataFrame, as_of: pd.Timestamp) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per deal: activities and meetings dated on or before ``as_of``, and days since the last."""
    day = np.datetime64(as_of.date(), "D")
    count, meetings, since = (np.zeros(len(deals)) for _ in range(3))
    since[:] = np.nan
    if "activity_days" not in deals:
        return count, meetings, since
    for i, (dates, upto, met) in enumerate(zip(*(deals[c] for c in ACTIVITY_COLUMNS), strict=True)):
        seen = np.searchsorted(dates, day, side="right")
        if seen:
            count[i], meetings[i] = upto[seen - 1], met[seen - 1]
            since[i] = (day - dates[seen - 1]).astype(int)
    return count, meetings, since


def as_known_on(opportunities: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    """The opportunities as the CRM showed them on ``day``: later closes are still open (no
    outcome, no amount), later engagements not yet engaged."""
    known = opportunities.copy()
    later_close = known["closed_date"] > day
    known.loc[later_close, ["is_closed", "is_won"]] = False
    known.loc[later_close, "closed_date"] = pd.NaT
    known.loc[later_close, "amount_usd"] = None
    known.loc[known["engaged_date"] > day, "engaged_date"] = pd.NaT
    if "activity_days" in known:  # later activities not yet logged
        kept = [
            np.searchsorted(dates, np.datetime64(day.date(), "D"), side="right")
            for dates in known["activity_days"]
        ]
        for column in ACTIVITY_COLUMNS:
            known[column] = [values[:n] for values, n in zip(known[column], kept, strict=True)]
    return known


def as_of_date(opportunities: pd.DataFrame) -> pd.Timestamp:
    """The latest date the data knows of (engagements and closes): the scoring date."""
    dates = pd.concat([opportunities["engaged_date"], opportunities["closed_date"]]).dropna()
    if dates.empty:
        from ml.forecast.series import ForecastInputError

        raise ForecastInputError(
            "no opportunity in marts.fct_opportunities has an engage or close date yet: nothing to score"
        )
    return dates.max()


def _rates(closed: pd.DataFrame, by: str, prior: float) -> pd.DataFrame:
    grouped = closed.groupby(by)["is_won"].agg(["size", "sum"])
    return pd.DataFrame(
        {
            "closed": grouped["size"],
            "rate": (grouped["sum"] + PRIOR_DEALS * prior) / (grouped["size"] + PRIOR_DEALS),
        }
    )


def features(opportunities: pd.DataFrame, ids: pd.Index, as_of: pd.Timestamp) -> pd.DataFrame:
    """The features of the opportunities ``ids`` as of ``as_of`` (see module doc): only rows
    dated on or before it are read."""
    known = opportunities[opportunities["closed_date"] <= as_of]  # outcomes known by then
    prior = float(known["is_won"].mean()) if len(known) else 0.5
    deals = opportunities.set_index("opportunity_id").loc[ids]
    engaged = deals["engaged_date"].notna() & (deals["engaged_date"] <= as_of)
    out = pd.DataFrame(index=deals.index)
    out["stage_at"] = np.where(engaged, "engaging", "prospecting")
    out["age_days"] = np.where(engaged, (as_of - deals["engaged_date"]).dt.days, 0).astype(float)
    out["product_name"] = deals["product_name"].fillna("(unknown)")
    out["list_price_usd"] = deals["list_price_usd"].astype(float).fillna(0.0)
    for who in ("rep", "account"):
        rates = _rates(known, f"{who}_name", prior)
        key = deals[f"{who}_name"]
        out[f"{who}_closed_before"] = key.map(rates["closed"]).fillna(0).astype(float).to_numpy()
        out[f"{who}_win_rate_before"] = key.map(rates["rate"]).fillna(prior).astype(float).to_numpy()
    count, meetings, since = _activity_as_of(deals, as_of)
    out["activities_before"] = count
    out["meetings_before"] = meetings
    out["days_since_activity"] = np.where(np.isnan(since), out["age_days"], since)
    return out


def training_rows(opportunities: pd.DataFrame) -> pd.DataFrame:
    """Each closed deal seen at the midpoint of its open window, with its outcome (``won``)."""
    closed = opportunities[opportunities["is_closed"] & opportunities["closed_date"].notna()]
    if closed["is_won"].nunique() < 2:
        from ml.forecast.series import ForecastInputError

        raise ForecastInputError(
            "the win probability needs won and lost deals with a close date in "
            "marts.fct_opportunities to learn from; there are none of one kind yet"
        )
    start = closed["engaged_date"].fillna(closed["closed_date"] - pd.Timedelta(days=2))
    seen = start + (closed["closed_date"] - start) / 2
    before = closed["closed_date"] - pd.Timedelta(days=1)
    seen = seen.where(seen < closed["closed_date"], before).dt.floor("D")
    frames = [
        features(opportunities, group["opportunity_id"], day).assign(as_of=day)
        for day, group in closed.assign(seen=seen).groupby("seen")
    ]
    rows = pd.concat(frames)
    return rows.assign(
        won=closed.set_index("opportunity_id").loc[rows.index, "is_won"].astype(int),
        closed_date=closed.set_index("opportunity_id").loc[rows.index, "closed_date"],
    )


def model(features: list[str] = FEATURES):
    """The pipeline: it takes every column of ``FEATURES`` and uses ``features`` of them."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    parts = [
        ("category", OneHotEncoder(handle_unknown="ignore"), [f for f in CATEGORICAL if f in features]),
        ("number", StandardScaler(), [f for f in NUMERIC if f in features]),
    ]
    design = ColumnTransformer([part for part in parts if part[2]])
    return Pipeline([("design", design), ("classifier", LogisticRegression(max_iter=1000, C=1.0))])


def baseline_rates(train: pd.DataFrame) -> pd.Series:
    """The historical win rate by stage and product (the baseline the model must beat)."""
    return train.groupby(["stage_at", "product_name"])["won"].mean()


def baseline_predict(rates: pd.Series, rows: pd.DataFrame, overall: float) -> np.ndarray:
    keys = pd.MultiIndex.from_frame(rows[["stage_at", "product_name"]])
    return rates.reindex(keys).fillna(overall).to_numpy()


@dataclass(frozen=True)
class Evaluation:
    metrics: dict[str, float]  # brier/log_loss/auc of model and baseline, holdout size
    calibration: pd.DataFrame  # decile: mean predicted, observed win rate, deals
    holdout: pd.DataFrame  # the rows measured on
    fitted: object  # the model fitted on the rows before the holdout


def evaluate(rows: pd.DataFrame, features: list[str] = FEATURES) -> Evaluation:
    """Train on deals closed before the last ``HOLDOUT_MONTHS`` months, measure on those months."""
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    split = rows["closed_date"].max() - pd.DateOffset(months=HOLDOUT_MONTHS)
    train, test = rows[rows["closed_date"] <= split], rows[rows["closed_date"] > split]
    fitted = model(features).fit(train[FEATURES], train["won"])
    p = fitted.predict_proba(test[FEATURES])[:, 1]
    base = baseline_predict(baseline_rates(train), test, float(train["won"].mean()))
    y = test["won"].to_numpy()
    metrics = {"holdout_deals": float(len(test)), "train_deals": float(len(train))}
    for name, pred in (("model", p), ("baseline", base)):
        pred = np.clip(pred, 1e-6, 1 - 1e-6)
        metrics |= {
            f"brier_{name}": brier_score_loss(y, pred),
            f"log_loss_{name}": log_loss(y, pred),
            f"auc_{name}": roc_auc_score(y, pred),
        }
    deciles = pd.qcut(p, 10, labels=False, duplicates="drop")
    calibration = (
        pd.DataFrame({"decile": deciles, "predicted": p, "won": y})
        .groupby("decile")
        .agg(predicted=("predicted", "mean"), observed=("won", "mean"), deals=("won", "size"))
        .reset_index()
    )
    return Evaluation(metrics, calibration, test, fitted)


def factors(fitted, rows: pd.DataFrame, top: int = 3) -> list[list[dict]]:
    """Per row, the ``top`` features by absolute contribution to the log-odds (exact for a
    linear model: coefficient x (value - training mean) on the model's scale)."""
    design, classifier = fitted.named_steps["design"], fitted.named_steps["classifier"]
    x = design.transform(rows[FEATURES])
    x = x.toarray() if hasattr(x, "toarray") else np.asarray(x)
    contributions = (x - fitted.design_mean_) * classifier.coef_[0]
    names = design.get_feature_names_out()
    owner = [next(f for f in FEATURES if n.split("__", 1)[1].startswith(f)) for n in names]
    out = []
    for i, row in enumerate(contributions):
        by_feature: dict[str, float] = {}
        for feature, value in zip(owner, row, strict=True):
            by_feature[feature] = by_feature.get(feature, 0.0) + float(value)
        ranked = sorted(by_feature.items(), key=lambda kv: abs(kv[1]), reverse=True)[:top]
        out.append(
            [{"feature": f, "value": _plain(rows.iloc[i][f]), "effect": round(v, 4)} for f, v in ranked]
        )
    return out


def _plain(value):
    return value if isinstance(value, str) else round(float(value), 4)


def fit(rows: pd.DataFrame, features: list[str] = FEATURES):
    """The model fitted on every training row (the holdout is only for measuring)."""
    fitted = model(features).fit(rows[FEATURES], rows["won"])
    design = fitted.named_steps["design"].transform(rows[FEATURES])
    design = design.toarray() if hasattr(design, "toarray") else np.asarray(design)
    fitted.design_mean_ = design.mean(axis=0)  # the point the factors are measured from
    return fitted


def score(fitted, opportunities: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Every opportunity open at ``as_of``: probability, expected revenue, its top factors."""
    open_ids = opportunities.loc[~opportunities["is_closed"].astype(bool), "opportunity_id"]
    columns = [
        "opportunity_id",
        "probability",
        "deal_value_usd",
        "is_amount_from_list_price",
        "stage_at",
        "factors",
    ]
    if not len(open_ids):
        return pd.DataFrame(columns=columns)
    rows = features(opportunities, pd.Index(open_ids), as_of)
    p = fitted.predict_proba(rows[FEATURES])[:, 1]
    deals = opportunities.set_index("opportunity_id").loc[rows.index]
    from_list = deals["amount_usd"].isna()
    value = deals["amount_usd"].where(~from_list, deals["list_price_usd"]).fillna(Decimal(0))
    return pd.DataFrame(
        {
            "opportunity_id": rows.index,
            "probability": p,
            "deal_value_usd": value.to_numpy(),
            "is_amount_from_list_price": from_list.to_numpy(),
            "stage_at": rows["stage_at"].to_numpy(),
            "factors": factors(fitted, rows),
        },
        columns=columns,
    )
