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

from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ml.incentives import text
from ml.incentives.plans import Component, Plan, PlanError, percent
from ml.incentives.tiers import Table, round_half_even, table

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
    "adjustment_cents",
    "clawback_cents",
    "payable_cents",
]
# What a credit carries (the credits ledger's latest versions; a plan on orders gets one per order).
CREDIT_COLUMNS = [
    "deal_id",
    "rep_name",
    "manager_name",
    "product_name",
    "closed_date",
    "amount",
    "split_pct",
    "credit_type",
]
_LABEL = {"month": "monthly", "quarter": "quarterly", "year": "year-to-date"}
_FREQ = {"month": "M", "quarter": "Q", "year": "Y"}


class PayoutInputError(ValueError):
    """Input the engine refuses (an unknown rep in a plan, a missing quota ...); one line."""


def to_cents(value) -> int:
    """A plan or ledger amount (Decimal, int, or its text) in whole cents."""
    return int(Decimal(value) * 100)


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
    notes: list[str] = field(default_factory=list)  # what a person should look at (unknown products)
    refunds: dict[tuple[str, str], str] = field(default_factory=dict)  # (plan_id, deal_id) -> why clawed back


def credits_frame(credits: pd.DataFrame) -> pd.DataFrame:
    """Credits (deal_id, rep_name, manager_name, product_name, closed_date, amount) with integer
    cents and the pay month."""
    out = credits.copy()
    out["cents"] = [to_cents(a) for a in out["amount"]]
    out["closed_date"] = pd.to_datetime(out["closed_date"])
    out["month"] = out["closed_date"].dt.to_period("M")
    keys = pa.table(
        {
            "day": out["closed_date"].to_numpy(),
            "deal": pa.array(out["deal_id"], pa.string()),
            "rep": pa.array(out["rep_name"], pa.string()),
        }
    )
    order = pc.sort_indices(
        keys, sort_keys=[("day", "ascending"), ("deal", "ascending"), ("rep", "ascending")]
    )
    return out.take(order.to_numpy()).reset_index(drop=True)


def compute(
    credits: pd.DataFrame,
    plans: list[Plan],
    through: pd.Period,
    quotas: pd.DataFrame | None = None,
    roster: set[str] | None = None,
    billing: pd.DataFrame | None = None,
) -> Result:
    """Payout lines and statements for every month up to ``through`` (see module doc).

    ``credits``: deal_id, rep_name, manager_name, product_name, closed_date, amount (Decimal, in the
    plan's currency; a split already applied). ``quotas``: rep_name, month (Period), quota (Decimal).
    ``roster``: the known reps; a plan naming another refuses the run. ``billing``: the credited
    deals' orders (see ``billed_credits``), for plans on invoiced or paid amounts.
    """
    frame = credits_frame(credits)
    frame = frame[frame["month"] <= through]
    events = {("booked", "gross"): frame}
    known = set(roster) if roster is not None else set(frame["rep_name"])
    for plan in plans:
        named = [
            *(plan.reps or ()),
            *(c.spec["rep"] for c in plan.components if c.kind == "bonus"),
            *((plan.draw or {}).get("reps") or ()),
        ]
        for rep in named:
            if rep not in known:
                raise PayoutInputError(
                    f"{plan.path or plan.plan_id}: plan {plan.plan_id} v{plan.version} names rep "
                    f"{rep!r}, who is not a known rep"
                )
    quota = _quota_lookup(quotas)
    parts, covered, beyond_window, refunds = [], np.zeros(len(frame), dtype=bool), 0, {}
    for plan in plans:
        key = (plan.commission_base, plan.commission_amount)
        if key not in events:
            billed = credits_frame(billed_credits(credits, billing, *key, plan=plan))
            events[key] = billed[billed["month"] <= through]
        covered |= _on_plan(plan, frame)  # a credited deal is covered by the plan of its close
        chosen = events[key]
        on_plan = _on_plan(plan, chosen)
        deals, refunded, late = _clawed_back(plan, chosen[on_plan])
        beyond_window += late
        refunds.update({(plan.plan_id, deal): says for deal, says in refunded.items()})
        plan_quota = _plan_quotas(plan, frame, quota, through)
        for comp in plan.components:
            lines = _component(plan, comp, deals, plan_quota, through)
            if len(lines) and refunded:
                says = lines["deal_id"].map(refunded)
                lines["reason"] = lines["reason"].where(says.isna(), lines["reason"] + "; " + says)
            if len(lines):
                parts.append(_capped(lines, comp, through))
    lines = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=LINE_COLUMNS)
    lines = lines[lines["period"] <= through]
    draws = _draws(lines, plans, frame, through)
    lines = pd.concat([lines, draws], ignore_index=True) if len(draws) else lines
    known_products = set(frame["product_name"].dropna())
    notes = [
        f"plan {plan.plan_id} v{plan.version}, component {comp.name!r}: no credited deal is of product "
        f"{product!r} (a typo pays nothing)"
        for plan in plans
        for comp in plan.components
        for product in comp.products or ()
        if product not in known_products
    ]
    if beyond_window:
        notes.append(
            f"{beyond_window:,} refunded or cancelled deal(s) were refunded after their plan's clawback "
            "window and keep their commission"
        )
    text.forget()  # the formatted amounts of this computation are in its lines now
    return Result(lines[LINE_COLUMNS], statements(lines), int((~covered).sum()), notes, refunds)


