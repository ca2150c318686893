"""Payout runs on the demo warehouse: commission reconciled with an independent Decimal reading
of the marts, locks enforced by the database, late data and lost deals posted as adjustments
and clawbacks in the next open month, replay, statements, explain and row-level security."""

from __future__ import annotations

import csv
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import pandas as pd
import psycopg
import pytest
from click.testing import CliRunner

from salesops.cli import main
from tests.conftest import copy_of, query

PLAN = """\
plan: test-plan
version: 1
title: quarterly marginal commission
effective_from: 2016-10-01
currency: USD
rounding: half_even
boundary: higher
pay_period: month
commission_base: booked
components:
  - name: commission
    kind: rate_table
    basis: amount
    accumulate: quarter
    method: step
    tiers:
      - {from: 0, to: 30000, rate: 5%}
      - {from: 30000, rate: 7.5%}
  - {name: override, kind: override, rate: 1%}
"""
TIERS = [(Decimal(0), Decimal(30000), Decimal("0.05")), (Decimal(30000), None, Decimal("0.075"))]


def commission(total: Decimal) -> Decimal:
    """The plan's step table, written out independently of the engine."""
    out = Decimal(0)
    for start, end, rate in TIERS:
        top = total if end is None else min(total, end)
        if top > start:
            out += (top - start) * rate
    return out.quantize(Decimal("0.01"), ROUND_HALF_EVEN)


@pytest.fixture()
def pay_db(server_url, demo_build, monkeypatch, tmp_path):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "test-plan.yaml").write_text(PLAN)
    monkeypatch.setenv("SALESOPS_PLANS_DIR", str(plans))
    from salesops.access import apply_grants
    from salesops.transform import ensure_manifest, pii_columns

    with copy_of(server_url, demo_build[0]) as url:
        with psycopg.connect(url, autocommit=True) as conn:
            apply_grants(conn, pii_columns(ensure_manifest()))
        monkeypatch.setenv("SALESOPS_WAREHOUSE_URL", url)
        yield url


def cli(*args) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def won_by_rep(url: str, start: str, end: str) -> dict[str, Decimal]:
    return dict(
        query(
            url,
            "select rep_name, sum(amount_usd) from marts.fct_opportunities where is_won"
            " and closed_date >= %s and closed_date < %s group by rep_name",
            (start, end),
        )
    )


def lines(url: str, run_id: int, component: str = "commission") -> dict:
    rows = query(
        url,
        "select rep_name, sum(amount) from finance.payout_lines where run_id = %s"
        " and component = %s and kind = 'earned' group by rep_name",
        (run_id, component),
    )
    return dict(rows)


def deliver_orders(url: str, folder) -> None:
    """A one-row delivery of the orders channel through the real loader, then fct_orders rebuilt
    and the readers' grants applied again."""
    from ingestion.loader import ingest_path
    from salesops.access import apply_grants
    from salesops.dbt_project import run_dbt
    from salesops.transform import ensure_manifest, pii_columns

    [loaded] = ingest_path(url, "orders", str(folder))
    assert loaded.status == "loaded" and loaded.rows_loaded == 1
    run_dbt(["build", "--select", "fct_orders"], url)
    with psycopg.connect(url, autocommit=True) as conn:
        apply_grants(conn, pii_columns(ensure_manifest()))


