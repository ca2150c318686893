"""Payout runs against the warehouse (``salesops payouts run|lock|explain|replay``; docs/payouts.md).

A run for month P, as the ML role, in one transaction:

1. registers the plan versions it uses in ``finance.commission_plans`` (a version already
   registered with other contents is refused: change a plan by adding a version);
2. records credits in the ledger ``finance.deal_credits``: a won deal seen for the first time
   is credited to its owner at close (or to ``finance.credit_splits``), a new version only when
   what is commissioned changed, and a credited deal that is no longer won gets a version with
   amount 0; when a plan commissions invoiced or paid amounts, the credited deals' orders are
   recorded the same way in ``finance.deal_billing``;
3. computes every month up to P from the ledger (``engine.compute``);
4. writes P's lines, plus, for every locked month, the difference between what it pays now and
   what was paid (locked runs and the adjustments already posted) as ``adjustment`` (up) or
   ``clawback`` (down) lines, plus finance's manual adjustments for P, and one statement per rep;
5. tracks the run in MLflow (plan versions, input fingerprint, totals; lines, statements and
   quotas as artifacts), whose run id is on the run and every line.

A locked month cannot be run again (the database refuses it too). ``replay`` recomputes a
run from what it recorded (the ledger up to its last credit, its quotas artifact, its plan
versions) and compares line by line.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pandas as pd

from ml.incentives import engine
from ml.incentives.plans import Plan, PlanError, check_versions, load_folder, parse

EXPERIMENT = "salesops-payouts"
_RUN_LOCK = 7_310_044  # any constant: serialises payout runs (setup_warehouse uses 7_310_043)
CENT = Decimal("0.01")


class PayoutError(ValueError):
    """A run that cannot be done as asked; one line for a person."""


@dataclass
class RunOutcome:
    run_id: int
    mlflow_run_id: str
    period: pd.Period
    lines: pd.DataFrame
    statements: pd.DataFrame
    new_credits: int
    uncovered: int
    projected: pd.DataFrame  # rep_name, open_deals, expected_bookings, expected_commission (next month)
    notes: list[str]  # the engine's notes for a person (a product no credited deal has)


def _connect(url: str, role: str = "ml"):
    import psycopg

    from salesops.warehouse import role_url

    return psycopg.connect(role_url(url, role))


def _month(period: pd.Period):
    return period.to_timestamp().date()


def register_plans(conn, plans: list[Plan]) -> None:
    for p in plans:
        row = conn.execute(
            "select sha256 from finance.commission_plans where plan_id = %s and version = %s",
            (p.plan_id, p.version),
        ).fetchone()
        if row and row[0] != p.sha256:
            raise PlanError(
                f"{p.path}: plan {p.plan_id} version {p.version} is already registered with other "
                "contents; a changed plan is a new version (version: "
                f"{p.version + 1}, effective_from after the last day of this one)"
            )
        if not row:
            conn.execute(
                "insert into finance.commission_plans (plan_id, version, title, effective_from,"
                " effective_to, yaml, sha256) values (%s, %s, %s, %s, %s, %s, %s)",
                (p.plan_id, p.version, p.title, p.effective_from, p.effective_to, p.source, p.sha256),
            )


_CHANGED = """
with refunds as (
    -- the share of a deal's order amount refunded or cancelled, and when that became known
    select opportunity_id,
        round(coalesce(sum(amount_usd) filter (where is_refunded), 0) / nullif(sum(amount_usd), 0), 8)
            as share,
        (max(loaded_at) filter (where is_refunded))::date as refunded_on
    from marts.fct_orders where opportunity_id is not null group by opportunity_id
    having bool_or(is_refunded)
),
won as (
    select o.opportunity_id, o.rep_name, o.manager_name, o.product_name, o.closed_date, o.amount_usd,
        o.currency,
        -- a deal without a refund keeps the fingerprint it had before refunds were recorded
        md5(concat_ws('|', o.amount_usd::text, o.closed_date::text, o.product_name, (
            select string_agg(s.rep_name || ':' || s.split_pct::text || ':' || s.credit_type, ','
                order by s.split_id)
            from finance.credit_splits as s where s.opportunity_id = o.opportunity_id
                and s.entered_at = (select max(t.entered_at) from finance.credit_splits as t
                    where t.opportunity_id = o.opportunity_id)),
            case when r.share > 0 then 'refunded:' || r.share::text end)) as fingerprint,
        coalesce(r.share, 0) as refunded_share, case when r.share > 0 then r.refunded_on end as refunded_on
    from marts.fct_opportunities as o
    left join refunds as r on r.opportunity_id = o.opportunity_id
    where o.is_won and o.closed_date is not null and o.closed_date < %(end)s and o.rep_name is not null
        and o.amount is not null
),
latest as (
    select distinct on (opportunity_id) opportunity_id, deal_version, deal_fingerprint
    from finance.deal_credits order by opportunity_id, deal_version desc, credit_id
),
first_owner as (
    select distinct on (opportunity_id) opportunity_id, rep_name
    from finance.deal_credits where deal_version = 1 and credit_type = 'revenue'
    order by opportunity_id, credit_id
)
select w.opportunity_id, coalesce(f.rep_name, w.rep_name), w.manager_name, w.product_name, w.closed_date,
    w.amount_usd, w.currency, w.fingerprint, coalesce(l.deal_version, 0), w.refunded_share, w.refunded_on
