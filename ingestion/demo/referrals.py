"""referrals/: customer-program and partner-portal exports, amounts in mixed currencies.

customer_referrals.csv  canonical headers, referred_at "03/15/2017" (US).
partner_referrals.csv   alias headers (id, referral_date, referrer_company, referee_*,
                        comments, estimated_deal_value), referral_date "15.03.2017".
Amounts carry symbols and locale separators: "$12,500.00", "¥8,800", "€1.234,50",
"£3,200.00"; the currency column (ISO code) is empty for CURRENCY_MISSING_RATE of rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import config as C
from .defects import BAD_AMOUNTS, bad_date, make_invalid, set_choice, set_none
from .leadfields import contact_fields
from .maven import Maven
from .messy import blank, inject
from .names import PARTNERS, REFERRAL_NOTES, WESTERN_FIRST, WESTERN_LAST
from .people import People, Records, obj
from .rand import pick, rng_for, seq_ids
from .timefmt import fmt_date
from .writers import write_csv_parts

# code, share, typical value, symbol
CURRENCIES = (("USD", 0.5, 10_000, "$"), ("CNY", 0.25, 70_000, "¥"), ("EUR", 0.15, 9_000, "€"),
              ("GBP", 0.10, 8_000, "£"))
CURRENCY_MISSING_RATE = 0.2
VALUE_MISSING_RATE = 0.15
PARTNER_FILE_SHARE = 0.45
ALIASES = {"referral_id": "id", "referred_at": "referral_date",
           "referrer_account": "referrer_company", "full_name": "referee_name",
           "email": "referee_email", "phone": "referee_phone", "company": "referee_company",
           "notes": "comments", "estimated_value": "estimated_deal_value"}


def money(value: float, code: str) -> str:
    if code == "CNY":
        return f"¥{round(value):,}"
    if code == "EUR":  # European separators
        return "€" + f"{value:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return {"USD": "$", "GBP": "£"}[code] + f"{value:,.2f}"


def write(out_dir: Path, people: People, records: Records, maven: Maven,
          seed: int) -> list[tuple[Path, int]]:
    rows = records.of("referrals")
    partner = rng_for(seed, "referrals").random(len(rows)) < PARTNER_FILE_SHARE
    written = []
    for kind, mask in (("customer", ~partner), ("partner", partner)):
        rng = rng_for(seed, "referrals", kind)
        cols = _columns(people, records, rows[mask], maven, rng, kind)
        written += write_csv_parts(cols, out_dir, f"{kind}_referrals")
    return written


def _columns(people, records, rows: np.ndarray, maven: Maven, rng, kind: str) -> dict:
    n = len(rows)
    f = contact_fields(people, records.person[rows], rng)
    agents = maven.teams["sales_agent"].to_numpy(dtype=object)
    contact = pick(rng, WESTERN_FIRST, n) + " " + pick(rng, WESTERN_LAST, n)
    if kind == "customer":
        rtype = np.full(n, "customer", dtype=object)
        rname, raccount = contact, pick(rng, tuple(maven.accounts["account"]), n)
    else:
        rtype = pick(rng, ("partner", "employee"), n, p=(0.75, 0.25))
        employee = rtype == "employee"
        rname = np.where(employee, pick(rng, tuple(agents), n), contact)
        raccount = np.where(employee, None, pick(rng, PARTNERS, n))
    ci = rng.choice(len(CURRENCIES), n, p=[c[1] for c in CURRENCIES])
    value = np.round(rng.lognormal(0, 0.8, n) * np.array([c[2] for c in CURRENCIES])[ci], -1)
    codes = obj(c[0] for c in CURRENCIES)[ci]
    amount = blank(obj(money(v, c) for v, c in zip(value, codes, strict=True)), rng,
                   VALUE_MISSING_RATE)
    prefix = "REF-C-" if kind == "customer" else "PRT-"
    first = people.id_offset + 1
    cols = {
        "referral_id": seq_ids(prefix, first, n, 6),
        "referred_at": fmt_date(records.ts[rows] // C.DAY, "us" if kind == "customer" else "eu"),
        "referrer_type": rtype, "referrer_name": rname, "referrer_account": raccount,
        "full_name": f["full_name"], "email": f["email"], "phone": f["phone"],
        "company": f["company"], "notes": blank(pick(rng, REFERRAL_NOTES, n), rng, 0.5),
        "estimated_value": amount,
        "currency": blank(codes, rng, CURRENCY_MISSING_RATE),
    }
    if kind == "partner":
        cols = {ALIASES.get(k, k): v for k, v in cols.items()}
    k = {c: ALIASES.get(c, c) if kind == "partner" else c for c in
         ("referral_id", "referred_at", "full_name", "company", "email", "phone",
          "estimated_value")}
    inject(cols, rng, (k["full_name"], k["company"]))
    return make_invalid(cols, rng, k["referral_id"], lambda m: seq_ids(prefix, first + n, m, 6), {
        "bad_date": bad_date(k["referred_at"]),
        "amount_na": set_choice(k["estimated_value"], BAD_AMOUNTS),
        "no_contact": set_none(k["email"], k["phone"]),
    })
