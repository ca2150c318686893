"""How one source captured a set of people: the messy per-row contact fields.

Every lead file (and the CRM reports) draws its name/email/phone/company/... columns here,
so the same person differs between files in exactly the ways real sources differ.
"""

from __future__ import annotations

import numpy as np

from . import config as C
from . import messy
from . import names as N
from .people import People, obj


def contact_fields(people: People, p: np.ndarray, rng: np.random.Generator, *,
                   chinese_tool: bool = False, country_style: str = "free") -> dict:
    """Columns first_name, last_name, full_name, email, phone, company, job_title, country,
    city for people p. chinese_tool: names/companies/titles in Chinese script, more
    full-width input. country_style: iso | en | cn | free (any common spelling)."""
    n = len(p)
    chinese = people.chinese[p]
    native = chinese & (chinese_tool | (rng.random(n) >= C.PINYIN_NAME_RATE))
    first = np.where(native, people.first[p], people.first_en[p])
    last = np.where(native, people.last[p], people.last_en[p])
    full = np.where(native, last + first, first + " " + last)
    fw = C.FULLWIDTH_RATE_CN if chinese_tool else C.FULLWIDTH_RATE
    email = messy.messy_emails(people.email[p], rng, fw)
    phone = messy.format_phones(people.country[p], people.phone[p], rng, fw)
    no_email = rng.random(n) < C.MISSING_EMAIL_RATE
    no_phone = (rng.random(n) < C.MISSING_PHONE_RATE) & ~no_email  # valid rows keep one
    email[no_email] = None
    phone[no_phone] = None
    company = people.company_local[p] if chinese_tool else people.company[p]
    t = people.title_idx[p]
    title = np.where(chinese_tool & chinese, obj(N.JOB_TITLES_CN)[t % len(N.JOB_TITLES_CN)],
                     obj(N.JOB_TITLES)[t % len(N.JOB_TITLES)])
    return {
        "first_name": messy.typos(first, rng, C.NAME_TYPO_RATE),
        "last_name": messy.typos(last, rng, C.NAME_TYPO_RATE),
        "full_name": messy.typos(full, rng, C.NAME_TYPO_RATE),
        "email": email,
        "phone": phone,
        "company": messy.blank(messy.messy_companies(company, rng), rng, C.MISSING_OPTIONAL_RATE),
        "job_title": messy.blank(title, rng, C.MISSING_OPTIONAL_RATE),
        "country": messy.blank(_countries(people.country[p], rng, country_style), rng,
                               C.MISSING_OPTIONAL_RATE),
        "city": messy.blank(_cities(people, p, chinese_tool), rng, C.MISSING_OPTIONAL_RATE),
    }


def _countries(codes: np.ndarray, rng: np.random.Generator, style: str) -> np.ndarray:
    out = codes.copy()
    for code, en, cn, *_ in N.COUNTRIES:
        mask = codes == code
        if style == "en":
            out[mask] = en
        elif style == "cn":
            out[mask] = cn
        elif style == "free":
            variants = obj(N.COUNTRY_VARIANTS[code])
            out[mask] = variants[rng.integers(0, len(variants), int(mask.sum()))]
    return out


def _cities(people: People, p: np.ndarray, chinese_tool: bool) -> np.ndarray:
    out = np.empty(len(p), dtype=object)
    codes, idx = people.country[p], people.city_idx[p]
    for code, cities in N.CITIES.items():
        mask = codes == code
        names = obj(c[1] if chinese_tool else c[0] for c in cities)
        out[mask] = names[idx[mask] % len(cities)]
    return out
