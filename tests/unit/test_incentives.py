"""The payout engine on published worked examples (Oracle Incentive Compensation, Spiff,
QuotaPath-style accelerators), the plan format's refusals, caps, draws, splits and rounding."""

from __future__ import annotations

import textwrap
from decimal import Decimal

import pandas as pd
import pytest

from ml.incentives import engine
from ml.incentives.plans import PlanError, check_versions, load_folder, parse

HEAD = """\
plan: {plan}
version: {version}
title: test plan
effective_from: {start}
currency: USD
rounding: half_even
boundary: {boundary}
pay_period: month
commission_base: booked
"""


def plan(
    body: str,
    boundary: str = "lower",
    start: str = "2017-01-01",
    version: int = 1,
    name: str = "t",
    extra: str = "",
):
    text = (
        HEAD.format(plan=name, version=version, start=start, boundary=boundary)
        + extra
        + textwrap.dedent(body)
    )
    return parse(text, f"{name}-v{version}.yaml")


def deals(amounts, rep="Ann", day="2017-02-10", product="GTX Pro", manager="Mo", days=None):
    return pd.DataFrame(
        {
            "deal_id": [f"D{i:03d}" for i in range(len(amounts))],
            "rep_name": rep,
            "manager_name": manager,
            "product_name": product,
            "closed_date": days or [day] * len(amounts),
            "amount": [Decimal(str(a)) for a in amounts],
        }
    )


def run(p, frame, through="2017-12", **kw):
    return engine.compute(frame, [p] if not isinstance(p, list) else p, pd.Period(through, freq="M"), **kw)


def cents(result, **where):
    lines = result.lines
    for key, value in where.items():
        lines = lines[lines[key] == value]
    return [int(a) for a in lines["amount_cents"]]


ORACLE_TIERS = """\
      - {{from: 0, to: 1000, {0}: {1}}}
      - {{from: 1000, to: 3000, {0}: {2}}}
      - {{from: 3000, to: 8000, {0}: {3}}}
      - {{from: 8000, to: 20000, {0}: {4}}}
"""
ORACLE_DEALS = [200, 300, 1500, 1200, 2000, 4500]


def test_oracle_step_rates_per_transaction():
    p = plan(
        "components:\n  - {name: c, kind: rate_table, basis: amount, accumulate: transaction, method: step,\n"
        "     tiers: [{from: 0, to: 1000, rate: 1%}, {from: 1000, to: 3000, rate: 2%},\n"
        "             {from: 3000, to: 8000, rate: 3%}, {from: 8000, to: 20000, rate: 5%}]}\n"
    )
    result = run(p, deals(ORACLE_DEALS))
    assert cents(result) == [200, 300, 2000, 1400, 3000, 9500]
    assert sum(cents(result)) == 16400  # 164
    reason = result.lines.loc[result.lines["deal_id"] == "D005", "reason"].item()
    assert reason == "$1,000 at 1%, $2,000 at 2% above $1,000, $1,500 at 3% above $3,000 of the deal"


def test_oracle_interpolated_amounts_per_full_tier():
    p = plan(
        "components:\n  - {name: c, kind: rate_table, basis: amount, accumulate: transaction,\n"
        "     method: interpolated, tiers: [{from: 0, to: 1000, amount: 10},\n"
        "     {from: 1000, to: 3000, amount: 40},\n"
        "     {from: 3000, to: 8000, amount: 100}, {from: 8000, to: 20000, amount: 2000}]}\n"
    )
    result = run(p, deals(ORACLE_DEALS))
    assert cents(result) == [200, 300, 2000, 1400, 3000, 8000]
    assert sum(cents(result)) == 14900  # 149