def test_payout_run_lock_late_data_replay_and_statements(pay_db, tmp_path):
    url = pay_db
    # Two open deals scored by the win-probability model: the run accrues June's commission on them.
    ((rep, opp_a, opp_b),) = query(
        url,
        "select rep_name, min(opportunity_id), max(opportunity_id)"
        " from marts.fct_opportunities where not is_closed group by rep_name"
        " having count(*) > 1 order by rep_name limit 1",
    )
    with psycopg.connect(url, autocommit=True) as conn:
        for opp, expected in ((opp_a, "1200.50"), (opp_b, "3000.00")):
            conn.execute(
                "insert into ml.opportunity_scores (opportunity_id, as_of_date, probability,"
                " expected_revenue, is_amount_from_list_price, stage_at, top_factors, model_version,"
                " run_id) values (%s, '2017-05-31', 0.5, %s, false, 'Engaging', '[]', '3', 'r')",
                (opp, expected),
            )
    out = cli("payouts", "run", "--period", "2017-05")
    assert out.startswith("payout run 1 for 2017-05: ")
    # May pays each rep F(Apr+May bookings) - F(Apr bookings), both rounded to the cent.
    apr, apr_may = won_by_rep(url, "2017-04-01", "2017-05-01"), won_by_rep(url, "2017-04-01", "2017-06-01")
    expected = {
        rep: commission(total) - commission(apr.get(rep, Decimal(0))) for rep, total in apr_may.items()
    }
    expected = {rep: v for rep, v in expected.items() if v}
    got = lines(url, 1)
    assert got == expected and len(got) > 10
    # The override: 1% of each May deal of the manager's team, each rounded to the cent.
    team = {}
    for manager, amount in query(
        url,
        "select manager_name, amount_usd from marts.fct_opportunities where is_won"
        " and closed_date >= '2017-05-01' and closed_date < '2017-06-01'"
        " and manager_name is not null",
    ):
        team[manager] = team.get(manager, 0) + (amount / 100).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    assert lines(url, 1, "override") == team and len(team) >= 3
    # The accrual: the two deals close on June 1 for their expected revenue times the share of
    # open deals that closed within a month (the 12 month ends before May's), on top of April and May.
    deals = query(
        url, "select coalesce(engaged_date, created_date), closed_date from marts.fct_opportunities"
    )
    opened = closed = 0
    for end in pd.date_range("2016-05-31", "2017-04-30", freq="ME").date:
        following = (pd.Timestamp(end) + pd.offsets.MonthEnd(1)).date()
        for start, shut in deals:
            if start is not None and start <= end and (shut is None or shut > end):
                opened += 1
                closed += shut is not None and shut <= following
    rate = (Decimal(closed) / Decimal(opened)).quantize(Decimal("0.000001"))
    expected = sum((Decimal(v) * rate).quantize(Decimal("0.01")) for v in ("1200.50", "3000.00"))
    april_may = won_by_rep(url, "2017-04-01", "2017-06-01").get(rep, Decimal(0))
    accrued = commission(april_may + expected) - commission(april_may)
    assert 0 < rate < 1 and accrued > 0
    assert query(
        url,
        "select open_deals, expected_bookings, close_rate, expected_commission,"
        " to_char(period, 'YYYY-MM'), win_model_version from finance.payout_projections"
        " where run_id = 1 and rep_name = %s",
        (rep,),
    ) == [(2, expected, rate, accrued, "2017-06", "3")]
    assert "accrual for 2017-06: " in out
    total_lines = query(url, "select count(*), sum(amount) from finance.payout_lines where run_id = 1")[0]
    stmts = query(
        url, "select sum(earned), sum(payable), count(*) from finance.payout_statements where run_id = 1"
    )[0]
    assert stmts[0] == stmts[1] == total_lines[1]  # no draws in this plan

    # Lock May; the database refuses any change to it, whoever asks.
    assert "2017-05 locked at payout run 1" in cli("payouts", "lock", "--period", "2017-05")
    result = CliRunner().invoke(main, ["payouts", "run", "--period", "2017-05"])
    assert result.exit_code == 1 and "2017-05 is locked (run 1)" in result.output
    from salesops.warehouse import role_url

    line = (
        "insert into finance.payout_lines (run_id, line_no, period, earned_period, rep_name, component, rule,"
        " base, amount, kind, reason, mlflow_run_id)"
        " values (1, 9999, '{}', '2017-05-01', 'x', 'c', 'r', 0, 5, 'adjustment', 'r', 'm')"
    )
    refusals = [
        (
            None,
            "insert into finance.payout_adjustments (period, rep_name, amount, reason, approved_by)"
            " values ('2017-05-01', 'x', 5, 'r', 'cfo')",
            "period 2017-05 is locked",
        ),
        (
            "ml",
            "insert into finance.payout_adjustments (period, rep_name, amount, reason, approved_by)"
            " values ('2017-07-01', 'x', 5, 'r', 'cfo')",
            "permission denied",
        ),
        ("ml", line.format("2017-07-01"), "of run 1 is for 2017-05 .the run's month., not 2017-07"),
        ("ml", line.format("2017-05-01"), "period 2017-05 is locked"),
        ("ml", "update finance.payout_lines set amount = amount + 1 where run_id = 1", "permission denied"),
        (None, "update finance.payout_lines set amount = amount + 1 where run_id = 1", "append-only"),
        (None, "delete from finance.period_locks", "append-only"),
        (
            "ml",
            "insert into finance.period_locks (period, run_id) values ('2017-06-01', 1)",
            "permission denied",
        ),
    ]
    for role, statement, message in refusals:  # the owner too: triggers bind superusers
        conn = psycopg.connect(role_url(url, role) if role else url)
        with conn, pytest.raises(psycopg.errors.InsufficientPrivilege, match=message):
            conn.execute(statement)

    # Late data: a May deal grows by 1,000, another is no longer won. June's run posts the
    # differences for May (locked) as an adjustment and a clawback.
    deals = query(
        url,
        "select opportunity_id, rep_name from marts.fct_opportunities where is_won and"
        " closed_date >= '2017-05-01' and closed_date < '2017-06-01' order by amount_usd desc limit 2",
    )
    (grown, grown_rep), (lost, lost_rep) = deals
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "update marts.fct_opportunities set amount_usd = amount_usd + 1000 where opportunity_id = %s",
            (grown,),
        )
        conn.execute("update marts.fct_opportunities set is_won = false where opportunity_id = %s", (lost,))
    # Finance's manual adjustment (its own role, an approver other than who enters it) is paid in June.
    assert "finance.payout_adjustments" in cli(
        "payouts",
        "adjust",
        "--rep",
        grown_rep,
        "--period",
        "2017-06",
        "--amount",
        "125.50",
        "--reason",
        "spiff paid late",
        "--approved-by",
        "cfo",
        "--by",
        "analyst",
    )
    cli("payouts", "run", "--period", "2017-06")
    assert query(
        url,
        "select rep_name, amount, kind, reason from finance.payout_lines where run_id = 2"
        " and component = 'manual adjustment'",
    ) == [(grown_rep, Decimal("125.50"), "adjustment", "spiff paid late (approved by cfo)")]
    posted = query(
        url,
        "select opportunity_id, kind, amount, earned_period::text from finance.payout_lines"
        " where run_id = 2 and earned_period = '2017-05-01' and component = 'commission'",
    )
    kinds = {opp: (kind, amount) for opp, kind, amount, _ in posted}
    assert kinds[grown][0] == "adjustment" and kinds[grown][1] in (Decimal("50.00"), Decimal("75.00"))
    paid_lost = query(
        url,
        "select amount from finance.payout_lines where run_id = 1 and opportunity_id = %s"
        " and component = 'commission'",
        (lost,),
    )[0][0]
    assert kinds[lost] == ("clawback", -paid_lost)
    versions = query(
        url,
        "select deal_version, amount from finance.deal_credits where opportunity_id = %s"
        " order by deal_version",
        (lost,),
    )
    assert [v for v, _ in versions] == [1, 2] and versions[1][1] == 0
    st = dict(query(url, "select rep_name, clawbacks from finance.payout_statements where run_id = 2"))
    assert st[lost_rep] >= paid_lost

    # A later month waits for June: it posts no differences, and months lock in order.
    cli("payouts", "run", "--period", "2017-07")
    assert query(
        url, "select count(*) from finance.payout_lines where run_id = 3 and period <> earned_period"
    ) == [(0,)]
    result = CliRunner().invoke(main, ["payouts", "lock", "--period", "2017-07"])
    assert result.exit_code == 1 and "the next month to lock is 2017-06, not 2017-07" in result.output

    # Replay proves the same lines and statements from what each run recorded.
    for run_id in ("1", "2", "3"):
        assert "identical" in cli("payouts", "replay", run_id)
    text = cli("payouts", "explain", "--rep", lost_rep, "--period", "2017-06")
    assert f"commission {lost} [for 2017-05] (clawback): recalculated 2017-05" in text
    folder = tmp_path / "statements"
    assert "payroll.csv" in cli("payouts", "statements", "--period", "2017-06", "--output", str(folder))
    payroll = (folder / "payroll.csv").read_text(encoding="utf-8-sig").splitlines()
    assert (
        len(payroll)
        == 1 + query(url, "select count(*) from finance.payout_statements where run_id = 2")[0][0]
    )
    assert oct((folder / "payroll.csv").stat().st_mode)[-3:] == "600"
    import openpyxl

    cli("payouts", "statements", "--period", "2017-06", "--format", "xlsx", "--output", str(tmp_path / "x"))
    sheet = openpyxl.load_workbook(tmp_path / "x" / "payroll.xlsx").active
    assert sheet.max_row == len(payroll)
    assert [c.value for c in sheet[1]][:3] == ["rep_name", "period", "earned"]
    cli("payouts", "statements", "--period", "2017-06", "--format", "html", "--output", str(tmp_path / "h"))
    page = next((tmp_path / "h").glob("statement-*.html")).read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "Commission statement" in page and "<script" not in page