from won as w
left join latest as l on l.opportunity_id = w.opportunity_id
left join first_owner as f on f.opportunity_id = w.opportunity_id
where l.opportunity_id is null or l.deal_fingerprint <> w.fingerprint
"""
_NO_LONGER_WON = """
select distinct on (c.opportunity_id) c.opportunity_id, c.deal_version, c.rep_name, c.manager_name,
    c.product_name, c.closed_date, c.deal_fingerprint
from finance.deal_credits as c
order by c.opportunity_id, c.deal_version desc, c.credit_id
"""


def record_credits(conn, through: pd.Period) -> tuple[int, int]:
    """New ledger rows for deals won up to the end of ``through`` (see module doc): what changed
    is found in SQL (a fingerprint of what is commissioned per deal against the ledger's latest
    version). A won deal without an amount (flagged ``is_missing_amount`` in the marts) has
    nothing to commission and is not credited. Returns (rows written, won deals without an amount)."""
    end = (through + 1).to_timestamp().date()
    no_amount = conn.execute(
        "select count(*) from marts.fct_opportunities where is_won and closed_date < %s"
        " and rep_name is not null and amount is null",
        (end,),
    ).fetchone()[0]
    changed = conn.execute(_CHANGED, {"end": end}).fetchall()
    missing = [r for r in changed if r[5] is None]
    if missing:
        sample = ", ".join(f"{r[0]} ({r[6]})" for r in missing[:3])
        raise PayoutError(
            f"{len(missing)} won deal(s) have no USD amount (a currency without a rate): {sample}; "
            "load the rates with `salesops rates load FILE` and build"
        )
    # The latest split set of a deal (the rows finance entered together) replaces earlier ones.
    splits: dict[str, list] = {}
    for opp, rep, pct_, kind in conn.execute(
        "select s.opportunity_id, s.rep_name, s.split_pct, s.credit_type from finance.credit_splits as s"
        " where s.entered_at = (select max(t.entered_at) from finance.credit_splits as t"
        " where t.opportunity_id = s.opportunity_id) order by s.split_id"
    ).fetchall():
        splits.setdefault(opp, []).append((rep, Decimal(pct_), kind))
    for opp, rows in splits.items():
        revenue = sum(p for _, p, k in rows if k == "revenue")
        if revenue not in (0, 100):
            raise PayoutError(
                f"finance.credit_splits: the latest revenue splits of deal {opp} add up to {revenue}%, "
                "not 100% (enter the deal's whole split set again; the latest set replaces the earlier ones)"
            )
    rows = []
    hundred = Decimal(100)
    for opp, owner, manager, product, closed, usd, _currency, fp, version, refunded, refunded_on in changed:
        refund = (refunded, refunded_on)
        shares = splits.get(opp)
        if shares and not any(
            k == "revenue" for _, _, k in shares
        ):  # overlays only: the owner keeps the deal
            shares = [(owner, hundred, "revenue"), *shares]
        if not shares:
            rows.append(
                (
                    opp,
                    version + 1,
                    owner,
                    manager,
                    product,
                    closed,
                    usd,
                    "USD",
                    hundred,
                    "revenue",
                    fp,
                    *refund,
                )
            )
            continue
        revenue = iter(_split(Decimal(usd), [p for _, p, k in shares if k == "revenue"]))
        for who, pct_, kind in shares:
            credited = next(revenue) if kind == "revenue" else Decimal(usd)
            rows.append(
                (opp, version + 1, who, manager, product, closed, credited, "USD", pct_, kind, fp, *refund)
            )
    still_won = {
        r[0]
        for r in conn.execute(
            "select opportunity_id from marts.fct_opportunities where is_won and closed_date < %s"
            " and amount is not null",
            (end,),
        ).fetchall()
    }
    for opp, version, rep, manager, product, closed, fp in conn.execute(_NO_LONGER_WON).fetchall():
        if opp not in still_won and fp != "not-won":  # its commission is clawed back
            rows.append(
                (
                    opp,
                    version + 1,
                    rep,
                    manager,
                    product,
                    closed,
                    Decimal(0),
                    "USD",
                    hundred,
                    "revenue",
                    "not-won",
                    Decimal(0),
                    None,
                )
            )
    with (
        conn.cursor() as cur,
        cur.copy(
            "copy finance.deal_credits (opportunity_id, deal_version, rep_name, manager_name, product_name,"
            " closed_date, amount, currency, split_pct, credit_type, deal_fingerprint, refunded_share,"
            " refunded_on) from stdin"
        ) as copy,
    ):
        for row in rows:
            copy.write_row(row)
    return len(rows), no_amount


def _split(total: Decimal, pcts: list[Decimal]) -> list[Decimal]:
    from ml.forecast.money import allocate

    return allocate(total, pcts) if pcts else []


def current_credits(conn, last_credit_id: int | None = None) -> tuple[pd.DataFrame, int]:
    """The latest version of every deal's credits (as the ledger stood at ``last_credit_id``)."""
    limit = "where credit_id <= %s" if last_credit_id is not None else ""
    rows = conn.execute(
        "with ledger as (select * from finance.deal_credits " + limit + "),"
        " latest as (select opportunity_id, max(deal_version) as v from ledger group by opportunity_id)"
        " select l.opportunity_id, l.rep_name, l.manager_name, l.product_name, l.closed_date, l.amount,"
        " l.split_pct, l.credit_type, l.refunded_share, l.refunded_on"
        " from ledger as l join latest using (opportunity_id)"
        " where l.deal_version = latest.v order by l.credit_id",
        (last_credit_id,) if last_credit_id is not None else None,
    ).fetchall()
    top = conn.execute(
        "select coalesce(max(credit_id), 0) from finance.deal_credits " + limit,
        (last_credit_id,) if last_credit_id is not None else None,
    ).fetchone()[0]
    frame = pd.DataFrame(
        rows,
        columns=[*engine.CREDIT_COLUMNS, "refunded_share", "refunded_on"],
    )
    if not (frame["refunded_share"] > 0).any():
        # No refund recorded: the credits are read as before refunds were (a run's input fingerprint,
        # and so the replay of a run made before, is unchanged).
        frame = frame.drop(columns=["refunded_share", "refunded_on"])
    return frame, top