def test_spiff_marginal_with_running_start():
    p = plan(
        "components:\n  - {name: c, kind: rate_table, basis: amount, accumulate: quarter, method: step,\n"
        "     tiers: [{from: 0, to: 150000, rate: 4%}, {from: 150000, to: 250000, rate: 6%},"
        " {from: 250000, rate: 8%}]}\n"
    )
    frame = deals([145000, 20000], days=["2017-01-15", "2017-02-20"])
    result = run(p, frame)
    assert cents(result, deal_id="D001") == [110000]  # $1,100
    reason = result.lines.loc[result.lines["deal_id"] == "D001", "reason"].item()
    assert reason == (
        "$5,000 at 4%, $15,000 at 6% above $150,000 of quarterly bookings (running start $145,000)"
    )
    assert list(result.lines["period"].astype(str)) == ["2017-01", "2017-02"]


@pytest.mark.parametrize(("amount", "expected"), [(4000, 40000), (5000, 50000), (6000, 62000)])
def test_boundary_ten_percent_to_five_thousand_twelve_above(amount, expected):
    p = plan(
        "components:\n  - {name: c, kind: rate_table, basis: amount, accumulate: transaction, method: step,\n"
        "     tiers: [{from: 0, to: 5000, rate: 10%}, {from: 5000, rate: 12%}]}\n"
    )
    assert cents(run(p, deals([amount]))) == [expected]


@pytest.mark.parametrize(("boundary", "expected"), [("lower", 50000), ("higher", 60000)])
def test_boundary_rule_decides_a_flat_table_on_the_edge(boundary, expected):
    p = plan(
        "components:\n  - {name: c, kind: rate_table, basis: amount, accumulate: transaction, method: flat,\n"
        "     tiers: [{from: 0, to: 5000, rate: 10%}, {from: 5000, rate: 12%}]}\n",
        boundary=boundary,
    )
    assert cents(run(p, deals([5000]))) == [expected]


ACCELERATOR = """\
quota: {{source: plan, monthly: {monthly}}}
components:
  - name: variable
    kind: rate_table
    basis: attainment
    accumulate: quarter
    method: {method}
    target_incentive: 100000
    tiers: [{{from: 0%, to: 100%, multiplier: 1.0}}, {{from: 100%, to: 130%, multiplier: 1.5}},
            {{from: 130%, multiplier: 2.0}}]
"""


def test_accelerator_quota_500k_variable_100k():
    # a quarterly quota of $500k from finance.quotas (months of 166,666.67 + 166,666.67 + 166,666.66)
    frame = deals([400000, 250000], days=["2017-01-10", "2017-03-05"])
    q = pd.DataFrame(
        {
            "rep_name": "Ann",
            "month": pd.period_range("2017-01", "2017-03", freq="M"),
            "quota": [Decimal("166666.67"), Decimal("166666.67"), Decimal("166666.66")],
        }
    )
    p = plan(ACCELERATOR.format(monthly="1", method="step").replace("source: plan", "source: finance.quotas"))
    result = run(p, frame, quotas=q)
    assert sum(cents(result)) == 14500000  # $145,000
    assert cents(result) == [8000000, 6500000]  # 80% of 100k, then 20% at 1.0× + 30% at 1.5×


def test_retroactive_accelerator_rerates_the_period_on_the_crossing_deal():
    p = plan(ACCELERATOR.format(monthly="200000", method="flat"))  # quarterly quota $600k
    frame = deals([300000, 330000], days=["2017-01-10", "2017-02-05"])
    result = run(p, frame)
    # 50% → $50,000; then 105% at 1.5× = $157,500 for the quarter, the rest on the crossing deal
    assert cents(result) == [5000000, 10750000]


def test_cumulative_rounding_is_carried_not_lost():
    p = plan(
        "components:\n  - {name: c, kind: rate_table, basis: amount, accumulate: month, method: step,\n"
        "     tiers: [{from: 0, rate: 3.333%}]}\n"
    )
    frame = deals(["0.15"] * 7)
    lines = cents(run(p, frame))
    # each deal alone is 0.5 cent; the month's 1.05 total is 3.49965 cents → 3
    assert sum(lines) == 3 and sorted(set(lines)) == [0, 1]


