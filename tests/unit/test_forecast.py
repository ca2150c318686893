"""`salesops forecast predict|backtest` on good, awkward and malformed series, and on real ones.

Figures are checked against independent computations: the baselines against their
textbook formulas, the backtest metrics against a plain loop over the written predictions,
and "no leakage" by changing every value after a cutoff and getting the same forecasts.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from ml.forecast import evaluate, models
from ml.forecast.series import Series, read_series_csv
from salesops.cli import main

REAL = Path(__file__).resolve().parents[1] / "data" / "realworld" / "monthly_sales"


def _csv(path: Path, rows: list[tuple[str, str, float]]) -> Path:
    path.write_text("series_id,period,value\n" + "".join(f"{s},{p},{v}\n" for s, p, v in rows))
    return path


def _months(series_id: str, start: str, values) -> list[tuple[str, str, float]]:
    periods = pd.period_range(start, periods=len(values), freq="M")
    return [(series_id, f"{p}-01", v) for p, v in zip(periods, values, strict=True)]


def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _invoke(*args: str):
    return CliRunner().invoke(main, ["forecast", *map(str, args)])


def _seasonal(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return np.round(1000 + 8 * t + 150 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 30, n), 2)


def test_predict_awkward_series_each_get_a_forecast_and_a_warning(tmp_path):
    rows = (_months("steady", "2015-01", _seasonal(30))
            + _months("new_rep", "2017-04", [1200.0, 800.0])  # 2 months: the history mean
            + _months("idle", "2016-01", [0.0] * 8)  # all zero: zero
            + _months("intermittent", "2016-01", [0, 0, 500, 0, 0, 0, 700, 0, 0, 300, 0, 0]))
    rows = [r for r in rows if r[:2] != ("steady", "2016-05-01")]  # a missing month is a zero
    result = _invoke("predict", "--input", _csv(tmp_path / "in.csv", rows), "--horizon", 4,
                     "-o", tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    assert "series steady: 1 missing month(s) taken as zero" in result.output
    assert "series new_rep: 2 months of history (under 6): forecast with the history mean" in result.output
    assert "series idle: all 8 months are zero: forecast 0" in result.output
    out = _read(tmp_path / "out.csv")
    assert list(out[0]) == ["series_id", "period", "model", "forecast", "lower_80", "upper_80",
                            "lower_95", "upper_95"]
    by_series = {s: [r for r in out if r["series_id"] == s]
                 for s in ("steady", "new_rep", "idle", "intermittent")}
    # the H months after each series' own last period
    assert [r["period"] for r in by_series["steady"]] == [f"2017-{m:02}-01" for m in (7, 8, 9, 10)]
    assert [r["period"] for r in by_series["new_rep"]] == [f"2017-{m:02}-01" for m in (6, 7, 8, 9)]
    assert {r["model"] for r in by_series["new_rep"]} == {"mean"}
    assert {r["forecast"] for r in by_series["new_rep"]} == {"1000.00"}
    assert {(r["model"], r["forecast"], r["upper_95"]) for r in by_series["idle"]} == {
        ("zero", "0.00", "0.00")}
    for row in out:  # no NaN written; two decimals; bounds ordered; never below zero for sales
        figures = [Decimal(row[c]) for c in ("lower_95", "lower_80", "forecast", "upper_80", "upper_95")]
        assert all(f.is_finite() and f.as_tuple().exponent == -2 and f >= 0 for f in figures), row
        assert figures == sorted(figures), row


@pytest.mark.parametrize(("line", "expect"), [
    ("A,2017-13-01,5", "line 3: period '2017-13-01' is not the first day of a month (YYYY-MM-01)"),
    ("A,2017-02-15,5", "line 3: period '2017-02-15' is not the first day of a month (YYYY-MM-01)"),
    ("A,2017-02-01,five", "line 3: value 'five' is not a number"),
    ("A,2017-02-01,", "line 3: value '' is not a number; write 0 for a month without sales"),
    ("A,2017-01-01,7", "line 3: A 2017-01 is also on line 2"),
    (",2017-02-01,5", "line 3: series_id is empty"),
])
def test_a_malformed_row_is_one_error_naming_its_line(tmp_path, line, expect):
    source = tmp_path / "in.csv"
    source.write_text(f"series_id,period,value\nA,2017-01-01,4\n{line}\nA,2017-03-01,6\n")
    for command in (["predict"], ["backtest", "--cutoffs", "1"]):
        result = _invoke(*command, "--input", source, "--horizon", 1, "-o", tmp_path / "out.csv")
        assert result.exit_code == 1, result.output
        assert result.output.strip() == f"Error: {source}, {expect}"
        assert not (tmp_path / "out.csv").exists()


def test_baselines_are_the_textbook_formulas():
    y = _seasonal(30)
    snaive = models.seasonal_naive(y, 15)
    np.testing.assert_allclose(snaive.mean, [y[18 + i % 12] for i in range(15)])
    sigma = np.sqrt(np.mean((y[12:] - y[:-12]) ** 2))
    np.testing.assert_allclose(snaive.upper[95][12] - snaive.mean[12], 1.959963984540054 * sigma * np.sqrt(2))
    short = y[:10]  # under two years: the naive forecast (m = 1)
    np.testing.assert_allclose(models.seasonal_naive(short, 3).mean, [short[-1]] * 3)
    d = models.drift(short, 2)
    slope = (short[-1] - short[0]) / 9
    np.testing.assert_allclose(d.mean, [short[-1] + slope, short[-1] + 2 * slope])


def test_choice_and_backtest_see_only_the_history_before_the_cutoff():
    y = _seasonal(40, seed=3)
    changed = y.copy()
    changed[28:] = changed[28:] * 3 + 999  # everything after the first cutoff (40 - 2*6 = 28 months)
    runs = [evaluate.backtest([Series("s", pd.Period("2014-01", "M"), v)], 6, 2, jobs=1)
            for v in (y, changed)]
    first = [r[r["cutoff"] == pd.Period("2016-04", "M")].drop(columns="actual") for r in runs]
    assert len(first[0]) == 3 * 6  # the chosen model and two baselines, 6 months each
    pd.testing.assert_frame_equal(first[0], first[1])
    later = [r[r["cutoff"] == pd.Period("2016-10", "M")]["forecast"].to_numpy() for r in runs]
    assert not np.allclose(later[0], later[1])  # the second cutoff does see the changed months


def test_backtest_metrics_match_a_plain_computation(tmp_path):
    rows = _months("a", "2014-01", _seasonal(40, seed=1)) + _months("b", "2015-06", _seasonal(20, seed=2))
    result = _invoke("backtest", "--input", _csv(tmp_path / "in.csv", rows), "--horizon", 3, "--cutoffs", 2,
                     "-o", tmp_path / "preds.csv")
    assert result.exit_code == 0, result.output
    preds = _read(tmp_path / "preds.csv")
    assert len(preds) == 2 * 2 * 3 and list(preds[0])[-2:] == ["cutoff", "actual"]
    history = {s: [float(v) for sid, _, v in rows if sid == s] for s in ("a", "b")}
    errors, scaled, inside80 = [], [], 0
    for series_id in ("a", "b"):
        for cutoff in sorted({r["cutoff"] for r in preds if r["series_id"] == series_id}):
            fold = [r for r in preds if r["series_id"] == series_id and r["cutoff"] == cutoff]
            length = len(history[series_id]) - 3 * (1 + (cutoff != max(r["cutoff"] for r in preds
                                                                     if r["series_id"] == series_id)))
            train = history[series_id][:length]
            m = 12 if len(train) >= 24 else 1
            scale = sum(abs(train[i] - train[i - m]) for i in range(m, len(train))) / (len(train) - m)
            fold_errors = [abs(float(r["forecast"]) - float(r["actual"])) for r in fold]
            assert [float(r["actual"]) for r in fold] == history[series_id][length:length + 3]
            errors += fold_errors
            scaled.append(sum(fold_errors) / 3 / scale)
            inside80 += sum(float(r["lower_80"]) <= float(r["actual"]) <= float(r["upper_80"]) for r in fold)
    actual_total = sum(abs(float(r["actual"])) for r in preds)
    line = next(x for x in result.output.splitlines() if x.startswith("chosen models"))
    mase, wape, cover80 = line.split()[2:5]
    assert float(mase) == pytest.approx(sum(scaled) / len(scaled), abs=0.002)  # written figures are rounded
    assert float(wape.rstrip("%")) == pytest.approx(100 * sum(errors) / actual_total, abs=0.06)
    assert float(cover80.rstrip("%")) == pytest.approx(100 * inside80 / len(preds), abs=0.06)


def test_same_input_same_forecasts(tmp_path):
    source = _csv(tmp_path / "in.csv", _months("a", "2014-01", _seasonal(36)))
    for name in ("one.csv", "two.csv"):
        assert _invoke("predict", "--input", source, "--horizon", 6, "-o", tmp_path / name).exit_code == 0
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "two.csv").read_bytes()
    assert oct((tmp_path / "one.csv").stat().st_mode & 0o777) == "0o600"


def test_real_monthly_sales_beat_seasonal_naive_and_match_ets():
    """The 11 real series nobody here wrote (realworld/monthly_sales/README.md), h = 6, 3 origins."""
    series = [s for path in sorted(REAL.glob("*.csv")) for s in read_series_csv(path)]
    scores = evaluate.metrics(evaluate.backtest(series, 6, 3))
    assert scores.loc["chosen", "folds"] == 33 and scores["folds_without_scale"].sum() == 0
    assert scores.loc["chosen", "mase"] <= 0.9 * scores.loc["seasonal_naive", "mase"], scores
    assert scores.loc["chosen", "mase"] <= 1.0 * scores.loc["ets", "mase"], scores


def test_reconciled_bounds_stay_around_the_point_when_a_series_goes_negative():
    """A series with refunds can be forecast below zero: its bounds stay ordered around the point
    (the write-back's check constraint would refuse the whole run otherwise)."""
    from ml.forecast import hierarchy

    periods = list(pd.period_range("2018-01", periods=2, freq="M"))
    levels = [("rep", "a"), ("team", "t"), ("region", "r"), ("company", "all")]
    frame = pd.DataFrame([
        {"level": level, "series_key": key, "period": p, "horizon": i + 1, "model": "drift",
         "base": -17.0 - i, "lower_80": -30.0, "upper_80": -5.0, "lower_95": -47.0, "upper_95": 5.0}
        for level, key in levels for i, p in enumerate(periods)])
    reps = pd.DataFrame({"manager_name": ["t"], "region": ["r"]}, index=pd.Index(["a"], name="rep_name"))
    out = hierarchy.reconcile(frame, reps)
    assert out.loc[out["level"] == "company", "forecast"].tolist() == [Decimal("-17.00"), Decimal("-18.00")]
    for row in out.itertuples():
        assert row.lower_95 <= row.lower_80 <= row.forecast <= row.upper_80 <= row.upper_95, row
