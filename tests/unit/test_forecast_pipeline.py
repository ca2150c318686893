"""The open pipeline as a forecast feature, and the gradient-boosting candidate that reads it.

The expected pipeline is checked against a hand computation on a few deals, and for leakage
by recomputing each month from the deals as the CRM showed them at its end; the candidate is
checked to learn from the pipeline (a series driven by it is forecast far better with it
than without), to be reproducible, and to pass the pipeline through the history frame a
registered model is given.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.forecast import evaluate, models, pipeline
from ml.forecast.series import Series
from ml.forecast.win_probability import as_known_on


def _deal(rep, product, engaged, closed=None, won=False, price=1000.0):
    return {
        "opportunity_id": f"{rep}-{engaged}-{closed}",
        "product_name": product,
        "account_name": "a",
        "rep_name": rep,
        "engaged_date": pd.Timestamp(engaged),
        "closed_date": pd.Timestamp(closed) if closed else pd.NaT,
        "is_closed": closed is not None,
        "is_won": won,
        "amount_usd": None,
        "list_price_usd": price,
    }


def _deals(rows) -> pd.DataFrame:
    return pd.DataFrame(rows)


def test_expected_pipeline_is_value_times_win_rate_times_close_month_share():
    deals = _deals(
        [
            # closed before the end of March: durations 10, 40 and 70 days; 2 won of 3 (product P)
            _deal("ann", "P", "2017-01-01", "2017-01-11", won=True),
            _deal("ann", "P", "2017-01-01", "2017-02-10", won=True),
            _deal("bob", "P", "2017-01-01", "2017-03-12", won=False),
            # open at the end of March (engaged 2017-03-21: age 10 days), list price 900
            _deal("ann", "P", "2017-03-21", None, price=900.0),
            # open at the end of March, closes in May: still open then (it must count)
            _deal("bob", "P", "2017-03-31", "2017-05-02", won=True, price=600.0),
        ]
    )
    out = pipeline.expected_by_month(deals, pd.period_range("2017-03", "2017-03", freq="M"))
    # by hand: rate = (2 + 5 * 2/3) / (3 + 5) = 2/3; durations {10, 40, 70}
    rate = (2 + 5 * (2 / 3)) / 8
    # ann's deal, age 10 at Mar 31: S(10) = 2 (40, 70 above 10). Apr 30 age 40: S = 1 (70);
    # May 31 age 71: S = 0. P(Apr) = (2 - 1) / 2, P(May) = (1 - 0) / 2.
    ann = out[(out["kind"] == "rep") & (out["key"] == "ann")].set_index("step")["expected"]
    assert ann[1] == pytest.approx(900 * rate * 0.5)
    assert ann[2] == pytest.approx(900 * rate * 0.5)
    assert ann[3:].sum() == 0
    # bob's deal, age 0: S(0) = 3; Apr 30 age 30: S = 2 (40, 70); May 31 age 61: S = 1 (70);
    # Jun 30 age 91: S = 0.
    bob = out[(out["kind"] == "rep") & (out["key"] == "bob")].set_index("step")["expected"]
    assert [bob[k] for k in (1, 2, 3)] == pytest.approx([600 * rate / 3] * 3)
    product = out[(out["kind"] == "product") & (out["key"] == "P")].set_index("step")["expected"]
    assert product.sum() == pytest.approx(ann.sum() + bob.sum())
    assert set(out["month"]) == {pd.Period("2017-03", freq="M")}


def test_nothing_is_expected_before_any_deal_has_closed():
    deals = _deals([_deal("ann", "P", "2017-01-05", None), _deal("ann", "P", "2017-01-06", "2017-04-01")])
    assert pipeline.expected_by_month(deals, pd.period_range("2017-01", "2017-03", freq="M")).empty


def test_each_month_sees_only_what_the_crm_showed_at_its_end():
    rng = np.random.default_rng(3)
    rows = []
    for i in range(300):
        engaged = pd.Timestamp("2016-01-01") + pd.Timedelta(days=int(rng.integers(0, 540)))
        close = engaged + pd.Timedelta(days=int(rng.integers(5, 150)))
        closed = close if close <= pd.Timestamp("2017-09-30") else None
        rows.append(
            _deal(
                f"rep{i % 4}",
                f"P{i % 3}",
                engaged.date(),
                closed and closed.date(),
                won=bool(rng.random() < 0.6),
                price=float(rng.integers(500, 5000)),
            )
        )
    deals = _deals(rows)
    months = pd.period_range("2016-03", "2017-09", freq="M")
    full = pipeline.expected_by_month(deals, months).set_index(["kind", "key", "month", "step"])["expected"]
    for month in months[::3]:
        day = (month + 1).start_time - pd.Timedelta(days=1)
        then = pipeline.expected_by_month(as_known_on(deals, day), pd.PeriodIndex([month]))
        then = then.set_index(["kind", "key", "month", "step"])["expected"]
        pd.testing.assert_series_equal(
            full.xs(month, level="month", drop_level=False).sort_index(),
            then.sort_index(),
            check_exact=False,
            rtol=1e-12,
        )


def _driven_by_pipeline(n: int = 48, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Monthly won revenue of deals that enter the pipeline 1 to 4 months before they close (a
    random level each month, nothing a history alone could predict), and the pipeline: at the
    end of month t, for month t+k, the deals closing then that were already open."""
    rng = np.random.default_rng(seed)
    values = rng.uniform(500, 3000, size=n)
    share_open = {k: (4 - k + 1) / 4 if k <= 4 else 0.0 for k in range(1, pipeline.STEPS + 1)}  # lead >= k
    pipe = np.zeros((n, pipeline.STEPS))
    for t in range(n):
        for k in range(1, pipeline.STEPS + 1):
            if t + k < n:
                pipe[t, k - 1] = values[t + k] * share_open[k]
    return values, pipe