def _quotas(conn) -> pd.DataFrame:
    rows = conn.execute(
        "select rep_name, month, quota from finance.quotas order by rep_name, month"
    ).fetchall()
    frame = pd.DataFrame(rows, columns=["rep_name", "month", "quota"])
    frame["month"] = (
        pd.PeriodIndex(pd.to_datetime(frame["month"]), freq="M") if len(frame) else frame["month"]
    )
    return frame


def _roster(conn) -> set[str]:
    rows = conn.execute(
        "select rep_name from marts.fct_opportunities where rep_name is not null"
        " union select manager_name from marts.fct_opportunities where manager_name is not null"
    )
    return {r[0] for r in rows.fetchall()}


def _amount(cents) -> Decimal:
    return (Decimal(int(cents)) * CENT).quantize(CENT)


def period_lines(
    result: engine.Result,
    period: pd.Period,
    paid: pd.DataFrame,
    manual: list,
    locked: set | frozenset = frozenset(),
) -> pd.DataFrame:
    """The lines paid in ``period``: its own earned lines, the differences for the ``locked``
    months (``paid``: what was paid per earned_period, plan version, rep, deal, component and
    rule), and manual adjustments."""
    lines = result.lines
    own = lines[lines["period"] == period].assign(earned_period=period)
    own = own.assign(kind=engine.line_kinds(own["rule"]))
    parts = [own]
    if locked:
        key = ["earned_period", "plan_id", "plan_version", "rep_name", "deal_id", "component", "rule"]
        paid = paid[paid["earned_period"].isin(locked)]
        now = lines[lines["period"].isin(locked)].assign(earned_period=lambda f: f["period"])
        now = now.assign(deal_id=now["deal_id"].fillna(""), amount=now["amount_cents"].astype(object))
        was = paid.assign(deal_id=paid["deal_id"].fillna(""))
        merged = (
            now.groupby(key, dropna=False)["amount"]
            .sum()
            .rename("now")
            .to_frame()
            .join(was.groupby(key, dropna=False)["amount_cents"].sum().rename("was"), how="outer")
            .fillna(0)
            .reset_index()
        )
        merged["diff"] = [int(n) - int(w) for n, w in zip(merged["now"], merged["was"], strict=True)]
        merged = merged[merged["diff"] != 0]
        if len(merged):
            parts.append(
                pd.DataFrame(
                    {
                        "period": period,
                        "earned_period": merged["earned_period"].to_numpy(),
                        "rep_name": merged["rep_name"].to_numpy(),
                        "deal_id": merged["deal_id"].replace("", None).to_numpy(),
                        "plan_id": merged["plan_id"].to_numpy(),
                        "plan_version": merged["plan_version"].to_numpy(),
                        "component": merged["component"].to_numpy(),
                        "rule": merged["rule"].to_numpy(),
                        "tier": None,
                        "rate": None,
                        "base_cents": 0,
                        "amount_cents": merged["diff"].to_numpy(dtype=object),
                        "kind": ["adjustment" if d > 0 else "clawback" for d in merged["diff"]],
                        "reason": [
                            f"recalculated {e}: {engine.money(int(n))} now, "
                            f"{engine.money(int(w))} paid "
                            f"({r}{', deal ' + d if d else ''})"
                            # a refund clawed back says so on the difference too
                            + (f"; {result.refunds[(p, d)]}" if (p, d) in result.refunds else "")
                            for e, n, w, r, d, p in zip(
                                merged["earned_period"],
                                merged["now"],
                                merged["was"],
                                merged["rule"],
                                merged["deal_id"],
                                merged["plan_id"],
                                strict=True,
                            )
                        ],
                    }
                )
            )
    for rep, amount, reason, approver in manual:
        cents = engine.to_cents(amount)
        parts.append(
            pd.DataFrame(
                [
                    {
                        "period": period,
                        "earned_period": period,
                        "rep_name": rep,
                        "deal_id": None,
                        "plan_id": None,
                        "plan_version": None,
                        "component": "manual adjustment",
                        "rule": "manual adjustment",
                        "tier": None,
                        "rate": None,
                        "base_cents": 0,
                        "amount_cents": cents,
                        "kind": "adjustment" if cents > 0 else "clawback",
                        "reason": f"{reason} (approved by {approver})",
                    }
                ]
            )
        )
    return pd.concat(parts, ignore_index=True)


def statements(lines: pd.DataFrame, period: pd.Period, payees: set[str] = frozenset()) -> pd.DataFrame:
    """The month's statements (``engine.statements``) in Decimal: one row per rep with lines or in
    ``payees`` (zeros): earned, draws, recoveries, adjustments, clawbacks, payable."""
    table = engine.statements(lines, payees, period)
    names = {
        "earned_cents": "earned",
        "draw_cents": "draws",
        "recovery_cents": "recoveries",
        "adjustment_cents": "adjustments",
        "clawback_cents": "clawbacks",
        "payable_cents": "payable",
    }
    out = pd.DataFrame({"rep_name": table["rep_name"].to_numpy(dtype=object)})
    for column, name in names.items():
        out[name] = [_amount(c) for c in table[column]]
    return out


