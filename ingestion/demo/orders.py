"""orders/: ERP invoices for won Maven deals; a deal's invoices sum to its close_value.

erp_invoices.csv        deals of Central/East reps; canonical headers; order_date
                        "15.03.2017"; amount/unit_price like "$4,514.00", "4514.00",
                        "USD 4,514.00", "4,514.00 USD"; currency "USD", "usd" or empty.
erp_invoices_west.xlsx  deals of West reps; alias headers (order_number, invoice_no, deal_id,
                        customer, invoice_date, product, qty, price, total, currency,
                        payment_status, payment_date, cogs); native Excel date and number cells.
Each won deal is billed in 1-3 invoices (INVOICE_SPLIT_PROBS), all on/after its close date. A
paid invoice carries its payment date (5-60 days after the invoice, sooner near the period's
end); every invoice carries its cost of goods (COST_SHARE of its amount, to the cent).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import config as C
from .defects import BAD_AMOUNTS, bad_date, make_invalid, set_choice
from .maven import Maven
from .people import obj
from .rand import pick, rng_for, seq_ids
from .timefmt import fmt_date
from .writers import write_csv_parts, write_xlsx_parts

XLSX_REGION = "West"
XLSX_HEADERS = {"order_id": "order_number", "invoice_number": "invoice_no",
                "opportunity_id": "deal_id", "account_name": "customer",
                "order_date": "invoice_date", "product_name": "product", "quantity": "qty",
                "unit_price": "price", "amount": "total", "status": "payment_status",
                "paid_date": "payment_date", "cost": "cogs"}
COST_SHARE = (0.45, 0.75)  # an invoice's cost of goods, as a share of its amount (uniform)


@dataclass
class Invoices:
    opp: np.ndarray  # Maven row per invoice
    cents: np.ndarray
    day: np.ndarray


def plan(maven: Maven, seed: int) -> Invoices:
    """Invoice split of every won deal (also used by surveys, which must follow the orders)."""
    rng = rng_for(seed, "invoices")
    won = np.flatnonzero((maven.col("deal_stage") == "Won") & (maven.close_cents > 0))
    k = rng.choice(3, len(won), p=C.INVOICE_SPLIT_PROBS) + 1
    weight = rng.uniform(0.2, 1.0, (len(won), 3)) * (np.arange(3) < k[:, None])
    share = np.floor(maven.close_cents[won, None] * weight / weight.sum(1, keepdims=True))
    cents = share.astype(np.int64)
    cents[np.arange(len(won)), k - 1] += maven.close_cents[won] - cents.sum(1)  # exact total
    gap = np.concatenate([rng.integers(0, 15, (len(won), 1)),
                          rng.integers(20, 60, (len(won), 2))], axis=1)
    day = np.minimum(maven.close_day[won, None] + np.cumsum(gap, axis=1), C.LAST_DAY)
    mask = np.arange(3) < k[:, None]
    return Invoices(opp=np.repeat(won, k), cents=cents[mask], day=day[mask])


def usd(cents: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    style = rng.choice(4, len(cents), p=(0.5, 0.2, 0.15, 0.15))
    out = []
    for c, s in zip(cents, style, strict=True):
        v = f"{c // 100:,}.{c % 100:02d}"
        out.append((f"${v}", f"{c // 100}.{c % 100:02d}", f"USD {v}", f"{v} USD")[s])
    return obj(out)


def write(out_dir: Path, maven: Maven, seed: int) -> list[tuple[Path, int]]:
    inv = plan(maven, seed)
    order = np.lexsort((inv.opp, inv.day))
    inv = Invoices(inv.opp[order], inv.cents[order], inv.day[order])
    west = maven.region[inv.opp] == XLSX_REGION
    written = []
    for name, mask in (("csv", ~west), ("xlsx", west)):
        rng = rng_for(seed, "orders", name)
        sel = Invoices(inv.opp[mask], inv.cents[mask], inv.day[mask])
        cols = _columns(maven, sel, rng, name, seed)
        if name == "csv":
            written += write_csv_parts(cols, out_dir, "erp_invoices")
        else:
            cols = {XLSX_HEADERS.get(k, k): v for k, v in cols.items()}
            written += write_xlsx_parts(cols, out_dir, "erp_invoices_west", "Invoices", {
                "invoice_date": "date", "qty": "number", "price": "number", "total": "number",
                "payment_date": "date", "cogs": "number"})
    return written


def _columns(maven: Maven, inv: Invoices, rng, name: str, seed: int) -> dict:
    n = len(inv.opp)
    if name == "csv":
        amount, date = usd(inv.cents, rng), fmt_date(inv.day, "eu")
        currency = pick(rng, ("USD", "usd", None), n, p=(0.8, 0.05, 0.15))
        prefix, start = "SO-", 100_001
    else:
        amount = obj(f"{c // 100}.{c % 100:02d}" for c in inv.cents)
        date, currency = fmt_date(inv.day, "iso"), np.full(n, "USD", dtype=object)
        prefix, start = "SOW-", 500_001
    cols = {
        "order_id": seq_ids(prefix, start, n, 6),
        "invoice_number": obj(f"INV-{d[:4] if name == 'xlsx' else d[-4:]}-{i:06d}"
                              for i, d in enumerate(date, start)),
        "opportunity_id": maven.col("opportunity_id")[inv.opp],
        "account_name": maven.col("account")[inv.opp],
        "order_date": date,
        "product_name": maven.col("product")[inv.opp],
        "quantity": np.full(n, "1", dtype=object),
        "unit_price": amount,
        "amount": amount,
        "currency": currency,
        "status": pick(rng, ("paid", "open"), n, p=(0.85, 0.15)),
    }
    # payment day and cost from their own stream: the columns above stay as they were
    extra = rng_for(seed, "orders-paid-cost", name)
    gap, room = extra.integers(5, 61, n), C.LAST_DAY - inv.day  # paid within the demo's period
    paid_day = inv.day + np.where(gap <= room, gap, gap % (room + 1))
    paid_on = fmt_date(paid_day, "eu" if name == "csv" else "iso")
    cols["paid_date"] = obj(d if s == "paid" else None for d, s in zip(paid_on, cols["status"], strict=True))
    cost = np.floor(inv.cents * extra.uniform(*COST_SHARE, n)).astype(np.int64)
    cols["cost"] = obj(f"{c // 100}.{c % 100:02d}" for c in cost)
    return make_invalid(cols, rng, "order_id", lambda k: seq_ids(prefix, start + n, k, 6), {
        "bad_date": bad_date("order_date"),
        "amount_na": set_choice("amount", BAD_AMOUNTS),
    })