def test_the_gradient_boosting_candidate_learns_from_the_pipeline():
    values, pipe = _driven_by_pipeline()
    start = pd.Period("2014-01", freq="M")
    cutoffs, errors = range(30, 46, 3), {"with": [], "without": []}
    for cutoff in cutoffs:
        actual = values[cutoff : cutoff + 3]
        for label, matrix in (("with", pipe[:cutoff]), ("without", None)):
            context = Series("s", start, values[:cutoff], pipeline=matrix).context()
            forecast = models.fit("gbm", values[:cutoff], 3, context)
            assert forecast.finite() and (forecast.lower[95] <= forecast.mean).all()
            errors[label].append(np.abs(forecast.mean - actual).mean())
    assert np.mean(errors["with"]) < 0.7 * np.mean(errors["without"])


def test_gbm_is_reproducible_and_needs_enough_history():
    values, pipe = _driven_by_pipeline()
    context = models.Context(1, pipe)
    one, two = models.fit("gbm", values, 6, context), models.fit("gbm", values, 6, context)
    assert np.array_equal(one.mean, two.mean) and np.array_equal(one.upper[80], two.upper[80])
    with pytest.raises(models.Unfit):
        models.fit("gbm", values[:12], 6, models.Context(1, pipe[:12]))
    with pytest.raises(models.Unfit):
        models.fit("gbm", values, 6, None)  # no calendar: not fitted (a file-free call)


def test_the_pipeline_is_cut_at_the_cutoff_with_the_history():
    values, pipe = _driven_by_pipeline()
    series = Series("s", pd.Period("2014-01", freq="M"), values, pipeline=pipe)
    history = series.upto(pd.Period("2016-06", freq="M"))
    assert len(history.values) == 30 and history.pipeline.shape == (30, pipeline.STEPS)
    assert np.array_equal(history.pipeline, pipe[:30])
    # what comes after the cutoff cannot change the forecast made at it
    changed = Series("s", series.start, values.copy(), pipeline=pipe.copy())
    changed.values[30:] *= 3
    changed.pipeline[30:] *= 3
    a = evaluate.forecast_series(history, 6, "gbm").forecast.mean
    b = evaluate.forecast_series(changed.upto(pd.Period("2016-06", freq="M")), 6, "gbm").forecast.mean
    assert np.array_equal(a, b)