def test_reps_see_their_own_lines_and_bi_sees_none(pay_db):
    url = pay_db
    cli("payouts", "run", "--period", "2017-05")
    rep = query(url, "select rep_name from finance.payout_statements order by rep_name limit 1")[0][0]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create role test_rep_login login in role sales_rep")
        conn.execute("insert into finance.rep_logins values ('test_rep_login', %s)", (rep,))
    try:
        with psycopg.connect(url, options="-c role=test_rep_login") as conn:
            names = {r[0] for r in conn.execute("select rep_name from finance.payout_lines").fetchall()}
            assert names == {rep}
            assert conn.execute("select count(*) from finance.payout_statements").fetchone()[0] == 1
        with (
            psycopg.connect(url, options="-c role=bi_reader") as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            conn.execute("select 1 from finance.payout_lines")
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("drop owned by test_rep_login")
            conn.execute("drop role test_rep_login")


def test_bad_plans_and_periods_are_refused_and_write_nothing(pay_db, tmp_path, monkeypatch):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "p.yaml").write_text(PLAN.replace("{from: 30000, rate: 7.5%}", "{from: 35000, rate: 7.5%}"))
    monkeypatch.setenv("SALESOPS_PLANS_DIR", str(bad))
    result = CliRunner().invoke(main, ["payouts", "run", "--period", "2017-05"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: {bad / 'p.yaml'}, line 18: components.0.tiers.1.from: gap between "
        "tiers: the one before ends at 30000, this one starts at 35000"
    )
    result = CliRunner().invoke(main, ["payouts", "run", "--period", "June"])
    assert result.exit_code == 2 and "'June' is not a month (2017-06)" in result.output
    assert query(pay_db, "select count(*) from finance.payout_runs")[0][0] == 0
    assert query(pay_db, "select count(*) from finance.deal_credits")[0][0] == 0


def test_split_sets_replace_each_other_and_add_up(pay_db):
    url = pay_db
    [(opp, owner, amount)] = query(
        url,
        "select opportunity_id, rep_name, amount_usd from marts.fct_opportunities where is_won"
        " and closed_date >= '2017-05-01' and closed_date < '2017-06-01' order by opportunity_id limit 1",
    )
    other, overlay = (
        r
        for (r,) in query(
            url,
            "select distinct rep_name from marts.fct_opportunities where rep_name <> %s order by 1 limit 2",
            (owner,),
        )
    )

    def enter(*rows):  # one transaction: one split set
        with psycopg.connect(url) as conn:
            for rep, pct, kind in rows:
                conn.execute(
                    "insert into finance.credit_splits (opportunity_id, rep_name, split_pct, credit_type,"
                    " reason) values (%s, %s, %s, %s, 'team deal')",
                    (opp, rep, pct, kind),
                )

    enter((owner, 60, "revenue"), (other, 50, "revenue"))
    result = CliRunner().invoke(main, ["payouts", "run", "--period", "2017-05"])
    assert result.exit_code == 1 and f"revenue splits of deal {opp} add up to 110" in result.output
    enter((owner, 60, "revenue"), (other, 40, "revenue"), (overlay, 100, "overlay"))  # replaces the first
    cli("payouts", "run", "--period", "2017-05")
    credited = query(
        url,
        "select rep_name, credit_type, amount from finance.deal_credits where opportunity_id = %s"
        " order by credit_id",
        (opp,),
    )
    revenue = {rep: a for rep, kind, a in credited if kind == "revenue"}
    assert set(revenue) == {owner, other} and sum(revenue.values()) == amount
    assert revenue[owner] == (amount * Decimal("0.6")).quantize(Decimal("0.01")) or abs(
        revenue[owner] - amount * Decimal("0.6")
    ) <= Decimal("0.01")
    assert [(r, a) for r, kind, a in credited if kind == "overlay"] == [(overlay, amount)]


def test_two_runs_at_once_record_each_credit_once(pay_db, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from ml.incentives import runs
    from ml.incentives.plans import load_folder

    plans = load_folder(tmp_path / "plans")
    month = pd.Period("2017-05", freq="M")
    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda _: runs.run(pay_db, month, plans), range(2)))
    assert sorted(o.new_credits > 0 for o in outcomes) == [False, True]  # the second found nothing new
    assert (
        query(
            pay_db,
            "select count(*) from finance.deal_credits group by opportunity_id, deal_version,"
            " rep_name having count(*) > 1",
        )
        == []
    )
    assert query(pay_db, "select count(*) from finance.payout_runs") == [(2,)]