def test_products_spiff_override_bonus_and_split_credits():
    p = plan("""\
        components:
          - {name: c, kind: rate_table, basis: amount, accumulate: transaction, method: step,
             products: [GTK 500], tiers: [{from: 0, rate: 10%}]}
          - {name: launch spiff, kind: spiff, products: [GTK 500], amount: 250,
             from: 2017-02-01, to: 2017-02-28}
          - {name: override, kind: override, rate: 1%}
          - {name: q1 bonus, kind: bonus, rep: Ann, period: 2017-03, amount: 1000, reason: top of the quarter}
        """)
    frame = pd.concat([deals([1000], product="GTK 500"), deals([2000], product="GTX Pro")], ignore_index=True)
    frame["deal_id"] = ["A", "B"]
    frame["split_pct"] = [Decimal(50), Decimal(100)]
    result = run(p, frame)
    assert result.notes == []
    got = {(r.component, r.rep_name, r.deal_id): int(r.amount_cents) for r in result.lines.itertuples()}
    assert got == {
        ("c", "Ann", "A"): 10000,
        ("launch spiff", "Ann", "A"): 12500,
        ("override", "Mo", "A"): 1000,
        ("override", "Mo", "B"): 2000,
        ("q1 bonus", "Ann", None): 100000,
    }


def test_a_product_no_deal_has_is_noted():
    p = plan(
        "components:\n  - {name: c, kind: rate_table, basis: amount, accumulate: transaction, method: step,"
        " products: [GTK 5000], tiers: [{from: 0, rate: 10%}]}\n"
    )
    result = run(p, deals([1000], product="GTK 500"))
    assert len(result.lines) == 0
    assert result.notes == [
        "plan t v1, component 'c': no credited deal is of product 'GTK 5000' (a typo pays nothing)"
    ]


def test_caps_per_deal_and_per_period_with_carry_forward():
    p = plan(
        "components:\n  - {name: c, kind: rate_table, basis: amount, accumulate: transaction, method: step,\n"
        "     cap: {per_deal: 800, per_period: 1000}, tiers: [{from: 0, rate: 10%}]}\n"
    )
    frame = deals([10000, 7000, 2000], days=["2017-01-05", "2017-01-20", "2017-02-10"])
    st = run(p, frame, through="2017-03").statements.set_index("rep_name")
    # Jan: 800 (capped) + 700 = 1500 → 1000 paid, 500 carried; Feb: 200 + 500 = 700; Mar: 0
    assert list(st["earned_cents"]) == [100000, 70000]


def test_recoverable_draw_for_a_new_rep():
    p = plan("""\
        draw: {monthly: 1000, months: 2, recoverable: true, max_recovery: 50%}
        components:
          - {name: c, kind: rate_table, basis: amount, accumulate: transaction, method: step,
             tiers: [{from: 0, rate: 10%}]}
        """)
    frame = pd.concat(
        [
            deals([50000], rep="Old", day="2017-01-10"),
            deals([4000, 30000, 30000], rep="New", days=["2017-02-10", "2017-04-01", "2017-05-01"]),
        ]
    )
    st = run(p, frame, through="2017-05").statements
    new = st[st["rep_name"] == "New"].set_index(st[st["rep_name"] == "New"]["period"].astype(str))
    # Feb: earned 400, draw 600; Mar: earned 0, draw 1000 (balance 1600); Apr: earned 3000, recover 1500;
    # May: earned 3000, recover the last 100
    assert new.loc["2017-02", ["earned_cents", "draw_cents", "payable_cents"]].tolist() == [
        40000,
        60000,
        100000,
    ]
    assert new.loc["2017-03", ["draw_cents", "payable_cents"]].tolist() == [100000, 100000]
    assert new.loc["2017-04", ["recovery_cents", "payable_cents"]].tolist() == [150000, 150000]
    assert new.loc["2017-05", ["recovery_cents", "payable_cents"]].tolist() == [10000, 290000]
    assert "Old" not in set(st.loc[st["draw_cents"] != 0, "rep_name"])