def test_the_registered_models_input_frame_carries_the_pipeline():
    from ml.forecast import hierarchy, registry

    reps = pd.DataFrame(
        {
            "rep_name": ["ann", "ann"],
            "manager_name": ["m", "m"],
            "region": ["r", "r"],
            "month": [pd.Timestamp("2017-01-01").date(), pd.Timestamp("2017-02-01").date()],
            "won_revenue": [100.0, 200.0],
        }
    )
    products = pd.DataFrame(
        {"product_name": ["P"], "month": [pd.Timestamp("2017-01-01").date()], "won_revenue": [300.0]}
    )
    pipe = pd.DataFrame(
        {
            "kind": ["rep", "product"],
            "key": ["ann", "P"],
            "month": [pd.Period("2017-01", freq="M")] * 2,
            "step": [1, 2],
            "expected": [50.0, 75.0],
        }
    )
    back = registry._history(registry.history_frame(hierarchy.History(reps, products, pipe)))
    pd.testing.assert_frame_equal(back.pipeline, pipe, check_dtype=False)
    series = hierarchy.all_series(back)
    assert series["rep"][0].pipeline[0, 0] == 50.0 and series["team"][0].pipeline[0, 0] == 50.0
    assert series["product"][0].pipeline[0, 1] == 75.0 and series["company"][0].pipeline.sum() == 50.0


def _evidence(
    series_id: str, level: float, errors: dict[str, float], fits: tuple[str, ...], points: int = 12
):
    series = Series(series_id, pd.Period("2015-01", freq="M"), np.full(24, level))
    forecast = models.fit("mean", series.values, 3)
    return evaluate.Evidence(series, errors, dict.fromkeys(fits, forecast), points=points)


def test_a_level_shares_the_model_with_the_least_error_per_month_in_each_series_own_units():
    # per series, ets would win the big rep and drift the small one; in each series' own units
    # per forecast month: drift (2/100 + 0/10) / 24, ets (0/100 + 5/10) / 24: drift
    big = _evidence("big", 100.0, {"drift": 2.0, "ets": 0.0, "theta": 9.0}, ("drift", "ets"))
    small = _evidence("small", 10.0, {"drift": 0.0, "ets": 5.0}, ("drift", "ets"))  # too short for theta
    candidates = models.CANDIDATES
    assert evaluate.pick_for_group([big, small], candidates) == "drift"  # theta: 1 of 2 series < 80%
    assert evaluate.pick_for_group([big], candidates) == "ets"
    # a young series does not take a candidate away from the others: theta is scored on 4 of 5
    # (80%) and wins there; the young one, which theta cannot fit, takes its own choice
    olds = [
        _evidence(f"old{i}", 50.0, {"theta": 1.0, "ets": 3.0}, ("theta", "ets"), points=24) for i in range(4)
    ]
    young = _evidence("young", 10.0, {"ets": 1.0, "drift": 0.5}, ("ets", "drift"), points=6)
    assert evaluate.pick_for_group([*olds, young], candidates) == "theta"
    assert evaluate.result(young, 3, "theta", candidates).model == "drift"
    # series without a choice to make (all zero, too short) neither vote nor change
    idle = evaluate.evidence(Series("idle", pd.Period("2015-01", freq="M"), np.zeros(24)), 3)
    assert idle.fallback.model == "zero" and evaluate.pick_for_group([idle, big], candidates) == "ets"
    assert evaluate.result(idle, 3, "ets", candidates).model == "zero"