def _payees(plans: list[Plan], credits: pd.DataFrame, period: pd.Period) -> set[str]:
    """The credited reps on a plan in effect in ``period`` (a statement each, zero or not)."""
    day = period.to_timestamp().date()
    out = set()
    for p in plans:
        if p.in_effect(day) or p.in_effect(period.to_timestamp(how="end").date()):
            reps = set(credits["rep_name"])
            out |= reps if p.reps is None else reps & set(p.reps)
    return out


def close_last_month(plans_dir: Path | None = None) -> dict:
    """The payout DAG's task: run the last month with won deals in the marts (unless it is
    locked) and write its statements (csv) under ``$SALESOPS_HOME/payouts/<month>``."""
    from ml.incentives.statements import write_statements
    from salesops.config import ensure_home
    from salesops.setup_warehouse import prepare

    url = prepare()
    plans = load_folder(plans_dir)
    with _connect(url) as conn:
        last = conn.execute("select max(closed_date) from marts.fct_opportunities where is_won").fetchone()[0]
        if last is None:
            return {"skipped": "no won deals in the marts yet"}
        period = pd.Period(last, freq="M")
        if conn.execute("select 1 from finance.period_locks where period = %s", (_month(period),)).fetchone():
            return {"skipped": f"{period} is locked", "period": str(period)}
    outcome = run(url, period, plans)
    folder = ensure_home() / "payouts" / str(period)
    written = write_statements(url, period, folder, "csv")
    s = outcome.statements
    return {
        "period": str(period),
        "run_id": outcome.run_id,
        "mlflow_run_id": outcome.mlflow_run_id,
        "lines": len(outcome.lines),
        "statements": len(s),
        "earned": str(sum(s["earned"], Decimal(0))),
        "payable": str(sum(s["payable"], Decimal(0))),
        "folder": str(folder),
        "files": len(written),
    }


def _locks(conn, before_run: int | None = None) -> set:
    """The locked months (those locked before run ``before_run`` ran, when given)."""
    when = (
        " where locked_at < (select ran_at from finance.payout_runs where run_id = %s)"
        if before_run is not None
        else ""
    )
    rows = conn.execute(
        "select period from finance.period_locks" + when, (before_run,) if before_run is not None else None
    ).fetchall()
    return {pd.Period(p, freq="M") for (p,) in rows}


def _differences_for(period: pd.Period, locks: set) -> set:
    """The locked months whose differences ``period`` posts: all of them when ``period`` is the
    month after the last locked one (the next to close), none otherwise (they wait for it), so a
    difference is posted once, in a month that is then locked in its turn."""
    return locks if locks and period == max(locks) + 1 else set()


_BILLING_NO_RATE = """
select count(*), string_agg(o.order_id || ' (' || o.currency || ')', ', ' order by o.order_id)
from marts.fct_orders as o
where not o.is_refunded and (o.amount_usd is null or (o.cost is not null and o.cost_usd is null))
    and exists (select 1 from finance.deal_credits as c where c.opportunity_id = o.opportunity_id)
"""
_RECORD_BILLING = """
with orders as (
    -- a refunded or cancelled order commissions nothing any more (the mart gives it no paid_date)
    select o.order_id, o.opportunity_id, o.order_date as invoiced_on, o.paid_date as paid_on,
        case when o.is_refunded then 0 else round(o.amount_usd, 2) end as amount,
        case when not o.is_refunded then round(o.cost_usd, 2) end as cost
    from marts.fct_orders as o
    where o.order_date is not null
        and exists (select 1 from finance.deal_credits as c where c.opportunity_id = o.opportunity_id)
),
fingerprinted as (
    select *, md5(concat_ws('|', invoiced_on::text, coalesce(paid_on::text, '-'), amount::text,
        coalesce(cost::text, '-'), opportunity_id)) as fingerprint
    from orders
),
latest as (
    select distinct on (order_id) order_id, order_version, order_fingerprint
    from finance.deal_billing order by order_id, order_version desc
)
insert into finance.deal_billing (order_id, order_version, opportunity_id, invoiced_on, paid_on, amount,
    cost, currency, order_fingerprint)
select f.order_id, coalesce(l.order_version, 0) + 1, f.opportunity_id, f.invoiced_on, f.paid_on, f.amount,
    f.cost, 'USD', f.fingerprint
from fingerprinted as f
left join latest as l on l.order_id = f.order_id
where l.order_id is null or l.order_fingerprint <> f.fingerprint
"""


def record_billing(conn) -> int:
    """New ``finance.deal_billing`` versions for the orders of credited deals whose invoice date,
    payment day, USD amount or cost changed (a refunded or cancelled order: amount 0). Returns the
    rows written."""
    missing, sample = conn.execute(_BILLING_NO_RATE).fetchone()
    if missing:
        raise PayoutError(
            f"{missing} order(s) of credited deals have no USD amount or cost (a currency without a rate): "
            f"{sample[:200]}; load the rates with `salesops rates load FILE` and build"
        )
    return conn.execute(_RECORD_BILLING).rowcount