@pytest.mark.parametrize(
    ("tiers", "message"),
    [
        (
            "[{from: 0, to: 1000, rate: 1%}, {from: 900, rate: 2%}]",
            "line 16: components.0.tiers.1.from: tiers overlap",
        ),
        (
            "[{from: 0, to: 1000, rate: 1%}, {from: 1100, rate: 2%}]",
            "line 16: components.0.tiers.1.from: gap between",
        ),
        ("[{from: 10, rate: 1%}]", "line 16: components.0.tiers.0.from: the first tier starts at 0"),
        ("[{from: 0, rate: 4}]", "line 16: components.0.tiers.0.rate: 4 is not of type 'string'"),
        (
            "[{from: 0, rate: 4%, amount: 3}]",
            "line 16: components.0.tiers.0: a step amount tier has exactly one of",
        ),
    ],
)
def test_bad_tiers_are_refused_with_file_line_and_field(tiers, message):
    with pytest.raises(PlanError) as err:
        plan(
            "components:\n  - name: c\n    kind: rate_table\n    basis: amount\n"
            f"    accumulate: month\n    method: step\n    tiers: {tiers}\n"
        )
    assert str(err.value).startswith("t-v1.yaml, ") and message in str(err.value), str(err.value)


def test_unknown_field_and_missing_boundary_are_refused():
    with pytest.raises(
        PlanError, match=r"line 1\d: components.0: unknown field\(s\) \('colour' was unexpected\)"
    ):
        plan(
            "components:\n  - {name: c, kind: spiff, amount: 5, from: 2017-01-01, to: 2017-02-01,\n"
            "     colour: red}\n"
        )
    text = HEAD.format(plan="t", version=1, start="2017-01-01", boundary="lower").replace(
        "boundary: lower\n", ""
    )
    with pytest.raises(PlanError, match=r"<plan>, line 1: \(top level\): 'boundary' is missing"):
        parse(text + "components: [{name: b, kind: bonus, rep: A, period: 2017-01, amount: 1, reason: r}]\n")


def test_plan_versions_follow_each_other_and_overlaps_are_refused():
    body = "components: [{name: b, kind: bonus, rep: Ann, period: 2017-07, amount: 1, reason: r}]\n"
    a = plan(body, extra="effective_to: 2017-07-31\n")
    b = plan(body, version=2, start="2017-07-01")
    with pytest.raises(PlanError, match="t-v2.yaml: plan t version 2 .from 2017-07-01. overlaps version 1"):
        check_versions([a, b])
    # An open version ends the day before the next one starts: v1 stays as registered.
    first, second = check_versions(
        [plan(body), plan(body.replace("2017-07", "2017-08"), version=2, start="2017-08-01")]
    )
    assert first.effective_to is None and str(first.ends) == "2017-07-31" and second.ends is None
    result = run([first, second], deals([1000, 1000], days=["2017-07-31", "2017-08-01"]))
    assert sorted(zip(result.lines["plan_version"], result.lines["period"].astype(str), strict=True)) == [
        (1, "2017-07"),
        (2, "2017-08"),
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("title2: 0100\n", "line 10: not valid YAML ('0100' is not a plain decimal number"),
        ("title: again\n", "line 10: not valid YAML ('title' is given twice)"),
        ("quota: {monthly: .inf}\n", "line 10: not valid YAML ('.inf' is not a plain decimal number"),
        ("quota: {monthly: 100.005}\n", "line 10: quota.monthly: 100.005 has more than two decimals"),
        (
            "draw: {monthly: 10, months: 1, recoverable: true, max_recovery: 300%}\n",
            "line 10: draw.max_recovery: 300% is not between 0% and 100%",
        ),
    ],
)
def test_numbers_and_keys_a_plan_cannot_get_wrong_silently(extra, message):
    body = "components: [{name: b, kind: bonus, rep: Ann, period: 2017-07, amount: 1, reason: r}]\n"
    with pytest.raises(PlanError) as err:
        plan(body, extra=extra)
    assert message in str(err.value), str(err.value)