def billed_credits(
    credits: pd.DataFrame, billing: pd.DataFrame | None, base: str, measure: str, plan: Plan | None = None
) -> pd.DataFrame:
    """The credits of a plan on invoiced or paid amounts: one row per credited rep and order of a
    credited deal, dated on the order's invoice date (``invoiced``) or the day it was paid (``paid``;
    an order not paid yet has nothing to commission), for the order's amount (``gross``) or its
    amount less its cost (``margin``; a negative margin counts as 0). The deal's credits apply to each
    order: revenue splits share it by their percentages (allocated to the cent, nothing lost) and an
    overlay credit gets all of it. A deal no longer won (credited 0) has nothing to commission.
    A SPIFF pays once per deal, on its first order in the SPIFF's dates.

    ``billing``: deal_id, order_id, invoiced_on, paid_on, amount (Decimal, 0 for a refunded or
    cancelled order), cost (Decimal or None)."""
    from ml.forecast.money import allocate

    columns = CREDIT_COLUMNS
    if billing is None or not len(billing) or not len(credits):
        return pd.DataFrame(columns=columns)
    day = "invoiced_on" if base == "invoiced" else "paid_on"
    orders = billing[billing[day].notna() & billing["deal_id"].isin(set(credits["deal_id"]))]
    if measure == "margin":
        no_cost = orders[orders["cost"].isna() & (orders["amount"] != 0)]
        if len(no_cost):
            sample = ", ".join(no_cost["order_id"].head(3))
            raise PayoutInputError(
                f"plan {plan.plan_id if plan else ''} commissions margin, but {len(no_cost):,} order(s) "
                f"have no cost: {sample}; load the orders with a cost column"
            )
    split = credits.get("split_pct", pd.Series(Decimal(100), index=credits.index))
    kind = credits.get("credit_type", pd.Series("revenue", index=credits.index))
    by_deal: dict[str, list] = {}
    for row in zip(
        credits["deal_id"],
        credits["rep_name"],
        credits["manager_name"],
        credits["product_name"],
        credits["amount"],
        split,
        kind,
        strict=True,
    ):
        by_deal.setdefault(row[0], []).append(row)
    rows = []
    for deal, on, amount, cost in zip(
        orders["deal_id"], orders[day], orders["amount"], orders["cost"], strict=True
    ):
        value = Decimal(amount)
        if measure == "margin":
            value = max(value - (Decimal(0) if pd.isna(cost) else Decimal(cost)), Decimal(0))
        credited = [r for r in by_deal[deal] if Decimal(r[4]) != 0]
        revenue = iter(allocate(value, [Decimal(r[5]) for r in credited if r[6] == "revenue"]))
        for _, rep, manager, product, _, pct_, credit_type in credited:
            share = next(revenue) if credit_type == "revenue" else value
            rows.append((deal, rep, manager, product, on, share, pct_, credit_type))
    return pd.DataFrame(rows, columns=columns)


