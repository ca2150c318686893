"""The revenue forecast on a built warehouse: MLflow training, champion rule, write-back.

Real parts: the session's demo warehouse (Maven export + demo channels, dbt built), real
MLflow tracking and registry (a SQLite store in a temporary folder), the ML role's
privileges. Figures are checked against independent SQL: the history against the
opportunities mart, the reconciled forecasts against their own sums, to the cent.
"""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

from ml.forecast import hierarchy, registry
from salesops.warehouse import role_url
from tests.conftest import copy_of, query


@pytest.fixture()
def forecast_db(server_url, demo_build, tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setattr(registry, "tracking_home", lambda: tmp_path / "mlflow")
    (tmp_path / "mlflow").mkdir()
    from salesops.access import apply_grants
    from salesops.transform import ensure_manifest, pii_columns

    with copy_of(server_url, demo_build[0]) as url:
        with psycopg.connect(url, autocommit=True) as conn:  # as `salesops build` does after dbt
            apply_grants(conn, pii_columns(ensure_manifest()))
        yield url


def test_history_is_the_won_revenue_of_the_marts(forecast_db):
    history = hierarchy.load_history(forecast_db)
    by_month = history.reps.groupby("month")["won_revenue"].sum()
    expected = dict(query(forecast_db, "select closed_month, sum(amount_usd) from marts.fct_opportunities"
                                       " where is_won and amount_usd is not null group by 1"))
    assert {m: v for m, v in by_month.items() if v} == expected
    assert history.products["won_revenue"].sum() == sum(expected.values())
    # every rep has every month up to the last (a month without sales is a zero row)
    months = history.reps.groupby("rep_name")["month"].nunique()
    assert months.max() == len(by_month)


def test_train_register_promote_only_when_better_and_score_once(forecast_db):
    first = registry.train(forecast_db, horizon=3, cutoffs=2)
    assert (first.version, first.promoted, first.champion_mase) == ("1", True, None)
    client = registry._mlflow().MlflowClient()
    run = client.get_run(first.run_id)
    assert run.data.params["horizon"] == "3" and run.data.tags["promoted"] == "true"
    for key in ("mase_chosen", "mase_seasonal_naive", "mase_ets", "coverage_80_chosen", "mase_chosen_rep"):
        assert key in run.data.metrics, key
    artifacts = {a.path for a in client.list_artifacts(first.run_id)}
    assert {"backtest_predictions.csv", "backtest_company_region.png"} <= artifacts

    # A model limited to the drift baseline is worse on the same folds: registered, not promoted.
    worse = registry.train(forecast_db, horizon=3, cutoffs=2, candidates=("drift",))
    assert worse.version == "2" and not worse.promoted
    assert worse.champion_mase == pytest.approx(first.scores.loc["chosen", "mase"])
    assert worse.scores.loc["chosen", "mase"] > worse.champion_mase
    assert client.get_run(worse.run_id).data.metrics["champion_mase_same_folds"] == pytest.approx(
        worse.champion_mase)
    assert registry.champion_version() == "1"

    written, forecasts, _ = registry.score(forecast_db, horizon=3)
    series = forecasts[["level", "series_key"]].drop_duplicates().shape[0]
    assert written.rows == series * 3 and written.already_there == 0
    rows = query(forecast_db, "select level, series_key, period, forecast, model_version, run_id"
                              " from ml.revenue_forecasts")
    assert len(rows) == written.rows and {(r[4], r[5]) for r in rows} == {("1", written.run_id)}
    # coherent to the cent: every level adds up to the company, month by month
    totals: dict[tuple, Decimal] = {}
    for level, _, period, value, _, _ in rows:
        totals[(level, period)] = totals.get((level, period), Decimal(0)) + value
    for (level, period), total in totals.items():
        assert total == totals[("company", period)], (level, period)
    assert {level for level, _ in totals} == set(hierarchy.LEVELS)

    again, _, _ = registry.score(forecast_db, horizon=3)  # the same as-of month: nothing new
    assert (again.rows, again.already_there) == (0, written.rows)
    assert query(forecast_db, "select count(*) from ml.revenue_forecasts")[0][0] == written.rows
    runs = query(forecast_db, "select count(*), sum(rows_written) from ml.forecast_runs")
    assert runs[0] == (2, written.rows)

    # A manager's adjustments sit on top of the model's number, which stays as written.
    from ml.forecast.adjustments import AdjustmentError, adjust
    from salesops.dbt_project import run_dbt

    team, month = query(forecast_db, "select series_key, period from ml.revenue_forecasts"
                                     " where level = 'team' order by 1, 2 limit 1")[0]
    adjust(forecast_db, "team", team, f"{month:%Y-%m}", "1,000.00", "big renewal expected", by="test")
    adjust(forecast_db, "team", team, f"{month:%Y-%m}", "-250.50", "one deal slipped", by="test")
    with pytest.raises(AdjustmentError, match="no team 'nobody' forecast"):
        adjust(forecast_db, "team", "nobody", f"{month:%Y-%m}", "5", "typo", by="test")
    run_dbt(["build", "--select", "stg_ml__revenue_forecasts", "int_revenue_actuals_aggregated",
             "forecast_vs_actual", "stg_finance__forecast_adjustments", "forecast_adjusted"], forecast_db)
    [(model_forecast, adjustment, adjusted, count)] = query(
        forecast_db, "select model_forecast, adjustment, adjusted_forecast, adjustments"
                     " from marts.forecast_adjusted where hierarchy_level = 'team' and series_key = %s"
                     " and forecast_month = %s", (team, month))
    [(written_forecast,)] = query(forecast_db, "select forecast from ml.revenue_forecasts"
                                               " where level = 'team' and series_key = %s and period = %s",
                                  (team, month))
    assert (model_forecast, adjustment, count) == (written_forecast, Decimal("749.50"), 2)
    assert adjusted == written_forecast + Decimal("749.50")

    # History people compare with what happened: append-only, even for the owner. BI reads the
    # forecasts through the marts only.
    for url in (role_url(forecast_db, "ml"), forecast_db):
        with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("update ml.revenue_forecasts set forecast = 0")
    with psycopg.connect(role_url(forecast_db, "bi_reader")) as conn, pytest.raises(
            psycopg.errors.InsufficientPrivilege):
        conn.execute("select count(*) from ml.revenue_forecasts")


def test_forecast_vs_actual_compares_closed_months_with_the_marts(forecast_db):
    """Forecasts made as of 2017-06 (written as the forecast DAG writes them) meet the actuals of
    2017-07..09 in the mart, computed here from fct_opportunities; 2018-01 stays open."""
    import pandas as pd

    from ml.forecast import store
    from salesops.dbt_project import run_dbt

    as_of = pd.Period("2017-06", "M")
    periods = [pd.Period(p, "M") for p in ("2017-07", "2017-08", "2017-09", "2018-01")]
    rep = query(forecast_db, "select rep_name from marts.rep_performance_monthly where won_revenue > 0"
                             " order by rep_name limit 1")[0][0]
    frame = pd.DataFrame([
        {"level": level, "series_key": key, "period": period, "horizon": (period - as_of).n,
         "forecast": Decimal(value), "lower_80": Decimal(value) - 10, "upper_80": Decimal(value) + 10,
         "lower_95": Decimal(0), "upper_95": Decimal(value) * 2, "model": "ets", "reconciliation": "base"}
        for level, key, value in (("company", "all", "900000.00"), ("rep", rep, "50000.00"))
        for period in periods])
    store.write(forecast_db, frame, as_of, "run-test", registry.MODEL_NAME, "7")
    run_dbt(["build", "--select", "stg_ml__revenue_forecasts", "int_revenue_actuals_aggregated",
             "forecast_vs_actual"], forecast_db)

    mart = {(r[0], r[1]): r[2:] for r in query(
        forecast_db, "select hierarchy_level, forecast_month, actual, error, is_inside_95, is_month_closed"
                     " from marts.forecast_vs_actual where as_of_month = '2017-06-01'")}
    company = dict(query(forecast_db, "select closed_month, sum(amount_usd) from marts.fct_opportunities"
                                      " where is_won and amount_usd is not null group by 1"))
    by_rep = dict(query(forecast_db, "select closed_month, sum(amount_usd) from marts.fct_opportunities"
                                     " where is_won and amount_usd is not null and rep_name = %s group by 1",
                        (rep,)))
    for period in periods[:3]:
        day = period.to_timestamp().date()
        actual, error, inside, closed = mart[("company", day)]
        assert (actual, error, closed) == (company[day], company[day] - Decimal("900000.00"), True)
        assert inside == (0 <= company[day] <= Decimal("1800000.00"))
        assert mart[("rep", day)][0] == by_rep.get(day, Decimal(0))
    assert mart[("company", periods[3].to_timestamp().date())] == (None, None, None, False)


def test_win_probability_sees_only_the_past_is_promoted_on_new_outcomes_and_scored_once(forecast_db):
    import json

    import pandas as pd

    from ml.forecast import win_probability as wp

    opportunities = wp.load_opportunities(forecast_db)
    day = pd.Timestamp("2017-06-30")
    then = wp.as_known_on(opportunities, day)
    open_then = pd.Index(then.loc[~then["is_closed"].astype(bool), "opportunity_id"])
    assert len(open_then) > len(opportunities[~opportunities["is_closed"].astype(bool)])
    # No leakage: a past date's features are the same from today's data and from that day's.
    features = wp.features(opportunities, open_then, day)
    pd.testing.assert_frame_equal(features, wp.features(then, open_then, day))
    # activities up to the day only, counted as the warehouse counts them
    per_deal = ("select opportunity_id, sum(activities) from marts.fct_opportunity_activity_days"
                " where activities > 0 and activity_date <= %s group by 1")
    counted = dict(query(forecast_db, per_deal, (day.date(),)))
    expected = [float(counted.get(deal, 0)) for deal in open_then]
    assert features["activities_before"].tolist() == expected and sum(expected) > 0
    later = dict(query(forecast_db, per_deal, (pd.Timestamp("2099-01-01").date(),)))
    assert sum(later.get(deal, 0) for deal in open_then) > sum(expected)  # later ones exist, not counted
    assert (features["days_since_activity"] >= 0).all()

    first = registry.train_win_probability(forecast_db, through=pd.Timestamp("2017-09-30"))
    assert (first.version, first.promoted) == ("1", True)
    for metric in ("brier", "log_loss", "auc"):
        assert {f"{metric}_model", f"{metric}_baseline"} <= set(first.metrics)
    # A model on the product alone is worse on the deals the champion never saw: not promoted.
    worse = registry.train_win_probability(forecast_db, features=["product_name"])
    assert worse.version == "2" and not worse.promoted
    client = registry._mlflow().MlflowClient()
    reason = client.get_run(worse.run_id).data.tags["reason"]
    assert "deals closed after 2017-09-30" in reason, reason

    written, scores, as_of = registry.score_win_probability(forecast_db)
    [(still_open,)] = query(forecast_db, "select count(*) from marts.fct_opportunities where not is_closed")
    assert written == len(scores) == still_open
    rows = query(forecast_db, "select s.probability, s.expected_revenue, s.is_amount_from_list_price,"
                              " o.list_price_usd, s.top_factors, s.model_version"
                              " from ml.opportunity_scores as s"
                              " join marts.fct_opportunities as o using (opportunity_id)")
    for probability, expected, from_list, list_price, factors, version in rows:
        assert 0 < probability < 1 and version == "1" and from_list  # Maven's open deals have no amount
        assert abs(expected - list_price * probability) <= Decimal("0.01") + list_price * Decimal("0.000001")
        factors = factors if isinstance(factors, list) else json.loads(factors)
        assert len(factors) == 3 and {f["feature"] for f in factors} <= set(wp.FEATURES)
    again, _, _ = registry.score_win_probability(forecast_db)
    assert again == 0

    # Forecast categories: the probability bands of the seed, and a manager's override on top.
    from ml.forecast.adjustments import override_category
    from salesops.dbt_project import run_dbt

    probabilities = dict(query(forecast_db, "select opportunity_id, probability from ml.opportunity_scores"))
    bands = [("omitted", 0, Decimal("0.1")), ("pipeline", Decimal("0.1"), Decimal("0.5")),
             ("best_case", Decimal("0.5"), Decimal("0.8")), ("commit", Decimal("0.8"), 2)]
    category = {deal: next(name for name, low, high in bands if low <= p < high)
                for deal, p in probabilities.items()}
    moved = next(deal for deal, name in sorted(category.items()) if name != "commit")
    override_category(forecast_db, moved, "commit", "signed letter of intent", by="test")
    category[moved] = "commit"
    run_dbt(["build", "--select", "forecast_categories", "stg_ml__opportunity_scores",
             "stg_finance__forecast_category_overrides", "pipeline_forecast"], forecast_db)
    mart = query(forecast_db, "select forecast_category, sum(deals), sum(deals_overridden),"
                              " sum(expected_revenue) from marts.pipeline_forecast"
                              " where forecast_category <> 'closed' group by 1")
    expected: dict[str, int] = {}
    for name in category.values():
        expected[name] = expected.get(name, 0) + 1
    assert {name: deals for name, deals, _, _ in mart} == expected
    assert {name: overridden for name, _, overridden, _ in mart}.get("commit") == 1
    [(total,)] = query(forecast_db, "select sum(expected_revenue) from ml.opportunity_scores")
    assert sum(r[3] for r in mart) == total