def current_billing(conn, last_billing_id: int | None = None) -> tuple[pd.DataFrame, int]:
    """The latest version of every order in the billing ledger (as it stood at ``last_billing_id``)."""
    limit = "where billing_id <= %(last)s" if last_billing_id is not None else ""
    params = {"last": last_billing_id} if last_billing_id is not None else None
    rows = conn.execute(
        "select distinct on (order_id) opportunity_id, order_id, invoiced_on, paid_on, amount, cost"
        " from finance.deal_billing " + limit + " order by order_id, order_version desc",
        params,
    ).fetchall()
    top = conn.execute(
        "select coalesce(max(billing_id), 0) from finance.deal_billing " + limit, params
    ).fetchone()[0]
    columns = ["deal_id", "order_id", "invoiced_on", "paid_on", "amount", "cost"]
    return pd.DataFrame(rows, columns=columns), top


def _billing(conn, plans: list[Plan]) -> tuple[pd.DataFrame | None, int | None]:
    """The billing ledger, recorded and read, when a plan commissions invoiced or paid amounts."""
    if all(p.commission_base == "booked" for p in plans):
        return None, None
    record_billing(conn)
    return current_billing(conn)


def _paid(conn, before_run: int | None = None) -> pd.DataFrame:
    """What locked runs paid (those locked before run ``before_run`` ran, when given), per earned
    period, rep, deal, component and rule (a difference posted later counts for the rule it
    corrected)."""
    when = (
        " and k.locked_at < (select ran_at from finance.payout_runs where run_id = %s)"
        if before_run is not None
        else ""
    )
    rows = conn.execute(
        "select l.earned_period, l.plan_id, l.plan_version, l.rep_name, l.opportunity_id, l.component,"
        " l.rule,"
        " sum(l.amount)"
        " from finance.payout_lines as l join finance.period_locks as k on k.run_id = l.run_id"
        " where l.component <> 'manual adjustment'" + when + " group by 1, 2, 3, 4, 5, 6, 7",
        (before_run,) if before_run is not None else None,
    ).fetchall()
    frame = pd.DataFrame(
        rows,
        columns=[
            "earned_period",
            "plan_id",
            "plan_version",
            "rep_name",
            "deal_id",
            "component",
            "rule",
            "amount",
        ],
    )
    frame["earned_period"] = [pd.Period(d, freq="M") for d in frame["earned_period"]]
    frame["amount_cents"] = [int(a * 100) for a in frame["amount"]]
    return frame


def run(url: str, period: pd.Period, plans: list[Plan] | None = None) -> RunOutcome:
    """A payout run for ``period`` under ``plans`` (default: the plans folder; see module doc)."""
    plans = plans if plans is not None else load_folder()
    with _connect(url) as conn, conn.transaction():
        # One payout run at a time: two at once would each record the same deal's credit version.
        conn.execute("select pg_advisory_xact_lock(%s)", (_RUN_LOCK,))
        locked = conn.execute(
            "select run_id from finance.period_locks where period = %s", (_month(period),)
        ).fetchone()
        if locked:
            raise PayoutError(
                f"{period} is locked (run {locked[0]}); later changes post into the next open "
                "month: run that month instead"
            )
        later = conn.execute("select max(period) from finance.period_locks").fetchone()[0]
        if later and pd.Period(later, freq="M") > period:
            raise PayoutError(
                f"{period} is before the last locked month {pd.Period(later, freq='M')}; "
                "differences post into the next open month"
            )
        register_plans(conn, plans)
        plans = _all_versions(conn, plans)
        new_credits, no_amount = record_credits(conn, period)
        credits, last_credit = current_credits(conn)
        billing, last_billing = _billing(conn, plans)
        quotas = _quotas(conn)
        roster = _roster(conn)
        result = engine.compute(credits, plans, period, quotas, roster, billing)
        manual = conn.execute(
            "select rep_name, amount, reason, approved_by from finance.payout_adjustments"
            " where period = %s order by adjustment_id",
            (_month(period),),
        ).fetchall()
        locks = _differences_for(period, _locks(conn))
        lines = period_lines(result, period, _paid(conn) if locks else None, manual, locks)
        stmts = statements(lines, period, _payees(plans, credits, period))
        fingerprint = input_fingerprint(credits, quotas, plans, billing)
        mlflow_id = _track(period, plans, fingerprint, lines, stmts, quotas, credits)
        ledgers = (last_credit, last_billing)
        run_id = _write(conn, period, plans, fingerprint, ledgers, mlflow_id, lines, stmts)
        projected = project(conn, run_id, period, plans, credits, quotas, roster, billing)
    notes = result.notes + (
        [f"{no_amount:,} won deal(s) have no amount: nothing to commission, not credited (is_missing_amount)"]
        if no_amount
        else []
    )
    return RunOutcome(
        run_id, mlflow_id, period, lines, stmts, new_credits, result.uncovered, projected, notes
    )


_OPEN_SCORES = """
select distinct on (s.opportunity_id) s.opportunity_id, o.rep_name, o.manager_name, o.product_name,
    s.expected_revenue, s.as_of_date, s.model_version
from ml.opportunity_scores as s
join marts.fct_opportunities as o on o.opportunity_id = s.opportunity_id
where not o.is_closed and o.rep_name is not null
order by s.opportunity_id, s.as_of_date desc
"""


_CLOSE_RATE = """
with month_ends as (
    select (m + interval '1 month')::date - 1 as month_end, (m + interval '2 month')::date - 1 as next_end
    from generate_series(%(first)s::date, %(last)s::date, interval '1 month') as m
),
deals as (
    select coalesce(engaged_date, created_date) as opened_date, closed_date
    from marts.fct_opportunities
)
select count(*) filter (where d.closed_date <= e.next_end), count(*)
from month_ends as e
join deals as d on d.opened_date <= e.month_end and (d.closed_date is null or d.closed_date > e.month_end)
"""