def _clawed_back(plan: Plan, deals: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str], int]:
    """The plan's deals with the refunds it claws back taken off their base (``clawback:`` in the
    plan; none without it): a refund or cancellation learned within ``window_days`` of the close
    takes the whole base (``full``) or its refunded share, rounded half to even to the cent
    (``prorated``). Returns the deals, a reason suffix per clawed-back deal, and how many refunded
    deals fell outside the window."""
    if not plan.clawback or "refunded_share" not in deals or not len(deals):
        return deals, {}, 0
    share = deals["refunded_share"].map(lambda v: Fraction(Decimal(v)) if v is not None else Fraction(0))
    refunded = (share > 0).to_numpy()
    if not refunded.any():
        return deals, {}, 0
    days = (pd.to_datetime(deals["refunded_on"]) - deals["closed_date"]).dt.days.to_numpy()
    window = int(plan.clawback["window_days"])
    inside = refunded & (days <= window)
    out = deals.copy()
    cents = out["cents"].to_numpy(dtype=object).copy()
    says = {}
    for i in np.flatnonzero(inside):
        whole = int(cents[i])
        taken = whole if plan.clawback["method"] == "full" else int(round(Fraction(whole) * share.iloc[i]))
        cents[i] = whole - taken
        said = f"{pct(share.iloc[i], 2)} refunded on {pd.Timestamp(out['refunded_on'].iloc[i]):%Y-%m-%d}"
        says[out["deal_id"].iloc[i]] = (
            f"{said}, within {window} days: {money(taken)} of {money(whole)} clawed back"
        )
    out["cents"] = cents.astype(out["cents"].dtype) if out["cents"].dtype != object else cents
    return out, says, int((refunded & ~inside).sum())


def _on_plan(plan: Plan, deals: pd.DataFrame) -> np.ndarray:
    """Which rows the plan pays: dated in its effective dates, of its reps."""
    on_plan = _in_effect(plan, deals["closed_date"])
    if plan.reps is not None:
        on_plan = on_plan & deals["rep_name"].isin(plan.reps).to_numpy()
    return on_plan


def _in_effect(plan: Plan, days: pd.Series) -> np.ndarray:
    """Which close dates fall in the plan's effective dates."""
    inside = (days >= pd.Timestamp(plan.effective_from)).to_numpy()
    end = plan.ends or plan.effective_to
    if end is not None:
        inside = inside & (days <= pd.Timestamp(end)).to_numpy()
    return inside


def _quota_lookup(quotas: pd.DataFrame | None) -> dict:
    if quotas is None or not len(quotas):
        return {}
    return {
        (r.rep_name, pd.Period(r.month, freq="M")): to_cents(r.quota) for r in quotas.itertuples(index=False)
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
            "period": deals["month"].array,
            "rep_name": deals["rep_name"].array if rep is None else rep,
            "deal_id": deals["deal_id"].array,
            "plan_id": plan.plan_id,
            "plan_version": plan.version,
            "component": comp.name,
            "rule": rule,
            "tier": tier,
            "rate": _strings(rate),
            "base_cents": deals["cents"].to_numpy(dtype=np.int64),
            "amount_cents": np.asarray(amount, dtype=np.int64),
            "reason": _strings(reason),
        }
    )


def _strings(values):
    if isinstance(values, pa.ChunkedArray | pa.Array):
        return pd.arrays.ArrowStringArray(
            pa.chunked_array([values]) if isinstance(values, pa.Array) else values
        )
    return values