def test_bonus_outside_the_plans_dates_is_refused():
    with pytest.raises(PlanError, match="line 10: components.0.period: 2016-12 is outside the plan's dates"):
        plan("components: [{name: b, kind: bonus, rep: Ann, period: 2016-12, amount: 1, reason: r}]\n")


def test_plans_for_some_reps_with_an_end_date_pay_only_them_only_then():
    p = plan(
        "reps: [Ann]\ncomponents:\n  - {name: c, kind: rate_table, basis: amount, accumulate: transaction,"
        " method: step, tiers: [{from: 0, rate: 10%}]}\n",
        extra="effective_to: 2017-02-28\n",
    )
    frame = pd.concat([deals([100, 100], days=["2017-02-28", "2017-03-01"]), deals([100], rep="Bo")])
    frame["deal_id"] = ["A", "B", "C"]
    result = run(p, frame)
    assert list(result.lines["deal_id"]) == ["A"] and result.uncovered == 2


def test_flat_amounts_on_a_running_total_pay_the_tier_reached():
    p = plan(
        "components:\n  - {name: c, kind: rate_table, basis: amount, accumulate: quarter, method: flat,\n"
        "     tiers: [{from: 0, to: 1000, amount: 50}, {from: 1000, amount: 200}]}\n",
        boundary="higher",
    )
    result = run(p, deals([500, 600], days=["2017-01-05", "2017-01-06"]))
    assert cents(result) == [5000, 15000]  # $50 on reaching the first tier, then up to $200


def test_overlay_credits_pay_their_rep_but_no_second_override():
    p = plan(
        "components:\n  - {name: c, kind: rate_table, basis: amount, accumulate: transaction, method: step,"
        " tiers: [{from: 0, rate: 10%}]}\n  - {name: o, kind: override, rate: 1%}\n"
    )
    frame = pd.concat([deals([1000]), deals([1000], rep="Overlay")], ignore_index=True)
    frame["credit_type"] = ["revenue", "overlay"]
    got = {(r.component, r.rep_name): int(r.amount_cents) for r in run(p, frame).lines.itertuples()}
    assert got == {("c", "Ann"): 10000, ("c", "Overlay"): 10000, ("o", "Mo"): 1000}


def test_exact_where_int64_would_overflow():
    p = plan(
        "quota: {source: plan, monthly: 1000000}\ncomponents:\n  - {name: v, kind: rate_table,"
        " basis: attainment, accumulate: quarter, method: step, target_incentive: 100000,\n"
        "     tiers: [{from: 0%, to: 133.33333333%, multiplier: 1}, {from: 133.33333333%, multiplier: 2}]}\n"
        "  - {name: o, kind: override, rate: 0.123456789012345%}\n"
    )
    result = run(p, deals([9300000]))
    got = {r.component: int(r.amount_cents) for r in result.lines.itertuples()}
    # 310% of a $3M quota: 133.33333333% at 1x, the rest at 2x the $100,000 incentive
    first = Decimal("1.3333333333")
    expected = (Decimal(100000) * (first + 2 * (Decimal("3.1") - first))).quantize(Decimal("0.01"))
    assert got["v"] == int(expected * 100)
    assert got["o"] == int(
        (Decimal(9300000) * Decimal("0.00123456789012345")).quantize(Decimal("0.01")) * 100
    )


def test_unknown_rep_in_a_plan_is_refused():
    p = plan(
        "reps: [Ann, Zed]\ncomponents:\n  - {name: c, kind: rate_table, basis: amount, accumulate: "
        "transaction, method: step, tiers: [{from: 0, rate: 1%}]}\n"
    )
    with pytest.raises(engine.PayoutInputError, match="names rep 'Zed', who is not a known rep"):
        run(p, deals([100]), roster={"Ann", "Bo"})


def test_the_shipped_plans_are_valid():
    plans = load_folder()
    assert plans and all(p.boundary in ("lower", "higher") for p in plans)