def close_rate(conn, period: pd.Period) -> Decimal:
    """The share of deals open at a month's end that closed (won or lost) within the next month,
    over the 12 month ends before ``period``'s."""
    first, last = (period - 12).to_timestamp().date(), (period - 1).to_timestamp().date()
    closed, opened = conn.execute(_CLOSE_RATE, {"first": first, "last": last}).fetchone()
    return (Decimal(closed) / Decimal(opened)).quantize(Decimal("0.000001")) if opened else Decimal(0)


def project(
    conn,
    run_id: int,
    period: pd.Period,
    plans: list[Plan],
    credits: pd.DataFrame,
    quotas: pd.DataFrame,
    roster: set[str],
    billing: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The accrual of the month after ``period``: every open deal scored by the win-probability
    model counts as closing on the month's first day for its expected revenue (amount x
    probability) times the chance that an open deal closes within a month (``close_rate``), and
    the plans pay the month as they would; written to ``finance.payout_projections`` per rep.
    Nothing when no deal is scored (no forecasts yet). The expected bookings stand in for the
    uncertain ones, so tiers see their expectation. For plans on invoiced or paid amounts the
    expected revenue counts as invoiced and paid that day too, at the recorded orders' overall
    margin (a margin plan projects nothing before any order carries a cost)."""
    scores = conn.execute(_OPEN_SCORES).fetchall()
    columns = ["rep_name", "open_deals", "expected_bookings", "expected_commission"]
    if not scores:
        return pd.DataFrame(columns=columns)
    month = period + 1
    frame = pd.DataFrame(
        scores,
        columns=[
            "deal_id",
            "rep_name",
            "manager_name",
            "product_name",
            "amount",
            "as_of_date",
            "model_version",
        ],
    )
    as_of, version = max(frame["as_of_date"]), frame.loc[frame["as_of_date"].idxmax(), "model_version"]
    rate = close_rate(conn, period)
    frame["amount"] = [(Decimal(a) * rate).quantize(CENT) for a in frame["amount"]]
    open_deals = frame.assign(
        closed_date=month.to_timestamp().date(), split_pct=Decimal(100), credit_type="revenue"
    )[list(credits.columns)]
    if billing is not None:
        billing = pd.concat([billing, _expected_orders(open_deals, billing)], ignore_index=True)
    together = pd.concat([credits, open_deals], ignore_index=True)
    result = engine.compute(together, plans, month, quotas, roster, billing)
    lines = result.lines[
        (result.lines["period"] == month) & result.lines["deal_id"].isin(set(frame["deal_id"]))
    ]
    earned = lines.groupby("rep_name")["amount_cents"].sum()
    booked = frame.groupby("rep_name")["amount"].agg(["count", "sum"])
    reps = sorted(set(earned.index) | set(booked.index))
    out = pd.DataFrame(
        {
            "rep_name": reps,
            "open_deals": [int(booked["count"].get(r, 0)) for r in reps],
            "expected_bookings": [Decimal(booked["sum"].get(r, 0)).quantize(CENT) for r in reps],
            "expected_commission": [_amount(earned.get(r, 0)) for r in reps],
        }
    )
    with conn.cursor() as cur:
        cur.executemany(
            "insert into finance.payout_projections (run_id, period, rep_name, open_deals, expected_bookings,"
            " close_rate, expected_commission, scores_as_of, win_model_version)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    run_id,
                    _month(month),
                    r.rep_name,
                    r.open_deals,
                    r.expected_bookings,
                    rate,
                    r.expected_commission,
                    as_of,
                    version,
                )
                for r in out.itertuples(index=False)
            ],
        )
    return out


def _expected_orders(open_deals: pd.DataFrame, billing: pd.DataFrame) -> pd.DataFrame:
    """One order per open deal for its expected revenue, invoiced and paid on its expected close
    day, costing the recorded orders' overall cost share (its whole amount when none has a cost)."""
    costed = billing[billing["cost"].notna() & (billing["amount"] != 0)]
    spent, sold = sum(costed["cost"], Decimal(0)), sum(costed["amount"], Decimal(0))
    share = spent / sold if sold else Decimal(1)
    return pd.DataFrame(
        {
            "deal_id": open_deals["deal_id"],
            "order_id": "expected " + open_deals["deal_id"],
            "invoiced_on": open_deals["closed_date"],
            "paid_on": open_deals["closed_date"],
            "amount": open_deals["amount"],
            "cost": [(Decimal(a) * share).quantize(CENT) for a in open_deals["amount"]],
        }
    )


def input_fingerprint(
    credits: pd.DataFrame, quotas: pd.DataFrame, plans: list[Plan], billing: pd.DataFrame | None = None
) -> str:
    """SHA-256 over what a run read: the credits, the quotas (pandas' row hashes), the plans and,
    for plans on invoiced or paid amounts, the billing ledger."""
    digest = hashlib.sha256()
    for frame in (credits, quotas, *([billing] if billing is not None else [])):
        digest.update(pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy().tobytes())
    for p in sorted(plans, key=lambda p: (p.plan_id, p.version)):  # a replay reads them in this order
        digest.update(p.sha256.encode())
    return digest.hexdigest()