def _rate_table(plan: Plan, comp: Component, deals: pd.DataFrame, quota: dict) -> pd.DataFrame:
    spec = comp.spec
    accumulate, method, basis = spec["accumulate"], spec["method"], spec["basis"]
    x = deals["cents"].to_numpy(dtype=np.int64)
    rule = (
        f"{method} {basis} table, {'per transaction' if accumulate == 'transaction' else 'per ' + accumulate}"
    )
    t = table(list(comp.tiers), method, plan.boundary)
    rates = [_rate_text(comp, k) for k in range(len(t.starts))]
    symbol = "$" if plan.currency == "USD" else f"{plan.currency} "
    if accumulate == "transaction":
        amount, j = t.evaluate(x)
        return _lines(
            plan,
            comp,
            deals,
            rule,
            j + 1,
            text.pick(rates, j),
            amount,
            _transaction_reasons(comp, t, method, x, j, rates, symbol, _commissioned(plan)[0]),
        )
    window = deals["closed_date"].dt.to_period(_FREQ[accumulate])
    after = deals.groupby([deals["rep_name"], window], sort=False)["cents"].cumsum().to_numpy(dtype=np.int64)
    before = after - x
    label = f"{_LABEL[accumulate]} {_commissioned(plan)[1]}"
    if basis == "amount":
        hi, j = t.evaluate(after)
        lo, j0 = t.evaluate(before)
        lo = np.where(before == 0, 0, lo)  # nothing booked yet pays nothing (a flat amount's first tier)
        reasons = _cumulative_reasons(comp, t, method, before, after, j0, j, rates, label, symbol)
    else:
        incentive = to_cents(spec["target_incentive"])
        q = _quotas_of(plan, deals["rep_name"], window, quota)
        hi, j = t.evaluate(after, q, incentive)
        lo, _ = t.evaluate(before, q, incentive)
        lo = np.where(before == 0, 0, lo)
        if "gate" in spec:  # below the year-to-date gate, multipliers above 1x pay 1x
            closed = _below_gate(plan, deals, percent(spec["gate"]["ytd_attainment"]), quota)
            if closed.any():
                capped = table(
                    [replace(tier, rate=min(tier.rate, Fraction(1))) for tier in comp.tiers],
                    method,
                    plan.boundary,
                )
                hi_c, j_c = capped.evaluate(after, q, incentive)
                lo_c, _ = capped.evaluate(before, q, incentive)
                lo_c = np.where(before == 0, 0, lo_c)
                hi, lo, j = np.where(closed, hi_c, hi), np.where(closed, lo_c, lo), np.where(closed, j_c, j)
        else:
            closed = np.zeros(len(deals), dtype=bool)
        starts = [pct(s) for s in t.starts]
        reasons = text.join(
            text.money(x, symbol),
            f" booked: {label} ",
            text.money(before, symbol),
            " → ",
            text.money(after, symbol),
            " of a ",
            text.money(q, symbol),
            " quota (",
            text.percent_of(before, q),
            " → ",
            text.percent_of(after, q),
            "), ",
            text.pick(rates, j),
            f" the {money(incentive, plan.currency)} target incentive from ",
            text.pick(starts, j),
        )
        if closed.any():
            gate = spec["gate"]["ytd_attainment"]
            below = pa.array(closed)
            reasons = pc.if_else(
                below, text.join(reasons, f"; at most 1× below the {gate} year-to-date gate"), reasons
            )
            capped_rates = [f"{number(min(tier.rate, Fraction(1)))}×" for tier in comp.tiers] + rates[
                len(comp.tiers) :
            ]
            picked = pc.if_else(below, text.pick(capped_rates, j), text.pick(rates, j))
            return _lines(plan, comp, deals, rule, j + 1, picked, hi - lo, reasons)
    return _lines(plan, comp, deals, rule, j + 1, text.pick(rates, j), hi - lo, reasons)


def _below_gate(plan: Plan, deals: pd.DataFrame, gate: Fraction, quota: dict) -> np.ndarray:
    """Rows whose rep's year-to-date attainment, this deal included, is below ``gate``: bookings
    since 1 January over the quotas of January to the deal's month."""
    year = deals["closed_date"].dt.to_period("Y")
    ytd = deals.groupby([deals["rep_name"], year], sort=False)["cents"].cumsum().to_numpy(dtype=np.int64)
    keys = pd.DataFrame({"rep": deals["rep_name"].to_numpy(), "month": deals["month"].array})
    group = keys.groupby(["rep", "month"], sort=False).ngroup().to_numpy()
    first = keys.iloc[np.unique(group, return_index=True)[1]]
    so_far = np.array(
        [
            sum(
                _period_quota(plan, r, pd.Period(f"{m.year}-{i:02d}", freq="M"), quota)
                for i in range(1, m.month + 1)
            )
            for r, m in zip(first["rep"], first["month"], strict=True)
        ],
        dtype=object,
    )[group]
    return np.array(
        [a * gate.denominator < gate.numerator * b for a, b in zip(ytd.tolist(), so_far, strict=True)],
        dtype=bool,
    )


def _quotas_of(plan: Plan, reps: pd.Series, window: pd.Series, quota: dict) -> np.ndarray:
    """Each row's quota (cents) for its rep and accumulation period."""
    keys = pd.DataFrame({"rep": reps.to_numpy(), "window": window.array})
    group = keys.groupby(["rep", "window"], sort=False).ngroup().to_numpy()
    first = keys.iloc[np.unique(group, return_index=True)[1]]
    values = np.array(
        [_period_quota(plan, r, w, quota) for r, w in zip(first["rep"], first["window"], strict=True)],
        dtype=np.int64,
    )
    return values[group]