def test_a_pooled_backtest_uses_one_model_per_origin_chosen_before_it():
    rng = np.random.default_rng(5)
    series = [Series(f"rep{i}", pd.Period("2014-01", freq="M"), rng.gamma(2.0, 500.0, 40)) for i in range(5)]
    predictions, choices = evaluate.backtest_and_choose(series, 6, 3, jobs=1, pooled=True)
    chosen = predictions[predictions["role"] == "chosen"]
    assert chosen.groupby("cutoff")["model"].nunique().eq(1).all()
    assert len(set(choices.values())) == 1
    # each origin's choice is the group's pick on the histories up to it
    for cutoff, rows in chosen.groupby("cutoff"):
        group = [evaluate.evidence(s.upto(cutoff), 6) for s in series]
        assert rows["model"].iloc[0] == evaluate.pick_for_group(group, models.CANDIDATES)


def test_every_experiment_of_a_process_keeps_its_artifacts_in_the_home(tmp_path, monkeypatch):
    """mlflow.set_tracking_uri exports MLFLOW_TRACKING_URI; the second experiment of a process (the
    payouts after the forecast, in `salesops run`) once took that for a user's store and put its
    artifacts (pay statements) in ./mlruns of the working directory."""
    from ml.forecast import registry

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setattr(registry, "tracking_home", lambda: tmp_path / "mlflow")
    (tmp_path / "mlflow").mkdir()
    monkeypatch.chdir(tmp_path)
    try:
        for experiment in (registry.EXPERIMENT, "salesops-payouts"):
            mlflow = registry._mlflow(experiment)
            location = mlflow.get_experiment_by_name(experiment).artifact_location
            assert location.startswith((tmp_path / "mlflow" / "artifacts").as_uri()), location
        assert not (tmp_path / "mlruns").exists()
        # a store the user chose is used as it is
        monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'theirs.db'}")
        assert registry._mlflow("salesops-payouts").get_tracking_uri().endswith("theirs.db")
    finally:
        monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def test_salesops_mlflow_ui_serves_the_homes_runs_on_loopback_only_behind_a_sign_in(tmp_path):
    import base64
    import json
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"} | {
        "SALESOPS_HOME": str(tmp_path)
    }
    salesops = [sys.executable, "-m", "salesops.cli"]
    empty = subprocess.run([*salesops, "mlflow", "ui"], env=env, capture_output=True, text=True, timeout=120)
    assert empty.returncode == 1 and "no MLflow runs in" in empty.stderr and "Traceback" not in empty.stderr
    subprocess.run(
        [sys.executable, "-c", "from ml.forecast import registry; registry._mlflow()"],
        env=env,
        check=True,
        timeout=120,
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [*salesops, "mlflow", "ui", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/ajax-api/2.0/mlflow/experiments/search?max_results=10"

        def status(user: str | None, password: str | None = None) -> tuple[int, dict | None]:
            request = urllib.request.Request(url)
            if user is not None:
                token = base64.b64encode(f"{user}:{password}".encode()).decode()
                request.add_header("Authorization", f"Basic {token}")
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return response.status, json.load(response)
            except urllib.error.HTTPError as refused:
                return refused.code, None

        from salesops import credentials

        answer, deadline = None, time.monotonic() + 90
        while answer is None and time.monotonic() < deadline:
            try:
                answer = status(None)
            except OSError:
                time.sleep(1)
        # The runs hold payout statements: nobody reads them without the home's password.
        assert answer == (401, None)
        password = credentials.known("mlflow_ui", tmp_path)
        assert password and (tmp_path / "credentials.json").stat().st_mode & 0o077 == 0
        assert status("salesops", password + "x")[0] == 401
        assert status("admin", "password1234")[0] == 401
        code, body = status("salesops", password)
        assert code == 200 and "salesops-revenue-forecast" in {e["name"] for e in body["experiments"]}
        assert (tmp_path / "mlflow" / "auth.ini").stat().st_mode & 0o077 == 0
        import psutil

        listening = {
            c.laddr.ip for c in psutil.net_connections("tcp") if c.laddr.port == port and c.status == "LISTEN"
        }
        assert listening == {"127.0.0.1"}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_activity_features_count_only_what_was_logged_by_the_date():
    from ml.forecast import win_probability as wp

    deals = _deals([_deal("ann", "P", "2017-03-01"), _deal("bob", "P", "2017-03-10")])
    days = pd.DataFrame(
        {
            "opportunity_id": [deals["opportunity_id"][0]] * 3,
            "day": ["2017-03-02", "2017-03-20", "2017-04-05"],
            "activities": [2, 1, 4],
            "meetings": [0, 1, 1],
        }
    )
    deals = wp.with_activities(deals, days)
    as_of = pd.Timestamp("2017-03-25")
    out = wp.features(deals, pd.Index(deals["opportunity_id"]), as_of)
    # ann: 2 + 1 activities by the 25th (not the 4 of April 5), 1 meeting, last on the 20th
    assert out["activities_before"].tolist() == [3.0, 0.0]
    assert out["meetings_before"].tolist() == [1.0, 0.0]
    # bob has none yet: the days since he was engaged (15)
    assert out["days_since_activity"].tolist() == [5.0, 15.0]
    # as the CRM showed it then: the same features, and April's activities gone
    then = wp.as_known_on(deals, as_of)
    pd.testing.assert_frame_equal(out, wp.features(then, pd.Index(deals["opportunity_id"]), as_of))
    assert len(then["activity_days"][0]) == 2


def test_a_target_is_not_shared_with_a_rep_who_left():
    from decimal import Decimal

    from ml.forecast import quotas as q

    reps = pd.DataFrame({"region": ["East"] * 3, "manager_name": ["m"] * 3}, index=["gone", "selling", "new"])
    won = pd.DataFrame(
        {
            "rep_name": ["gone", "selling", "selling"],
            "month": pd.PeriodIndex(["2015-03", "2017-05", "2015-01"], freq="M"),
            "won_revenue": [Decimal(100), Decimal(200), Decimal(50)],
        }
    )
    target = q.Target(
        2, "company", "all", "2017-Q3", tuple(pd.period_range("2017-07", periods=3, freq="M")), Decimal(30000)
    )
    out = q.split([target], q.Roster(reps, won))
    # "gone" won before the 12 months to June 2017 and nothing in them: no quota; "new" never won:
    # a ramp, a quarter of the average weight of the others (200): 50 / 250 of each month
    by_rep = out.groupby("rep_name")["quota"].sum()
    assert by_rep.to_dict() == {"new": Decimal("6000.00"), "selling": Decimal("24000.00")}
    assert set(out.loc[out["rep_name"] == "new", "method"]) == {"ramp"}


def test_the_mlflow_ui_admin_signs_in_with_the_homes_stored_password(tmp_path, monkeypatch):
    """credentials.json is the one record of the UI's password: a home whose credentials were
    replaced gets the admin's password in MLflow's users database set back to the stored one."""
    import os

    from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore

    from salesops import credentials, mlflow_auth

    monkeypatch.setenv("SALESOPS_HOME", str(tmp_path))
    for key in ("MLFLOW_AUTH_CONFIG_PATH", "MLFLOW_AUTH_ADMIN_USERNAME", "MLFLOW_AUTH_ADMIN_PASSWORD",
                "MLFLOW_FLASK_SERVER_SECRET_KEY"):
        monkeypatch.setenv(key, "")  # restored after the test: prepare_ui sets them for the server
    tracking = tmp_path / "mlflow"
    tracking.mkdir()
    users = SqlAlchemyStore()
    users.init_db(f"sqlite:///{tracking / 'auth.db'}")
    users.create_user(mlflow_auth.UI_USER, "an-older-password", is_admin=True)
    assert credentials.known("mlflow_ui", tmp_path) is None
    password = mlflow_auth.prepare_ui(tracking)
    stored = credentials.known("mlflow_ui", tmp_path)
    assert password == stored == os.environ["MLFLOW_AUTH_ADMIN_PASSWORD"]
    assert users.authenticate_user(mlflow_auth.UI_USER, stored, use_primary=True)
    assert not users.authenticate_user(mlflow_auth.UI_USER, "an-older-password", use_primary=True)
    assert (tracking / "auth.ini").stat().st_mode & 0o777 == 0o600
    users.engine.dispose()