def test_engine_and_an_independent_per_row_loop_agree_and_the_row_lands_in_its_table(tmp_path):
    """The benchmark's Decimal loop reckons the demo plan deal by deal; the engine must reach
    the same totals per rep and month (the command refuses to report otherwise)."""
    from salesops.benchmark_payouts import RESULTS_MARK, run_payouts_benchmark

    out = tmp_path / "bench.md"
    out.write_text(f"# x\n\n| date |\n|---|\n| old |\n{RESULTS_MARK}\n\nafter\n")
    said = []
    result = run_payouts_benchmark(3000, 12, out, echo=said.append, warehouse=False)
    assert result["lines"] == 9000 and "totals per rep and month equal" in said[2]
    text = out.read_text()
    assert text.index("| old |") < text.index("| 3,000 | 12 | 9,000 |") < text.index(RESULTS_MARK)
    assert text.endswith("\nafter\n")


def test_accelerator_gated_on_year_to_date_attainment():
    p = plan(
        "quota: {source: plan, monthly: 10000}\ncomponents:\n  - {name: v, kind: rate_table,"
        " basis: attainment, accumulate: quarter, method: step, target_incentive: 3000,\n"
        "     gate: {ytd_attainment: 100%},\n"
        "     tiers: [{from: 0%, to: 100%, multiplier: 1}, {from: 100%, multiplier: 2}]}\n"
    )
    result = run(p, deals([35000, 10000, 20000], days=["2017-04-10", "2017-05-10", "2017-06-10"]))
    # April: 117% of the quarter but 87.5% of the year so far: 1x throughout (3,500); May: 90% of
    # the year, still 1x (1,000); June: 108% of the year: 2x above the quarter's quota (4,000).
    assert cents(result) == [350000, 100000, 400000]
    reasons = list(result.lines["reason"])
    assert reasons[0].endswith("; at most 1× below the 100% year-to-date gate") and "gate" not in reasons[2]
    assert list(result.lines["rate"]) == ["1×", "1×", "2×"]
    with pytest.raises(PlanError, match="a year-to-date gate is for attainment tables"):
        plan(
            "components:\n  - {name: c, kind: rate_table, basis: amount, accumulate: month, method: step,"
            " gate: {ytd_attainment: 100%}, tiers: [{from: 0, rate: 1%}]}\n"
        )


def test_a_new_rep_ramps_on_a_prorated_quota():
    p = plan(
        "quota: {source: plan, monthly: 10000}\nramp: {shares: [50%, 75%]}\ncomponents:\n"
        "  - {name: v, kind: rate_table, basis: attainment, accumulate: quarter, method: step,"
        " target_incentive: 3000, tiers: [{from: 0%, multiplier: 1}]}\n"
    )
    frame = pd.concat(
        [deals([30000], rep="Old", day="2017-01-10"), deals([12500], rep="New", day="2017-02-10")],
        ignore_index=True,
    )
    frame["deal_id"] = ["A", "B"]
    got = {
        r.rep_name: (int(r.amount_cents), r.reason)
        for r in run(p, frame, through="2017-03").lines.itertuples()
    }
    # Old: $30,000 of a $30,000 quarter. New joined in February: no January quota, then 50% and
    # 75% of $10,000: $12,500 is 100% of a $12,500 quarter.
    assert got["Old"][0] == got["New"][0] == 300000
    assert "of a $12,500 quota (0.0% → 100.0%)" in got["New"][1]
    with pytest.raises(PlanError, match="ramp.shares.1: 120% is not between 0% and 100%"):
        plan(
            "quota: {source: plan, monthly: 1}\nramp: {shares: [50%, 120%]}\n"
            "components: [{name: b, kind: bonus, rep: Ann, period: 2017-07, amount: 1, reason: r}]\n"
        )


REFUND_BODY = """\
clawback: {{window_days: 90, method: {method}}}
components:
  - {{name: c, kind: rate_table, basis: amount, accumulate: transaction, method: flat,
     tiers: [{{from: 0, rate: 10%}}]}}
"""