def _commissioned(plan: Plan) -> tuple[str, str]:
    """What the plan commissions, in a reason: one transaction, and a running total of them."""
    if plan.commission_base == "booked":
        return "deal", "bookings"
    if plan.commission_amount == "margin":
        return "order margin", f"{plan.commission_base} margin"
    return "order", f"{plan.commission_base} amounts"


def _transaction_reasons(comp, t: Table, method: str, x, j, rates, symbol, unit: str = "deal") -> pa.Array:
    starts = [int(s) for s in t.starts]
    if method == "flat":
        whole = [
            f" of the whole {unit}" if comp.tiers[min(k, len(comp.tiers) - 1)].rate is not None else ""
            for k in range(len(starts))
        ]
        return text.join(
            text.money(x, symbol),
            f" {unit} in the tier from ",
            text.money(np.array(starts)[j], symbol),
            ": ",
            text.pick(rates, j),
            text.pick(whole, j),
        )
    # full tiers below the deal's own: the same words for every deal that reaches that tier
    below = []
    for k in range(len(starts)):
        pieces = [
            f"{money(starts[i + 1] - starts[i])} at {rates[i]}" + (f" above {money(starts[i])}" if i else "")
            for i in range(k)
        ]
        below.append(", ".join(pieces) + (", " if pieces else ""))
    above = [f" above {money(v)}" if v else "" for v in starts]
    return text.join(
        text.pick(below, j),
        text.money(x - np.array(starts)[j], symbol),
        " at ",
        text.pick(rates, j),
        text.pick(above, j),
        f" of the {unit}",
    )


def _cumulative_reasons(comp, t: Table, method: str, before, after, j0, j, rates, label, symbol) -> pa.Array:
    starts = np.array([int(s) for s in t.starts], dtype=np.int64)
    deal = after - before
    if method == "flat":
        rerated = np.where(j != j0, " — the period re-rated at the new tier", "")
        return text.join(
            text.money(deal, symbol),
            f" booked: {label} ",
            text.money(before, symbol),
            " → ",
            text.money(after, symbol),
            ", all at ",
            text.pick(rates, j),
            " (tier from ",
            text.money(starts[j], symbol),
            ")",
            pa.array(rerated),
        )
    above = [f" above {money(int(v))}" if v else "" for v in starts]
    reasons = text.join(
        text.money(deal, symbol),
        " at ",
        text.pick(rates, j),
        text.pick(above, j),
        f" of {label}",
        pc.if_else(pa.array(before > 0), text.join(" (running start ", text.money(before, symbol), ")"), ""),
    )
    crossing = np.flatnonzero(j != j0)
    if len(crossing):  # a deal across tiers: a piece per tier it spans (few: at most one per edge)
        reasons = reasons.to_pylist()
        for i in crossing:
            reasons[i] = _pieces(t, rates, int(before[i]), int(after[i]), int(j0[i]), int(j[i]), label) + (
                f" (running start {money(int(before[i]))})" if before[i] else ""
            )
        reasons = pa.array(reasons, type=pa.string())
    return reasons


def _pieces(t: Table, rates, lo: int, hi: int, k0: int, k: int, label: str) -> str:
    parts = []
    for i in range(min(k0, k), max(k0, k) + 1):
        start = int(t.starts[i])
        end = int(t.starts[i + 1]) if i + 1 < len(t.starts) else None
        piece = min(hi, end if end is not None else hi) - max(lo, start)
        if piece <= 0 and k0 != k:
            continue
        where = f" above {money(start)}" if start > 0 else ""
        parts.append(f"{money(piece)} at {rates[i]}{where}")
    return ", ".join(parts) + f" of {label}"


def _new_reps(plan: Plan, frame: pd.DataFrame, listed) -> tuple[pd.Series, list[str]]:
    """(each rep's first month with credits under the plan, the reps new to it): those ``listed``,
    else those whose first credited deal falls after the first month anyone on it has credits in."""
    mine = frame[_in_effect(plan, frame["closed_date"])]
    if plan.reps is not None:
        mine = mine[mine["rep_name"].isin(plan.reps)]
    first_month = mine.groupby("rep_name")["month"].min()
    start = pd.Period(plan.effective_from, freq="M")
    first = max(start, first_month.min()) if len(first_month) else start
    return first_month, list(listed) if listed else sorted(first_month.index[first_month > first])


