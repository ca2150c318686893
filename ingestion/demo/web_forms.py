"""web_forms/: website form webhooks as JSONL, one file per site.

website_forms_global.jsonl  canonical keys, submitted_at "2017-03-15T14:05:09Z", empty fields
                            omitted, consent as JSON boolean.
website_forms_cn.jsonl      alias keys (id, created_at, name, mobile, organization, ...),
                            created_at "2017-03-15T14:05:09+08:00", empty fields as null,
                            marketing_consent "yes"/"no". Chinese visitors only.
Some objects carry unknown keys (ip_address, user_agent, _meta) the loader must ignore.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .defects import bad_date, make_invalid, set_none
from .leadfields import contact_fields
from .messy import blank, inject
from .names import UTM_CAMPAIGNS, UTM_MEDIUMS, UTM_SOURCES, WEB_MESSAGES
from .people import People, Records
from .rand import pick, rng_for, seq_ids, uuids
from .timefmt import fmt_ts
from .writers import n_rows, part_paths, write_jsonl

EXTRA_KEY_SHARE = 0.25
FORMS = ("contact-us", "demo-request", "pricing-quote", "whitepaper")
USER_AGENTS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "Mozilla/5.0 (iPhone; CPU iPhone "
               "OS 10_3 like Mac OS X)", "Mozilla/5.0 (Linux; Android 7.0) MicroMessenger/6.5")
# canonical key -> key used by each site
KEYS = {
    "global": {k: k for k in (
        "submission_id", "submitted_at", "form_id", "page_url", "first_name", "last_name",
        "email", "phone", "company", "job_title", "country", "message", "utm_source",
        "utm_medium", "utm_campaign", "consent")},
    "cn": {"submission_id": "id", "submitted_at": "created_at", "form_id": "form",
           "page_url": "url", "full_name": "name", "email": "email_address", "phone": "mobile",
           "company": "organization", "job_title": "title", "country": "country",
           "message": "comments", "utm_source": "utm_source", "utm_medium": "utm_medium",
           "utm_campaign": "utm_campaign", "consent": "marketing_consent"},
}


def write(out_dir: Path, people: People, records: Records, seed: int) -> list[tuple[Path, int]]:
    rows = records.of("web_forms")
    is_cn = people.country[records.person[rows]] == "CN"
    written = []
    for site, mask in (("global", ~is_cn), ("cn", is_cn)):
        rng = rng_for(seed, "web_forms", site)
        cols = _columns(people, records, rows[mask], rng, site)
        for path, start, stop in part_paths(out_dir, f"website_forms_{site}", "jsonl",
                                            n_rows(cols)):
            write_jsonl(_objects(cols, rng, site, start, stop), path)
            written.append((path, stop - start))
    return written


def _columns(people: People, records: Records, rows: np.ndarray, rng, site: str) -> dict:
    n = len(rows)
    first = 7_000_000 + people.id_offset
    f = contact_fields(people, records.person[rows], rng, chinese_tool=site == "cn")
    cols = {
        "submission_id": uuids(rng, n) if site == "global" else seq_ids("9", first, n, 7),
        "submitted_at": fmt_ts(records.ts[rows], "iso_z" if site == "global" else "iso_cn"),
        "form_id": (form := pick(rng, FORMS, n)),
        "page_url": "https://www.example.com/" + form,
        **{k: f[k] for k in ("first_name", "last_name", "full_name", "email", "phone",
                             "company", "job_title", "country")},
        "message": blank(pick(rng, WEB_MESSAGES, n), rng, 0.5),
        "utm_source": blank(pick(rng, UTM_SOURCES, n), rng, 0.4),
        "utm_medium": blank(pick(rng, UTM_MEDIUMS, n), rng, 0.4),
        "utm_campaign": blank(pick(rng, UTM_CAMPAIGNS, n), rng, 0.4),
        "consent": pick(rng, ("true", "false"), n, p=(0.7, 0.3)),
    }
    cols = {KEYS[site][k]: v for k, v in cols.items() if k in KEYS[site]}
    k = KEYS[site]
    inject(cols, rng, (k.get("last_name", "name"), k["company"], k["message"]))
    new_ids = ((lambda m: uuids(rng, m)) if site == "global"
               else (lambda m: seq_ids("9", first + n, m, 7)))
    return make_invalid(cols, rng, k["submission_id"], new_ids, {
        "bad_date": bad_date(k["submitted_at"]),
        "no_contact": set_none(k["email"], k["phone"]),
    })


def _objects(cols: dict, rng, site: str, start: int, stop: int):
    keys = list(cols)
    consent = KEYS[site]["consent"]
    extra = rng.random(stop - start) < EXTRA_KEY_SHARE
    octet = rng.integers(1, 255, stop - start)
    agent = rng.integers(0, len(USER_AGENTS), stop - start)
    for j, i in enumerate(range(start, stop)):
        obj = {}
        for key in keys:
            v = cols[key][i]
            if v is None and site == "global":
                continue  # this site omits empty fields, the other sends null
            if key == consent and v is not None:
                v = (v == "true") if site == "global" else ("yes" if v == "true" else "no")
            obj[key] = v
        if extra[j]:
            obj["ip_address"] = f"203.0.113.{octet[j]}"  # documentation range
            obj["user_agent"] = USER_AGENTS[agent[j]]
            obj["_meta"] = {"webhook": "v2", "retries": int(octet[j] % 3)}
        yield obj