def refunded(frame: pd.DataFrame, shares: list[str], on: list[str | None]) -> pd.DataFrame:
    out = frame.copy()
    out["refunded_share"] = [Decimal(s) for s in shares]
    out["refunded_on"] = [pd.Timestamp(d).date() if d else None for d in on]
    return out


@pytest.mark.parametrize(
    ("method", "expected"),
    [("prorated", [66_667, 0, 100_000, 50_000]), ("full", [0, 0, 100_000, 50_000])],
)
def test_refunds_claw_back_within_the_window_fully_or_prorated(method, expected):
    """10% of $10,000 deals: a third refunded 30 days after the close leaves 10% of $6,666.67
    ($666.67, the clawed $3,333.33 rounded half to even to the cent) or nothing (full); a whole
    refund leaves nothing; a refund 120 days on is beyond the 90-day window; no refund, no change."""
    frame = refunded(
        deals([10_000, 10_000, 10_000, 5_000], days=["2017-02-10"] * 4),
        ["0.33333333", "1", "0.5", "0"],
        ["2017-03-12", "2017-02-20", "2017-06-10", None],
    )
    result = run(plan(REFUND_BODY.format(method=method)), frame)
    assert cents(result) == expected
    reasons = list(result.lines["reason"])
    if method == "prorated":
        assert reasons[0].endswith(
            "33.33% refunded on 2017-03-12, within 90 days: $3,333.33 of $10,000 clawed back"
        )
    assert "clawed back" not in reasons[2] and "clawed back" not in reasons[3]
    late = "1 refunded or cancelled deal(s) were refunded after their plan's clawback window"
    assert result.notes == [f"{late} and keep their commission"]


def test_refunds_are_ignored_by_a_plan_without_clawback():
    frame = refunded(deals([10_000]), ["1"], ["2017-02-11"])
    body = (
        "components:\n  - {name: c, kind: rate_table, basis: amount, accumulate: transaction, method: flat,\n"
    )
    body += "     tiers: [{from: 0, rate: 10%}]}\n"
    assert cents(run(plan(body), frame)) == [100_000]


def test_a_clawback_needs_a_window_and_a_method():
    with pytest.raises(PlanError, match="clawback"):
        plan(REFUND_BODY.format(method="half"))


ORDERS_BODY = """\
components:
  - {name: c, kind: rate_table, basis: amount, accumulate: month, method: step,
     tiers: [{from: 0, rate: 10%}]}
"""


def billed_plan(base: str, measure: str = "gross", extra: str = ""):
    text = HEAD.format(plan="b", version=1, start="2017-01-01", boundary="lower").replace(
        "commission_base: booked", f"commission_base: {base}\ncommission_amount: {measure}"
    )
    return parse(text + extra + ORDERS_BODY, "b-v1.yaml")


def orders(rows):
    """(order_id, deal_id, invoiced_on, paid_on, amount, cost) rows."""
    frame = pd.DataFrame(rows, columns=["order_id", "deal_id", "invoiced_on", "paid_on", "amount", "cost"])
    frame["amount"] = [Decimal(a) for a in frame["amount"]]
    frame["cost"] = [Decimal(c) if c is not None else None for c in frame["cost"]]
    return frame


def split_deal():
    """D000, won 2017-02-10 for $10,000.01, credited 60% to Ann and 40% to Bo (the ledger's shape)."""
    frame = deals([6000.01, 4000.00], days=["2017-02-10", "2017-02-10"])
    frame["deal_id"] = ["D000", "D000"]
    frame["rep_name"] = ["Ann", "Bo"]
    frame["split_pct"] = [Decimal(60), Decimal(40)]
    frame["credit_type"] = "revenue"
    return frame


BILLS = orders(
    [
        ("O1", "D000", "2017-02-15", "2017-03-20", "6000.01", "2500.00"),
        ("O2", "D000", "2017-03-01", None, "4000.00", "4500.00"),  # not paid yet; sold at a loss
        ("O3", "D000", "2017-03-02", None, "0", None),  # cancelled: recorded at 0
    ]
)