def _plan_quotas(plan: Plan, frame: pd.DataFrame, quota: dict, through: pd.Period) -> dict:
    """The plan's quotas in cents by (rep, month): finance.quotas when the plan reads them, and for
    a rep new to a plan with a ramp, no quota in the year before their first month and
    ``ramp.shares`` of the month's quota in their first months; months missing here take the
    plan's monthly quota."""
    out = dict(quota) if plan.quota_source == "finance.quotas" else {}
    if not plan.ramp or plan.quota_monthly is None:
        return out
    first_month, reps = _new_reps(plan, frame, plan.ramp.get("reps"))
    shares = [percent(s) for s in plan.ramp["shares"]]
    monthly = to_cents(plan.quota_monthly)
    for rep in reps:
        begin = first_month.get(rep)
        if begin is None:
            continue
        for i in range(1, 12):  # not on the plan yet: no quota in the months before (proration)
            out[rep, begin - i] = 0
        for i, share in enumerate(shares):
            month = begin + i
            base = out.get((rep, month), monthly)
            out[rep, month] = round(base * share)  # Fraction: half to even
    return out


def _period_quota(plan: Plan, rep: str, period: pd.Period, quota: dict) -> int:
    first, last = period.asfreq("M", "s"), period.asfreq("M", "e")
    total = 0
    for i in range(last.ordinal - first.ordinal + 1):
        found = quota.get((rep, first + i))
        total += found if found is not None else to_cents(plan.quota_monthly)
    if total <= 0:
        raise PayoutInputError(
            f"plan {plan.plan_id} v{plan.version}: {rep} has no quota for {period} "
            "(attainment needs one above zero)"
        )
    return total


def _rate_text(comp: Component, k: int) -> str:
    t = comp.tiers[min(k, len(comp.tiers) - 1)]
    if k >= len(comp.tiers):  # above a closed last tier
        return "0%" if comp.spec["basis"] == "amount" else "0×"
    if t.rate is not None:
        return f"{number(t.rate)}×" if comp.spec["basis"] == "attainment" else pct(t.rate)
    return money(int(t.amount)) + (" per full tier" if comp.spec["method"] == "interpolated" else "")


def _spiff(plan: Plan, comp: Component, deals: pd.DataFrame) -> pd.DataFrame:
    spec = comp.spec
    days = deals["closed_date"].dt.strftime("%Y-%m-%d")
    deals = deals[(days >= spec["from"]) & (days <= spec["to"])]
    if not len(deals):
        return pd.DataFrame(columns=LINE_COLUMNS)
    # once per deal and rep (a plan on invoiced or paid amounts has a row per order, by day)
    deals = _revenue(deals).drop_duplicates(["deal_id", "rep_name"])
    if not len(deals):
        return pd.DataFrame(columns=LINE_COLUMNS)
    each = to_cents(spec["amount"])
    share = (
        np.array([int(Decimal(v) * 10000) for v in deals["split_pct"]], dtype=np.int64)  # millionths
        if "split_pct" in deals
        else np.full(len(deals), 1_000_000, dtype=np.int64)
    )
    amount = round_half_even(share * each, 1_000_000)
    note = pc.if_else(
        pa.array(share != 1_000_000),
        text.join(" (", text.percent_of(share, np.full(len(share), 1_000_000)), " credit)"),
        "",
    )
    reasons = text.join(
        f"SPIFF: {money(each, plan.currency)} per won deal {spec['from']}..{spec['to']}", note
    )
    return _lines(plan, comp, deals, "spiff per won deal", 1, money(each, plan.currency), amount, reasons)


def _revenue(deals: pd.DataFrame) -> pd.DataFrame:
    """Revenue credits only: an overlay credit pays its own rep on top, not a second override or
    spiff."""
    return deals[deals["credit_type"] == "revenue"] if "credit_type" in deals else deals


