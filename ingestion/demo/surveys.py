"""surveys/: CSAT (1-5) and NPS (0-10) answers from accounts of won deals.

nps_responses.csv   canonical headers, responded_at "2017-03-15T14:05:09Z".
csat_responses.csv  alias headers (id, submitted_at, survey, rating, company, email, deal_id,
                    sales_agent, feedback), submitted_at "15.03.2017 14:05".
SURVEYED_WON_SHARE of won deals with an account answer, 1-45 days after their last invoice.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import config as C
from .defects import BAD_SCORES, bad_date, make_invalid, set_choice
from .maven import Maven
from .messy import blank
from .names import SURVEY_COMMENTS, WESTERN_FIRST, WESTERN_LAST
from .orders import plan
from .people import People, business_time, obj, slug
from .rand import pick, rng_for, seq_ids
from .timefmt import fmt_ts
from .writers import write_csv_parts

CSAT_P = (0.05, 0.08, 0.17, 0.40, 0.30)
NPS_P = (0.02, 0.02, 0.03, 0.03, 0.04, 0.06, 0.08, 0.12, 0.2, 0.2, 0.2)
ALIASES = {"response_id": "id", "responded_at": "submitted_at", "survey_type": "survey",
           "score": "rating", "account_name": "company", "contact_email": "email",
           "opportunity_id": "deal_id", "rep_name": "sales_agent", "comment": "feedback"}


def write(out_dir: Path, people: People, maven: Maven, seed: int) -> list[tuple[Path, int]]:
    rng = rng_for(seed, "surveys")
    inv = plan(maven, seed)
    last = np.full(maven.n_opp, -1)
    np.maximum.at(last, inv.opp, inv.day)
    account = maven.col("account")
    ok = (last >= 0) & (last < C.LAST_DAY) & (account != "")
    opps = np.flatnonzero(ok & (rng.random(maven.n_opp) < C.SURVEYED_WON_SHARE))
    room = np.minimum(45, C.LAST_DAY - last[opps])
    ts = business_time(rng, last[opps] + 1 + (rng.random(len(opps)) * room).astype(np.int64))
    email = _contacts(people, maven, opps, rng)
    written = []
    for kind, share in (("nps", 0.6), ("csat", 0.7)):
        take = rng.random(len(opps)) < share
        order = np.argsort(ts[take], kind="stable")
        o, t, e = opps[take][order], ts[take][order], email[take][order]
        cols = _columns(maven, o, t, e, rng_for(seed, "surveys", kind), kind)
        written += write_csv_parts(cols, out_dir, f"{kind}_responses")
    return written


def _contacts(people: People, maven: Maven, opps: np.ndarray, rng) -> np.ndarray:
    """The converted lead's email when there is one, else someone at the account."""
    person = np.full(maven.n_opp, -1)
    conv = np.flatnonzero(people.opp >= 0)
    person[people.opp[conv]] = conv
    first = pick(rng, WESTERN_FIRST, len(opps))
    last = pick(rng, WESTERN_LAST, len(opps))
    account = maven.col("account")[opps]
    out = [people.email[person[o]] if person[o] >= 0 else f"{slug(f)}.{slug(sn)}@{slug(a)}.com"
           for o, f, sn, a in zip(opps, first, last, account, strict=True)]
    return obj(out)


def _columns(maven: Maven, o, ts, email, rng, kind: str) -> dict:
    n = len(o)
    probs = NPS_P if kind == "nps" else CSAT_P
    score = rng.choice(len(probs), n, p=probs) + (0 if kind == "nps" else 1)
    prefix = "NPS-" if kind == "nps" else "CSAT-"
    cols = {
        "response_id": seq_ids(prefix, 1, n, 6),
        "responded_at": fmt_ts(ts, "iso_z" if kind == "nps" else "eu_min"),
        "survey_type": np.full(n, kind, dtype=object),
        "score": obj(str(s) for s in score),
        "account_name": maven.col("account")[o],
        "contact_email": blank(email, rng, C.MISSING_OPTIONAL_RATE),
        "opportunity_id": maven.col("opportunity_id")[o],
        "rep_name": maven.col("sales_agent")[o],
        "comment": blank(pick(rng, SURVEY_COMMENTS, n), rng, 0.6),
    }
    if kind == "csat":
        cols = {ALIASES[k]: v for k, v in cols.items()}
    k = ALIASES if kind == "csat" else {c: c for c in ALIASES}
    return make_invalid(cols, rng, k["response_id"], lambda m: seq_ids(prefix, n + 1, m, 6), {
        "bad_date": bad_date(k["responded_at"]),
        "bad_score": set_choice(k["score"], BAD_SCORES),
    })