def by_month_and_rep(result) -> dict:
    got = result.lines.groupby([result.lines["period"].astype(str), "rep_name"])["amount_cents"].sum()
    return {k: int(v) for k, v in got.items()}


def test_invoiced_amounts_commission_each_order_on_its_invoice_date_at_the_deals_split():
    result = run(billed_plan("invoiced"), split_deal(), billing=BILLS)
    # O1 $6,000.01 in Feb: 60% = $3,600.01 (the odd cent to the largest remainder), 40% = $2,400.00;
    # O2 $4,000.00 in March: $2,400.00 and $1,600.00; at 10%, to the cent, half to even.
    assert by_month_and_rep(result) == {
        ("2017-02", "Ann"): 36000,
        ("2017-02", "Bo"): 24000,
        ("2017-03", "Ann"): 24000,
        ("2017-03", "Bo"): 16000,
    }
    feb = result.lines[result.lines["period"] == pd.Period("2017-02", freq="M")]
    assert sorted(int(b) for b in feb["base_cents"]) == [240000, 360001]
    assert all("monthly invoiced amounts" in r for r in result.lines["reason"])


def test_paid_amounts_wait_for_the_payment_and_margin_takes_the_cost_off():
    paid = run(billed_plan("paid"), split_deal(), billing=BILLS)
    assert by_month_and_rep(paid) == {("2017-03", "Ann"): 36000, ("2017-03", "Bo"): 24000}
    margin = run(billed_plan("invoiced", "margin"), split_deal(), billing=BILLS)
    # O1: $6,000.01 - $2,500 = $3,500.01 → $2,100.01 / $1,400.00; O2 costs more than it sold for: 0.
    assert by_month_and_rep(margin) == {
        ("2017-02", "Ann"): 21000,
        ("2017-02", "Bo"): 14000,
        ("2017-03", "Ann"): 0,
        ("2017-03", "Bo"): 0,
    }
    assert all("monthly invoiced margin" in r for r in margin.lines["reason"])


def test_a_deal_no_longer_won_and_a_booked_plan_beside_it():
    gone = split_deal().assign(amount=Decimal(0))
    assert run(billed_plan("invoiced"), gone, billing=BILLS).lines.empty
    booked = plan(ORDERS_BODY, name="k")
    both = run([booked, billed_plan("invoiced")], split_deal(), billing=BILLS)
    per_plan = both.lines.groupby("plan_id")["amount_cents"].sum()
    assert (int(per_plan["k"]), int(per_plan["b"])) == (100000, 100000)  # 10% of $10,000.01, twice


def test_margin_needs_every_orders_cost_and_plans_refuse_margin_on_bookings_or_a_clawback():
    no_cost = orders([("O9", "D000", "2017-02-15", None, "100.00", None)])
    said = r"plan b commissions margin, but 1 order\(s\) have no cost: O9"
    with pytest.raises(engine.PayoutInputError, match=said):
        run(billed_plan("invoiced", "margin"), split_deal(), billing=no_cost)
    said = r"b-v1.yaml, line 10: commission_amount: margin is an order's amount"
    with pytest.raises(PlanError, match=said):
        billed_plan("booked", "margin")
    with pytest.raises(PlanError, match="clawback: is for booked plans"):
        billed_plan("paid", extra="clawback: {window_days: 90, method: full}\n")
    with pytest.raises(PlanError, match="commission_base"):
        billed_plan("shipped")


def test_a_runs_input_fingerprint_does_not_depend_on_the_order_of_its_plans():
    """A run reads its plan folder first and the other registered versions after; its replay reads
    them all from the database by plan id: both must give the run's fingerprint."""
    from ml.incentives.runs import input_fingerprint

    quotas = pd.DataFrame(columns=["rep_name", "month", "quota"])
    a, b = billed_plan("paid"), plan(ORDERS_BODY, name="k")
    both = input_fingerprint(split_deal(), quotas, [a, b], BILLS)
    assert both == input_fingerprint(split_deal(), quotas, [b, a], BILLS)
    assert both != input_fingerprint(split_deal(), quotas, [a], BILLS)