def _override(plan: Plan, comp: Component, deals: pd.DataFrame) -> pd.DataFrame:
    deals = _revenue(deals)
    deals = deals[deals["manager_name"].notna() & (deals["manager_name"] != deals["rep_name"])]
    if not len(deals):
        return pd.DataFrame(columns=LINE_COLUMNS)
    rate = percent(comp.spec["rate"])
    x = deals["cents"].to_numpy(dtype=np.int64)
    wide = int(np.max(np.abs(x))) * rate.numerator >= 2**62
    amount = round_half_even(
        x.astype(object) * rate.numerator if wide else x * rate.numerator, rate.denominator
    )
    reasons = text.join(
        f"{pct(rate)} override on ",
        pa.array(deals["rep_name"], pa.string()),
        "'s ",
        text.money(x),
        f" {_commissioned(plan)[0]}",
    )
    return _lines(
        plan,
        comp,
        deals,
        "manager override",
        1,
        pct(rate),
        amount,
        reasons,
        rep=deals["manager_name"].array,
    )


def _bonus(plan: Plan, comp: Component, through: pd.Period) -> pd.DataFrame:
    spec = comp.spec
    period = pd.Period(spec["period"], freq="M")
    if period > through or not plan.in_effect(period.start_time.date()):
        return pd.DataFrame(columns=LINE_COLUMNS)
    if plan.reps is not None and spec["rep"] not in plan.reps:
        raise PlanError(f"{plan.path}: bonus {comp.name!r} is for {spec['rep']!r}, who is not on the plan")
    c = to_cents(spec["amount"])
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
        limit = to_cents(cap["per_deal"])
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
    limit = to_cents(cap["per_period"])
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
        first_month, reps = _new_reps(plan, frame, draw.get("reps"))
        monthly = to_cents(draw["monthly"])
        cut = percent(draw["max_recovery"]) if "max_recovery" in draw else Fraction(1)
        earned_all = lines[(lines["plan_id"] == plan.plan_id) & (lines["plan_version"] == plan.version)]
        for rep in reps:
            begin = first_month.get(rep, start)
            earned = earned_all[earned_all["rep_name"] == rep].groupby("period")["amount_cents"].sum()
            balance = 0
            last = plan.ends or plan.effective_to
            end = min(through, pd.Period(last, freq="M")) if last else through
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
                    back = min(balance, round(e * cut))  # Fraction: half to even
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


def line_kinds(rules) -> np.ndarray:
    """The statement column each engine line counts in: draw, recovery, or earned."""
    rule = np.asarray(rules, dtype=object)
    return np.where(rule == "draw", "draw", np.where(rule == "draw recovery", "recovery", "earned"))


def statements(lines: pd.DataFrame, payees=(), period: pd.Period | None = None) -> pd.DataFrame:
    """Rep × period in cents: earned, draws paid, draws recovered, adjustments and clawbacks (the
    ``kind`` of a run's lines; engine lines by their rule), payable = earned + draws - recoveries
    + adjustments - clawbacks; ``payees`` get a row of zeros in ``period`` when they have no line."""
    kind = lines["kind"].to_numpy(dtype=object) if "kind" in lines else line_kinds(lines["rule"])
    amount = lines["amount_cents"].to_numpy(dtype=np.int64)
    frame = pd.DataFrame(
        {
            "period": lines["period"].array,
            "rep_name": lines["rep_name"].array,
            "earned_cents": np.where(kind == "earned", amount, 0),
            "draw_cents": np.where(kind == "draw", amount, 0),
            "recovery_cents": np.where(kind == "recovery", -amount, 0),
            "adjustment_cents": np.where(kind == "adjustment", amount, 0),
            "clawback_cents": np.where(kind == "clawback", -amount, 0),
        }
    )
    missing = sorted(set(payees) - set(frame["rep_name"]))
    if missing and period is not None:
        zeros = pd.DataFrame({"period": [period] * len(missing), "rep_name": missing})
        frame = pd.concat([frame, zeros], ignore_index=True).fillna(0)
    if not len(frame):
        return pd.DataFrame(columns=STATEMENT_COLUMNS)
    table = frame.groupby(["period", "rep_name"], sort=True).sum().reset_index()
    table["payable_cents"] = (
        table["earned_cents"]
        + table["draw_cents"]
        - table["recovery_cents"]
        + table["adjustment_cents"]
        - table["clawback_cents"]
    )
    return table[STATEMENT_COLUMNS]