def _track(period, plans, fingerprint, lines, stmts, quotas, credits) -> str:
    import tempfile

    from ml.forecast.registry import _mlflow

    mlflow = _mlflow(EXPERIMENT)
    with mlflow.start_run(run_name=f"payouts {period}") as active, tempfile.TemporaryDirectory() as tmp:
        mlflow.log_params(
            {
                "period": str(period),
                "input_fingerprint": fingerprint,
                "plans": ",".join(f"{p.plan_id}@{p.version}" for p in plans),
            }
        )
        mlflow.log_metrics(
            {
                "lines": len(lines),
                "reps": len(stmts),
                "earned": float(sum(stmts["earned"], Decimal(0))),
                "payable": float(sum(stmts["payable"], Decimal(0))),
            }
        )
        folder = Path(tmp)
        lines.to_csv(folder / "lines.csv", index=False)
        stmts.to_csv(folder / "statements.csv", index=False)
        quotas.to_csv(folder / "quotas.csv", index=False)
        for p in plans:
            (folder / f"plan-{p.plan_id}-v{p.version}.yaml").write_text(p.source, encoding="utf-8")
        mlflow.log_artifacts(str(folder))
        return active.info.run_id


def _write(conn, period, plans, fingerprint, ledgers, mlflow_id, lines, stmts) -> int:
    """``ledgers``: the last credit and billing ids the run read."""
    month = _month(period)
    versions = json.dumps([{"plan_id": p.plan_id, "version": p.version, "sha256": p.sha256} for p in plans])
    run_id = conn.execute(
        "insert into finance.payout_runs (period, plan_versions, input_fingerprint, last_credit_id,"
        " last_billing_id, mlflow_run_id,"
        " lines, earned, payable) values (%s, %s, %s, %s, %s, %s, %s, %s, %s) returning run_id",
        (
            month,
            versions,
            fingerprint,
            *ledgers,
            mlflow_id,
            len(lines),
            sum(stmts["earned"], Decimal(0)),
            sum(stmts["payable"], Decimal(0)),
        ),
    ).fetchone()[0]
    with (
        conn.cursor() as cur,
        cur.copy(
            "copy finance.payout_lines (run_id, line_no, period, earned_period, rep_name, opportunity_id,"
            " plan_id, plan_version, component, rule, tier, rate, base, amount, kind, reason, mlflow_run_id)"
            " from stdin"
        ) as cp,
    ):
        for i, r in enumerate(lines.itertuples(index=False), start=1):
            cp.write_row(
                (
                    run_id,
                    i,
                    month,
                    _month(r.earned_period),
                    r.rep_name,
                    r.deal_id,
                    r.plan_id,
                    None if pd.isna(r.plan_version) else int(r.plan_version),
                    r.component,
                    r.rule,
                    None if r.tier is None or pd.isna(r.tier) else int(r.tier),
                    r.rate,
                    _amount(r.base_cents),
                    _amount(r.amount_cents),
                    r.kind,
                    r.reason,
                    mlflow_id,
                )
            )
    with conn.cursor() as cur:
        cur.executemany(
            "insert into finance.payout_statements (run_id, period, rep_name, earned, draws, recoveries,"
            " adjustments, clawbacks, payable) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    run_id,
                    month,
                    s.rep_name,
                    s.earned,
                    s.draws,
                    s.recoveries,
                    s.adjustments,
                    s.clawbacks,
                    s.payable,
                )
                for s in stmts.itertuples(index=False)
            ],
        )
    return run_id


def lock(url: str, period: pd.Period) -> int:
    """Lock ``period`` at its latest run (as the finance role); returns that run's id."""
    with _connect(url, "finance") as conn, conn.transaction():
        row = conn.execute(
            "select max(run_id) from finance.payout_runs where period = %s", (_month(period),)
        ).fetchone()
        if not row or row[0] is None:
            raise PayoutError(
                f"{period} has no payout run to lock; `salesops payouts run --period {period}` first"
            )
        if conn.execute("select 1 from finance.period_locks where period = %s", (_month(period),)).fetchone():
            raise PayoutError(f"{period} is already locked")
        last = conn.execute("select max(period) from finance.period_locks").fetchone()[0]
        if last is not None and period != pd.Period(last, freq="M") + 1:
            raise PayoutError(
                f"months are locked in order: the next month to lock is "
                f"{pd.Period(last, freq='M') + 1}, not {period}"
            )
        conn.execute(
            "insert into finance.period_locks (period, run_id) values (%s, %s)", (_month(period), row[0])
        )
        return row[0]


def adjustment(amount: str, reason: str, approved_by: str, by: str | None = None) -> tuple:
    """(amount, reason, approver, who enters it) of a manual adjustment, checked: a non-zero USD
    amount in cents, a reason, and an approver other than whoever enters it."""
    import getpass

    from ml.forecast.money import parse_amount

    value = parse_amount(amount.strip())
    if value is None or value == 0:
        raise PayoutError(f"--amount {amount!r} is not a non-zero amount in USD with at most two decimals")
    reason, approved_by, by = reason.strip(), approved_by.strip(), (by or getpass.getuser()).strip()
    if not reason:
        raise PayoutError("--reason is empty: say why (it is kept with the adjustment)")
    if not approved_by or approved_by == by:
        raise PayoutError(f"--approved-by must name someone other than who enters it ({by})")
    return value, reason, approved_by, by


def adjust(url: str, rep: str, period: pd.Period, checked: tuple) -> int:
    """Record a manual adjustment (``adjustment``'s values) of ``rep``'s payout in ``period`` as
    the finance role; the month's next run pays it. Returns its id."""
    value, reason, approved_by, by = checked
    with _connect(url, "finance") as conn, conn.transaction():
        if conn.execute("select 1 from finance.period_locks where period = %s", (_month(period),)).fetchone():
            raise PayoutError(f"{period} is locked: adjust the next open month instead")
        known = conn.execute(
            "select 1 from finance.payout_statements where rep_name = %s limit 1", (rep,)
        ).fetchone()
        if known is None:
            raise PayoutError(f"{rep!r} has no payout statement yet: adjust a rep the payout runs pay")
        return conn.execute(
            "insert into finance.payout_adjustments (period, rep_name, amount, reason, approved_by,"
            " entered_by) values (%s, %s, %s, %s, %s, %s) returning adjustment_id",
            (_month(period), rep, value, reason, approved_by, by),
        ).fetchone()[0]