def test_a_refund_claws_back_its_share_in_the_next_open_month(pay_db, tmp_path):
    """The plan claws back refunds prorated. May is paid and locked; then the ERP sends one of the
    two orders of a May deal again as refunded (a new delivery, through the loader). June's run
    posts, for May, the difference of the rep's quarterly commission on the reduced bookings and
    of the manager's override, as clawbacks; the ledger keeps the deal's new version with its
    refunded share; a refund the plan's window does not cover would keep its commission."""
    from ml.incentives.engine import money

    url = pay_db
    (tmp_path / "plans" / "test-plan.yaml").write_text(
        PLAN + "clawback: {window_days: 5000, method: prorated}\n"
    )
    [(deal, rep, manager, usd)] = query(
        url,
        """
        select o.opportunity_id, o.rep_name, o.manager_name, o.amount_usd from marts.fct_opportunities as o
        where o.is_won and o.closed_date >= '2017-05-01' and o.closed_date < '2017-06-01'
          and (select count(*) from marts.fct_orders as r where r.opportunity_id = o.opportunity_id) = 2
        order by o.amount_usd desc, o.opportunity_id limit 1""",
    )
    orders = query(
        url,
        "select order_id, invoice_number, opportunity_id, account_name, order_date::text,"
        " product_name, quantity, unit_price, amount, currency, amount_usd"
        " from marts.fct_orders where opportunity_id = %s order by order_id",
        (deal,),
    )
    cli("payouts", "run", "--period", "2017-05")
    cli("payouts", "lock", "--period", "2017-05")
    paid = lines(url, 1)[rep]

    refund = tmp_path / "refunds" / "orders"
    refund.mkdir(parents=True)
    first = orders[0]
    with (refund / "erp_refunds.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "order_id",
                "invoice_number",
                "opportunity_id",
                "account_name",
                "order_date",
                "product_name",
                "quantity",
                "unit_price",
                "amount",
                "currency",
                "status",
            ]
        )
        writer.writerow([*first[:10], "refunded"])
    deliver_orders(url, refund)
    cli("payouts", "run", "--period", "2017-06")

    share = (first[10] / (orders[0][10] + orders[1][10])).quantize(Decimal("0.00000001"), ROUND_HALF_EVEN)
    taken = (usd * share).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    before = won_by_rep(url, "2017-04-01", "2017-06-01")[rep]
    expected = commission(before - taken) - commission(before)
    assert expected < 0 and paid > 0
    posted = query(
        url,
        "select opportunity_id, kind, amount from finance.payout_lines where run_id = 2 and rep_name = %s"
        " and earned_period = '2017-05-01' and component = 'commission'",
        (rep,),
    )
    # the rep's May commission falls by exactly the difference (the running total's cent of rounding
    # may move to another May deal of the rep); the refunded deal's own line is a clawback
    assert sum(amount for _, _, amount in posted) == expected
    assert [kind for opp, kind, _ in posted if opp == deal] == ["clawback"]
    override = ((usd - taken) / 100).quantize(Decimal("0.01"), ROUND_HALF_EVEN) - (usd / 100).quantize(
        Decimal("0.01"), ROUND_HALF_EVEN
    )
    assert query(
        url,
        "select kind, amount from finance.payout_lines where run_id = 2 and rep_name = %s"
        " and earned_period = '2017-05-01' and component = 'override'",
        (manager,),
    ) == [("clawback", override)]
    reason = query(
        url,
        "select reason from finance.payout_lines where run_id = 2 and opportunity_id = %s"
        " and component = 'commission'",
        (deal,),
    )[0][0]
    said = f"within 5000 days: {money(int(taken * 100))} of {money(int(usd * 100))} clawed back"
    assert reason.endswith(f"refunded on {date.today():%Y-%m-%d}, {said}")
    assert query(
        url,
        "select deal_version, refunded_share, refunded_on from finance.deal_credits"
        " where opportunity_id = %s order by deal_version",
        (deal,),
    ) == [(1, Decimal(0), None), (2, share, date.today())]
    assert "identical" in cli("payouts", "replay", "2")


