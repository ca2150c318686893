"""The payout engine: credited deals + plans (+ quotas) → payout lines and rep statements.

Pure: no database, no clock. Exact: money in integer cents, rates as fractions, one rounding
rule (half to even, to the cent). Cumulative tables are rounded on each rep's running total and
a deal's line is the difference of two rounded totals, so the lines of a period add up to the
rounded total and no rounding difference is lost. Vectorised per component (numpy arrays of
integers; attainment tables per rep and period, as each has its own quota).

Every period from each plan's start up to ``through`` is computed, every time, from the credits
alone: running starts, caps carried forward and draw balances need the periods before, and a
recalculation after late data is the same computation (the caller compares it with what was paid).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd

from ml.incentives.plans import Component, Plan, PlanError, percent
from ml.incentives.tiers import cents, linear, round_half_even

LINE_COLUMNS = [
    "period",
    "rep_name",
    "deal_id",
    "plan_id",
    "plan_version",
    "component",
    "rule",
    "tier",
    "rate",
    "base_cents",
    "amount_cents",
    "reason",
]
STATEMENT_COLUMNS = [
    "period",
    "rep_name",
    "earned_cents",
    "draw_cents",
    "recovery_cents",
    "draw_balance_cents",
    "carried_cents",
]
_LABEL = {
    "transaction": "the deal",
    "month": "monthly bookings",
    "quarter": "quarterly bookings",
    "year": "year-to-date bookings",
}
_FREQ = {"month": "M", "quarter": "Q", "year": "Y"}


class PayoutInputError(ValueError):
    """Input the engine refuses (an unknown rep in a plan, a missing quota ...); one line."""


def money(c: int, currency: str = "USD") -> str:
    sign = "-" if c < 0 else ""
    whole, cent = divmod(abs(int(c)), 100)
    symbol = "$" if currency == "USD" else f"{currency} "
    return f"{sign}{symbol}{whole:,}" + (f".{cent:02d}" if cent else "")


def pct(f: Fraction, places: int = 4) -> str:
    """A fraction as a percentage: exact when it has at most ``places`` decimals, else rounded."""
    value = Decimal(f.numerator) / Decimal(f.denominator) * 100
    exact = value == value.quantize(Decimal(10) ** -places)
    return f"{value.normalize():f}%" if exact else f"{value:.{places}f}%"


def number(f: Fraction) -> str:
    value = Decimal(f.numerator) / Decimal(f.denominator)
    return f"{value.normalize():f}" if value == value.quantize(Decimal("0.0001")) else f"{float(value):.4f}"


@dataclass
class Result:
    lines: pd.DataFrame  # LINE_COLUMNS, amounts in integer cents
    statements: pd.DataFrame  # STATEMENT_COLUMNS
    uncovered: int  # credited deals of reps on no plan in effect


def credits_frame(credits: pd.DataFrame) -> pd.DataFrame:
    """Credits (deal_id, rep_name, manager_name, product_name, closed_date, amount) with integer
    cents and the pay month."""
    out = credits.copy()
    out["cents"] = [int(Decimal(a) * 100) for a in out["amount"]]
    out["closed_date"] = pd.to_datetime(out["closed_date"])
    out["month"] = out["closed_date"].dt.to_period("M")
    return out.sort_values(["closed_date", "deal_id", "rep_name"], kind="stable").reset_index(drop=True)


def compute(
    credits: pd.DataFrame,
    plans: list[Plan],
    through: pd.Period,
    quotas: pd.DataFrame | None = None,
    roster: set[str] | None = None,
) -> Result:
    """Payout lines and statements for every month up to ``through`` (see module doc).

    ``credits``: deal_id, rep_name, manager_name, product_name, closed_date, amount (Decimal, in the
    plan's currency; a split already applied). ``quotas``: rep_name, month (Period), quota (Decimal).
    ``roster``: the known reps; a plan naming another refuses the run.
    """
    frame = credits_frame(credits)
    frame = frame[frame["month"] <= through]
    known = set(roster) if roster is not None else set(frame["rep_name"])
    for plan in plans:
        for rep in plan.reps or ():
            if rep not in known:
                raise PayoutInputError(
                    f"{plan.path or plan.plan_id}: plan {plan.plan_id} v{plan.version} names rep "
                    f"{rep!r}, who is not a known rep"
                )
    quota = _quota_lookup(quotas)
    parts, covered = [], np.zeros(len(frame), dtype=bool)
    for plan in plans:
        on_plan = frame["closed_date"].dt.date.map(plan.in_effect).to_numpy(dtype=bool)
        if plan.reps is not None:
            on_plan &= frame["rep_name"].isin(plan.reps).to_numpy()
        covered |= on_plan
        deals = frame[on_plan]
        for comp in plan.components:
            lines = _component(plan, comp, deals, quota, through)
            if len(lines):
                parts.append(_capped(lines, comp, through))
    lines = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=LINE_COLUMNS)
    lines = lines[lines["period"] <= through]
    draws = _draws(lines, plans, frame, through)
    lines = pd.concat([lines, draws], ignore_index=True) if len(draws) else lines
    lines = lines.sort_values(
        ["period", "rep_name", "plan_id", "component", "deal_id"], kind="stable", na_position="last"
    ).reset_index(drop=True)
    return Result(lines[LINE_COLUMNS], statements(lines), int((~covered).sum()))


def _quota_lookup(quotas: pd.DataFrame | None) -> dict:
    if quotas is None or not len(quotas):
        return {}
    return {
        (r.rep_name, pd.Period(r.month, freq="M")): int(Decimal(r.quota) * 100)
        for r in quotas.itertuples(index=False)
    }


def _component(
    plan: Plan, comp: Component, deals: pd.DataFrame, quota: dict, through: pd.Period
) -> pd.DataFrame:
    if comp.products is not None:
        deals = deals[deals["product_name"].isin(comp.products)]
    if comp.kind == "bonus":
        return _bonus(plan, comp, through)
    if not len(deals):
        return pd.DataFrame(columns=LINE_COLUMNS)
    if comp.kind == "rate_table":
        return _rate_table(plan, comp, deals, quota)
    if comp.kind == "spiff":
        return _spiff(plan, comp, deals)
    return _override(plan, comp, deals)


def _lines(
    plan: Plan, comp: Component, deals: pd.DataFrame, rule: str, tier, rate, amount, reason, rep=None
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "period": deals["month"].to_numpy(),
            "rep_name": deals["rep_name"].to_numpy() if rep is None else rep,
            "deal_id": deals["deal_id"].to_numpy(),
            "plan_id": plan.plan_id,
            "plan_version": plan.version,
            "component": comp.name,
            "rule": rule,
            "tier": tier,
            "rate": rate,
            "base_cents": deals["cents"].to_numpy(dtype=object),
            "amount_cents": np.asarray(amount, dtype=object),
            "reason": reason,
        }
    )


def _rate_table(plan: Plan, comp: Component, deals: pd.DataFrame, quota: dict) -> pd.DataFrame:
    spec = comp.spec
    accumulate, method, basis = spec["accumulate"], spec["method"], spec["basis"]
    x = deals["cents"].to_numpy(dtype=np.int64)
    rule = (
        f"{method} {basis} table, {'per transaction' if accumulate == 'transaction' else 'per ' + accumulate}"
    )
    if accumulate == "transaction":
        table = linear(list(comp.tiers), method, plan.boundary)
        amount, j = cents(table, x)
        reasons = [
            _reason_transaction(comp, table, method, int(v), int(t), plan.currency)
            for v, t in zip(x, j, strict=True)
        ]
        return _lines(plan, comp, deals, rule, j + 1, [_rate_text(comp, t) for t in j], amount, reasons)
    window = deals["closed_date"].dt.to_period(_FREQ[accumulate])
    keys = [deals["rep_name"], window]
    after = deals.groupby(keys, sort=False)["cents"].cumsum().to_numpy(dtype=np.int64)
    before = after - x
    amount = np.empty(len(deals), dtype=object)
    tiers = np.empty(len(deals), dtype=np.int64)
    reasons: list[str] = [""] * len(deals)
    label = _LABEL[accumulate]
    if basis == "amount":
        table = linear(list(comp.tiers), method, plan.boundary)
        hi, j = cents(table, after)
        lo, j0 = cents(table, before)
        amount[:] = hi - lo
        tiers[:] = j
        for i in range(len(deals)):
            reasons[i] = _reason_cumulative(
                comp,
                table,
                method,
                int(before[i]),
                int(after[i]),
                int(j0[i]),
                int(j[i]),
                label,
                plan.currency,
            )
    else:
        incentive = int(Decimal(spec["target_incentive"]) * 100)
        groups = deals.groupby(keys, sort=False).indices
        for (rep, period), idx in groups.items():
            q = _period_quota(plan, rep, period, quota)
            table = linear(
                list(comp.tiers), method, plan.boundary, scale=Fraction(q), rate_scale=Fraction(incentive, q)
            )
            hi, j = cents(table, after[idx])
            lo, _ = cents(table, before[idx])
            amount[idx] = hi - lo
            tiers[idx] = j
            for i, k in zip(idx, j, strict=True):
                reasons[i] = (
                    f"{money(x[i], plan.currency)} booked: {label} {money(before[i], plan.currency)} → "
                    f"{money(after[i], plan.currency)} of a {money(q, plan.currency)} quota "
                    f"({pct(Fraction(int(before[i]), q), 1)} → {pct(Fraction(int(after[i]), q), 1)}), "
                    f"{_rate_text(comp, k)} the "
                    f"{money(incentive, plan.currency)} target incentive from "
                    f"{pct(comp.tiers[min(k, len(comp.tiers) - 1)].start)}"
                )
    rates = [_rate_text(comp, t) for t in tiers]
    return _lines(plan, comp, deals, rule, tiers + 1, rates, amount, reasons)


def _period_quota(plan: Plan, rep: str, period: pd.Period, quota: dict) -> int:
    months = pd.period_range(period.start_time, period.end_time, freq="M")
    total = 0
    for m in months:
        found = quota.get((rep, m)) if plan.quota_source == "finance.quotas" else None
        total += found if found is not None else int(plan.quota_monthly * 100)
    if total <= 0:
        raise PayoutInputError(
            f"plan {plan.plan_id} v{plan.version}: {rep} has no quota for {period} "
            "(attainment needs one above zero)"
        )
    return total


def _rate_text(comp: Component, k: int) -> str:
    t = comp.tiers[min(k, len(comp.tiers) - 1)]
    if t.rate is not None:
        return f"{number(t.rate)}×" if comp.spec["basis"] == "attainment" else pct(t.rate)
    return money(int(t.amount)) + (" per full tier" if comp.spec["method"] == "interpolated" else "")


def _tier_span(table, k: int) -> tuple[int, int | None]:
    start = table.edges[k]
    end = table.ends[k]
    return start, end


def _reason_transaction(comp: Component, table, method: str, x: int, k: int, currency: str) -> str:
    if method == "flat":
        return f"{money(x, currency)} deal in the tier from {money(int(table.edges[k]), currency)}: " + (
            f"{_rate_text(comp, k)} of the whole deal"
            if comp.tiers[min(k, len(comp.tiers) - 1)].rate is not None
            else f"a flat {_rate_text(comp, k)}"
        )
    return _pieces(comp, table, method, 0, x, 0, k, "the deal", currency)


def _reason_cumulative(
    comp: Component, table, method: str, before: int, after: int, k0: int, k: int, label: str, currency: str
) -> str:
    deal = after - before
    if method == "flat":
        text = (
            f"{money(deal, currency)} booked: {label} {money(before, currency)} → {money(after, currency)}, "
            f"all at {_rate_text(comp, k)} (tier from {money(int(table.edges[k]), currency)})"
        )
        return text + (" — the period re-rated at the new tier" if k != k0 else "")
    return _pieces(comp, table, method, before, after, k0, k, label, currency) + (
        f" (running start {money(before, currency)})" if before else ""
    )


def _pieces(
    comp: Component, table, method: str, lo: int, hi: int, k0: int, k: int, label: str, currency: str
) -> str:
    parts = []
    for t in range(min(k0, k), max(k0, k) + 1):
        start, end = _tier_span(table, t)
        piece = min(hi, end if end is not None else hi) - max(lo, start)
        if piece <= 0 and k0 != k:
            continue
        where = f" above {money(int(start), currency)}" if start > 0 else ""
        rate = _rate_text(comp, t)
        parts.append(f"{money(int(piece), currency)} at {rate}{where}")
    return ", ".join(parts) + f" of {label}"


def _spiff(plan: Plan, comp: Component, deals: pd.DataFrame) -> pd.DataFrame:
    spec = comp.spec
    days = deals["closed_date"].dt.date.astype(str)
    deals = deals[(days >= spec["from"]) & (days <= spec["to"])]
    if not len(deals):
        return pd.DataFrame(columns=LINE_COLUMNS)
    each = int(Decimal(spec["amount"]) * 100)
    share = (
        deals["split_pct"].to_numpy(dtype=object)
        if "split_pct" in deals
        else np.full(len(deals), 100, object)
    )
    amount = round_half_even(np.array([int(Decimal(s) * 100) for s in share], dtype=object) * each, 10000)
    reasons = [
        f"SPIFF: {money(each, plan.currency)} per won deal {spec['from']}..{spec['to']}"
        + (f" ({s}% credit)" if Decimal(s) != 100 else "")
        for s in share
    ]
    return _lines(plan, comp, deals, "spiff per won deal", 1, money(each, plan.currency), amount, reasons)


def _override(plan: Plan, comp: Component, deals: pd.DataFrame) -> pd.DataFrame:
    deals = deals[deals["manager_name"].notna() & (deals["manager_name"] != deals["rep_name"])]
    if not len(deals):
        return pd.DataFrame(columns=LINE_COLUMNS)
    rate = percent(comp.spec["rate"])
    amount = round_half_even(deals["cents"].to_numpy(dtype=object) * rate.numerator, rate.denominator)
    reasons = [
        f"{pct(rate)} override on {rep}'s {money(c, plan.currency)} deal"
        for rep, c in zip(deals["rep_name"], deals["cents"], strict=True)
    ]
    return _lines(
        plan,
        comp,
        deals,
        "manager override",
        1,
        pct(rate),
        amount,
        reasons,
        rep=deals["manager_name"].to_numpy(),
    )


def _bonus(plan: Plan, comp: Component, through: pd.Period) -> pd.DataFrame:
    spec = comp.spec
    period = pd.Period(spec["period"], freq="M")
    if period > through or not plan.in_effect(period.start_time.date()):
        return pd.DataFrame(columns=LINE_COLUMNS)
    if plan.reps is not None and spec["rep"] not in plan.reps:
        raise PlanError(f"{plan.path}: bonus {comp.name!r} is for {spec['rep']!r}, who is not on the plan")
    c = int(Decimal(spec["amount"]) * 100)
    return pd.DataFrame(
        [
            {
                "period": period,
                "rep_name": spec["rep"],
                "deal_id": None,
                "plan_id": plan.plan_id,
                "plan_version": plan.version,
                "component": comp.name,
                "rule": "one-off bonus",
                "tier": 1,
                "rate": money(c, plan.currency),
                "base_cents": 0,
                "amount_cents": c,
                "reason": f"one-off bonus {money(c, plan.currency)}: {spec['reason']}",
            }
        ]
    )


def _capped(lines: pd.DataFrame, comp: Component, through: pd.Period) -> pd.DataFrame:
    cap = comp.spec.get("cap") or {}
    if "per_deal" in cap:
        limit = int(Decimal(cap["per_deal"]) * 100)
        over = np.array([a > limit for a in lines["amount_cents"]], dtype=bool)
        if over.any():
            lines = lines.copy()
            lines.loc[over, "reason"] = [
                f"{r}; capped at {money(limit)} per deal (was {money(a)})"
                for r, a in zip(lines.loc[over, "reason"], lines.loc[over, "amount_cents"], strict=True)
            ]
            lines.loc[over, "amount_cents"] = limit
    if "per_period" not in cap:
        return lines
    limit = int(Decimal(cap["per_period"]) * 100)
    extra = []
    first = lines.iloc[0]
    for rep, rows in lines.groupby("rep_name", sort=True):
        earned = rows.groupby("period")["amount_cents"].sum()
        carry = 0
        for period in pd.period_range(earned.index.min(), through, freq="M"):
            available = int(earned.get(period, 0)) + carry
            paid = min(available, limit) if available > 0 else available
            change = paid - int(earned.get(period, 0))
            if change:
                text = (
                    f"{money(-change)} above the {money(limit)} cap per period, carried forward"
                    if change < 0
                    else f"{money(change)} carried from earlier periods, paid under the {money(limit)} cap"
                )
                extra.append(
                    {
                        "period": period,
                        "rep_name": rep,
                        "deal_id": None,
                        "plan_id": first["plan_id"],
                        "plan_version": first["plan_version"],
                        "component": comp.name,
                        "rule": "cap per period",
                        "tier": None,
                        "rate": None,
                        "base_cents": available,
                        "amount_cents": change,
                        "reason": text,
                    }
                )
            carry = available - paid
    return pd.concat([lines, pd.DataFrame(extra)], ignore_index=True) if extra else lines


def _draws(lines: pd.DataFrame, plans: list[Plan], frame: pd.DataFrame, through: pd.Period) -> pd.DataFrame:
    out = []
    for plan in plans:
        draw = plan.draw
        if not draw:
            continue
        start = pd.Period(plan.effective_from, freq="M")
        mine = frame[frame["closed_date"].dt.date.map(plan.in_effect).astype(bool)]
        if plan.reps is not None:
            mine = mine[mine["rep_name"].isin(plan.reps)]
        first_month = mine.groupby("rep_name")["month"].min()
        # new to the plan: a first credited deal after the first month anyone on it has credits in
        first = max(start, first_month.min()) if len(first_month) else start
        reps = list(draw["reps"]) if "reps" in draw else sorted(first_month.index[first_month > first])
        monthly = int(Decimal(draw["monthly"]) * 100)
        cut = percent(draw["max_recovery"]) if "max_recovery" in draw else Fraction(1)
        earned_all = lines[(lines["plan_id"] == plan.plan_id) & (lines["plan_version"] == plan.version)]
        for rep in reps:
            begin = first_month.get(rep, start)
            earned = earned_all[earned_all["rep_name"] == rep].groupby("period")["amount_cents"].sum()
            balance = 0
            end = min(through, pd.Period(plan.effective_to, freq="M")) if plan.effective_to else through
            for i, period in enumerate(pd.period_range(begin, end, freq="M")):
                e = int(earned.get(period, 0))
                if i < draw["months"] and e < monthly:
                    paid = monthly - e
                    balance += paid if draw["recoverable"] else 0
                    out.append(
                        _draw_line(
                            plan,
                            rep,
                            period,
                            "draw",
                            paid,
                            f"draw: {money(e)} earned, guaranteed "
                            f"{money(monthly)} in month {i + 1} of {draw['months']}"
                            + (f"; {money(balance)} to recover" if draw["recoverable"] else ""),
                        )
                    )
                elif balance > 0 and e > 0:
                    back = min(
                        balance,
                        int(round_half_even(np.array([e * cut.numerator], dtype=object), cut.denominator)[0]),
                    )
                    if back > 0:
                        balance -= back
                        out.append(
                            _draw_line(
                                plan,
                                rep,
                                period,
                                "draw recovery",
                                -back,
                                f"draw recovery: {money(back)} of {money(e)} earned (at most "
                                f"{pct(cut)}); {money(balance)} still to recover",
                            )
                        )
    return pd.DataFrame(out, columns=LINE_COLUMNS) if out else pd.DataFrame(columns=LINE_COLUMNS)


def _draw_line(plan: Plan, rep: str, period: pd.Period, rule: str, amount: int, reason: str) -> dict:
    return {
        "period": period,
        "rep_name": rep,
        "deal_id": None,
        "plan_id": plan.plan_id,
        "plan_version": plan.version,
        "component": "draw",
        "rule": rule,
        "tier": None,
        "rate": None,
        "base_cents": 0,
        "amount_cents": amount,
        "reason": reason,
    }


def statements(lines: pd.DataFrame) -> pd.DataFrame:
    """Rep × period: earned (commission lines), draw paid, draw recovered, payable."""
    if not len(lines):
        return pd.DataFrame(
            columns=["period", "rep_name", "earned_cents", "draw_cents", "recovery_cents", "payable_cents"]
        )
    kind = np.where(
        lines["rule"] == "draw",
        "draw_cents",
        np.where(lines["rule"] == "draw recovery", "recovery_cents", "earned_cents"),
    )
    frame = lines.assign(kind=kind, amount=lines["amount_cents"].astype(object))
    table = frame.pivot_table(
        index=["period", "rep_name"], columns="kind", values="amount", aggfunc="sum", fill_value=0
    ).reset_index()
    for col in ("earned_cents", "draw_cents", "recovery_cents"):
        if col not in table:
            table[col] = 0
    table["recovery_cents"] = -table["recovery_cents"]
    table["payable_cents"] = table["earned_cents"] + table["draw_cents"] - table["recovery_cents"]
    return table[["period", "rep_name", "earned_cents", "draw_cents", "recovery_cents", "payable_cents"]]