def replay(url: str, run_id: int) -> tuple[int, int, bool]:
    """Recompute run ``run_id`` from what it recorded: the plan versions registered by then, the
    credits ledger up to its last credit, its quotas (MLflow artifact), the months locked before
    it ran. Returns (lines identical, lines that differ, whether the input fingerprint matches);
    the statements must match too (counted among the differences)."""
    import tempfile

    from ml.forecast.registry import _mlflow

    with _connect(url) as conn:
        found = conn.execute(
            "select period, last_credit_id, last_billing_id, mlflow_run_id, input_fingerprint"
            " from finance.payout_runs where run_id = %s",
            (run_id,),
        ).fetchone()
        if not found:
            raise PayoutError(f"no payout run {run_id}")
        month, last_credit, last_billing, mlflow_id, fingerprint = found
        period = pd.Period(month, freq="M")
        plans = _all_versions(conn, [], before_run=run_id)
        credits, _ = current_credits(conn, last_credit)
        billing = current_billing(conn, last_billing)[0] if last_billing is not None else None
        roster = _roster(conn)
        stored = conn.execute(
            "select earned_period, rep_name, opportunity_id, plan_id, plan_version, component, rule, tier,"
            " rate,"
            " base, amount, kind, reason from finance.payout_lines where run_id = %s order by line_no",
            (run_id,),
        ).fetchall()
        stored_statements = conn.execute(
            "select rep_name, earned, draws, recoveries, adjustments, clawbacks, payable"
            " from finance.payout_statements where run_id = %s order by rep_name",
            (run_id,),
        ).fetchall()
        locks = _differences_for(period, _locks(conn, before_run=run_id))
        paid = _paid(conn, before_run=run_id) if locks else None
        manual = conn.execute(
            "select rep_name, amount, reason, approved_by from finance.payout_adjustments"
            " where period = %s and entered_at <= (select ran_at from finance.payout_runs"
            " where run_id = %s) order by adjustment_id",
            (month, run_id),
        ).fetchall()
    mlflow = _mlflow(EXPERIMENT)
    os.environ.setdefault(
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false"
    )  # no progress bar for one small file
    with tempfile.TemporaryDirectory() as tmp:
        path = mlflow.artifacts.download_artifacts(run_id=mlflow_id, artifact_path="quotas.csv", dst_path=tmp)
        quotas = pd.read_csv(path, dtype=str, keep_default_na=False)
    if len(quotas):
        quotas["month"] = pd.PeriodIndex(quotas["month"], freq="M")
        quotas["quota"] = [Decimal(q) for q in quotas["quota"]]
    result = engine.compute(credits, plans, period, quotas, roster, billing)
    lines = period_lines(result, period, paid, manual, locks)
    again = sorted(
        _line_key(
            _month(r.earned_period),
            r.rep_name,
            r.deal_id,
            r.plan_id,
            r.plan_version,
            r.component,
            r.rule,
            r.tier,
            r.rate,
            _amount(r.base_cents),
            _amount(r.amount_cents),
            r.kind,
            r.reason,
        )
        for r in lines.itertuples(index=False)
    )
    before = sorted(_line_key(*row) for row in stored)
    statements_now = sorted(
        tuple(r) for r in statements(lines, period, _payees(plans, credits, period)).itertuples(index=False)
    )
    matched = sum(1 for a, b in zip(again, before, strict=False) if a == b)
    differ = max(len(again), len(before)) - matched
    differ += sum(1 for a, b in zip(statements_now, stored_statements, strict=False) if tuple(a) != tuple(b))
    differ += abs(len(statements_now) - len(stored_statements))
    return matched, differ, input_fingerprint(credits, quotas, plans, billing) == fingerprint


def _line_key(earned, rep, deal, plan_id, version, component, rule, tier, rate, base, amount, kind, reason):
    def blank(v, empty):
        return empty if v is None or (not isinstance(v, str) and pd.isna(v)) else v

    return (
        earned,
        rep,
        blank(deal, ""),
        blank(plan_id, ""),
        int(blank(version, 0)),
        component,
        rule,
        int(blank(tier, 0)),
        blank(rate, ""),
        base,
        amount,
        kind,
        reason,
    )


def _all_versions(conn, plans: list[Plan], before_run: int | None = None) -> list[Plan]:
    """``plans`` and every version registered (by run ``before_run``, when given) that is not
    among them, with their end dates derived (plans.check_versions): a version whose file was
    removed still pays the months it covers."""
    when = (
        " where registered_at <= (select ran_at from finance.payout_runs where run_id = %s)"
        if before_run is not None
        else ""
    )
    have = {(p.plan_id, p.version) for p in plans}
    rows = conn.execute(
        "select plan_id, version, yaml from finance.commission_plans" + when + " order by plan_id, version",
        (before_run,) if before_run is not None else None,
    ).fetchall()
    registered = [
        parse(text, f"finance.commission_plans {pid} v{v}") for pid, v, text in rows if (pid, v) not in have
    ]
    return check_versions([*plans, *registered])