PAID_MARGIN_PLAN = """\
plan: margin-plan
version: 1
title: 10% of the margin of each paid order
effective_from: 2016-10-01
currency: USD
rounding: half_even
boundary: higher
pay_period: month
commission_base: paid
commission_amount: margin
components:
  - {name: commission, kind: rate_table, basis: amount, accumulate: transaction, method: flat,
     tiers: [{from: 0, rate: 10%}]}
"""


def paid_margin_by_rep(url: str, start: str, end: str) -> dict[str, Decimal]:
    """10% of each order's margin (never below 0), to the cent, per owner: the orders paid in
    [start, end) of deals won before ``end`` (a deal is credited to its owner; the demo has no splits)."""
    rows = query(
        url,
        "select o.rep_name, r.amount_usd, r.cost_usd from marts.fct_orders as r"
        " join marts.fct_opportunities as o using (opportunity_id)"
        " where o.is_won and o.closed_date < %s and o.amount is not null and not r.is_refunded"
        " and r.paid_date >= %s and r.paid_date < %s",
        (end, start, end),
    )
    out: dict[str, Decimal] = {}
    for rep, amount, cost in rows:
        margin = max(amount - cost, Decimal(0))
        out[rep] = out.get(rep, Decimal(0)) + (margin / 10).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    return out


def test_commission_on_paid_margin_from_the_billing_ledger_with_a_refund_clawed_back(pay_db, tmp_path):
    """A plan paying 10% of each paid order's margin: May pays what an independent reading of the
    orders mart says; the orders are recorded once in the billing ledger; after May is locked, a
    May-paid order delivered again as refunded posts its commission back as a clawback in June,
    and both runs replay identically."""

    url = pay_db
    plans = tmp_path / "plans"
    (plans / "test-plan.yaml").unlink()
    (plans / "margin-plan.yaml").write_text(PAID_MARGIN_PLAN)
    cli("payouts", "run", "--period", "2017-05")
    expected = paid_margin_by_rep(url, "2017-05-01", "2017-06-01")
    assert len(expected) > 5 and lines(url, 1) == expected
    [(billed, orders_of_credited)] = query(
        url,
        "select (select count(*) from finance.deal_billing), count(*) from marts.fct_orders as r"
        " where exists (select 1 from finance.deal_credits as c where c.opportunity_id = r.opportunity_id)",
    )
    assert billed == orders_of_credited > 0
    assert query(url, "select last_billing_id from finance.payout_runs") == [(billed,)]
    reason = query(url, "select reason from finance.payout_lines where run_id = 1 limit 1")[0][0]
    assert reason.endswith("order margin in the tier from $0: 10% of the whole order margin")
    cli("payouts", "lock", "--period", "2017-05")

    [(order_id, deal, rep, amount, cost)] = query(
        url,
        "select r.order_id, r.opportunity_id, o.rep_name, r.amount_usd, r.cost_usd from marts.fct_orders as r"
        " join marts.fct_opportunities as o using (opportunity_id)"
        " where r.paid_date >= '2017-05-01' and r.paid_date < '2017-06-01' and o.closed_date < '2017-06-01'"
        " and r.amount_usd > r.cost_usd order by r.amount_usd desc, r.order_id limit 1",
    )
    refund = tmp_path / "refunds" / "orders"
    refund.mkdir(parents=True)
    (refund / "erp_refunds.csv").write_text(
        f"order_id,opportunity_id,order_date,amount,currency,status\n{order_id},{deal},2017-05-02,{amount},USD,"
        "refunded\n",
        encoding="utf-8",
    )
    deliver_orders(url, refund)
    cli("payouts", "run", "--period", "2017-06")
    taken = ((amount - cost) / 10).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    assert query(
        url,
        "select opportunity_id, kind, amount from finance.payout_lines where run_id = 2 and rep_name = %s"
        " and earned_period = '2017-05-01'",
        (rep,),
    ) == [(deal, "clawback", -taken)]
    assert query(
        url,
        "select order_version, amount, paid_on from finance.deal_billing where order_id = %s"
        " order by order_version",
        (order_id,),
    )[1:] == [(2, Decimal("0.00"), None)]
    assert lines(url, 2) == paid_margin_by_rep(url, "2017-06-01", "2017-07-01")
    assert "identical" in cli("payouts", "replay", "1")
    assert "identical" in cli("payouts", "replay", "2")
