"""activities/: CRM activity exports (call/email/meeting/task), the bulk of the volume.

crm_activities[_partNNN].csv  UTF-8, canonical headers, occurred_at "2017-03-15 14:05:09",
                              each part <= MAX_ROWS_PER_FILE rows, sorted by occurred_at.
An activity is linked to an opportunity (opportunity_id, sometimes also the converted lead)
or to a lead (lead_id when the lead is in the Salesforce report, else contact_email only),
lies between the lead's creation and the deal's close (or LEAD_ACTIVITY_WINDOW_DAYS after
creation for unconverted leads) and is logged by the owning rep.
Parts are generated independently from their own seeded stream to keep memory flat.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from . import config as C
from .defects import BAD_ACTIVITY_TYPES, BAD_DURATIONS, bad_date, make_invalid, set_choice, set_none
from .maven import Maven
from .people import OppWindows, People, obj
from .rand import rng_for, seq_ids
from .timefmt import fmt_ts
from .writers import write_csv

TYPES = ("call", "email", "meeting", "task")
TYPE_P = (0.35, 0.40, 0.12, 0.13)
SUBJECTS = (
    ("Intro call", "Follow-up call", "Discovery call", "Pricing call"),
    ("Re: pricing", "Proposal sent", "Intro", "Follow-up", "Contract draft"),
    ("Demo", "On-site visit", "QBR", "Negotiation"),
    ("Send quote", "Update CRM", "Prepare proposal", "Check credit"),
)
OUTCOMES = (
    ("connected", "left voicemail", "no answer", "busy"),
    ("sent", "opened", "replied", "bounced"),
    ("held", "no show", "rescheduled"),
    ("completed", "open", "deferred"),
)
MEETING_MINUTES = (15, 30, 45, 60, 90, 120)
LEAD_ID_SHARE = 0.8  # lead activities that carry the CRM lead id (when the lead has one)
EMAIL_SHARE = 0.5  # ... that carry the contact's email as well
OPP_LEAD_SHARE = 0.3  # opportunity activities that also name the converted lead / email
EMAIL_UPPER_RATE = 0.03
WORK_START, WORK_LEN = 7 * 3600, 14 * 3600  # activities are logged 07:00-20:59
ROWS_PER_PART = math.floor(C.MAX_ROWS_PER_FILE / (1 + C.INVALID_ROW_RATE)) - 1


def _flat(groups: tuple[tuple, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    values = obj(v for g in groups for v in g)
    sizes = np.array([len(g) for g in groups])
    return values, np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes


class _Context:
    """Per-run lookups shared by all parts."""

    def __init__(self, people: People, maven: Maven, windows: OppWindows, total: int):
        self.people, self.windows = people, windows
        self.opp_id, self.agent = maven.col("opportunity_id"), maven.col("sales_agent")
        conv = np.flatnonzero(people.opp >= 0)
        self.opp_person = np.full(maven.n_opp, -1)
        self.opp_person[people.opp[conv]] = conv
        cap = np.minimum(people.t0 + C.LEAD_ACTIVITY_WINDOW_DAYS * C.DAY, C.END_SEC)
        self.lead_end = np.where(people.opp >= 0, windows.end[np.maximum(people.opp, 0)], cap)
        self.opp_share = min(C.OPP_ACTIVITY_SHARE, C.OPP_ACTIVITY_CAP * maven.n_opp / total)
        self.subjects, self.outcomes = _flat(SUBJECTS), _flat(OUTCOMES)
        self.minutes = obj(str(i) for i in range(1441))


def write(out_dir: Path, people: People, maven: Maven, windows: OppWindows, scale: float,
          seed: int) -> list[tuple[Path, int]]:
    total = round(C.ACTIVITIES_PER_UNIT * scale)
    n_parts = max(1, math.ceil(total / ROWS_PER_PART))
    bounds = np.linspace(0, total, n_parts + 1).astype(int)
    ctx = _Context(people, maven, windows, max(total, 1))
    written = []
    for part in range(n_parts):
        rng = rng_for(seed, "activities", part)
        cols = _part(ctx, rng, int(bounds[part]), int(bounds[part + 1] - bounds[part]), part)
        name = "crm_activities.csv" if n_parts == 1 else f"crm_activities_part{part + 1:03d}.csv"
        write_csv(cols, out_dir / name, quote_all=True)
        written.append((out_dir / name, len(cols["activity_id"])))
    return written


def _pick_grouped(rng, groups, kind: np.ndarray) -> np.ndarray:
    values, offset, sizes = groups
    return values[offset[kind] + (rng.random(len(kind)) * sizes[kind]).astype(np.int64)]


def _part(ctx: _Context, rng: np.random.Generator, first: int, m: int, part: int) -> dict:
    pe, w = ctx.people, ctx.windows
    on_opp = rng.random(m) < ctx.opp_share
    o = rng.integers(0, len(ctx.opp_id), m)
    p = np.where(on_opp, ctx.opp_person[o], rng.integers(0, len(pe), m))  # -1: opp w/o lead
    pp = np.maximum(p, 0)
    start = np.where(on_opp, w.origin[o], pe.t0[pp])
    end = np.where(on_opp, w.end[o], ctx.lead_end[pp])
    day = start // C.DAY + (rng.random(m) * (end // C.DAY - start // C.DAY + 1)).astype(np.int64)
    ts = np.clip(day * C.DAY + WORK_START + rng.integers(0, WORK_LEN, m), start, end)
    order = np.argsort(ts, kind="stable")
    on_opp, o, p, pp, ts = on_opp[order], o[order], p[order], pp[order], ts[order]

    lead_id = pe.lead_id[pp]
    has_person = p >= 0
    share = np.where(on_opp, OPP_LEAD_SHARE, LEAD_ID_SHARE)
    lead_id[~has_person | (rng.random(m) >= share)] = None
    email = pe.email[pp]
    want_email = np.where(on_opp, rng.random(m) < OPP_LEAD_SHARE, rng.random(m) < EMAIL_SHARE)
    keep_email = has_person & (want_email | (~on_opp & (lead_id == None)))  # noqa: E711
    email[~keep_email] = None
    for i in np.flatnonzero(keep_email & (rng.random(m) < EMAIL_UPPER_RATE)):
        email[i] = email[i].upper()

    kind = rng.choice(len(TYPES), m, p=TYPE_P)
    minutes = np.where(kind == 0, rng.integers(0, 46, m),
                       np.array(MEETING_MINUTES)[rng.integers(0, len(MEETING_MINUTES), m)])
    duration = ctx.minutes[minutes]
    duration[(kind == 1) | (kind == 3)] = None  # email/task: no duration
    direction = np.where(rng.random(m) < 0.75, "outbound", "inbound").astype(object)
    direction[kind >= 2] = None

    cols = {
        "activity_id": seq_ids("ACT-", first + 1, m, 9),
        "activity_type": obj(TYPES)[kind],
        "occurred_at": fmt_ts(ts, "iso_space"),
        "rep_name": np.where(on_opp, ctx.agent[o], pe.owner[pp]),
        "lead_id": lead_id,
        "contact_email": email,
        "opportunity_id": np.where(on_opp, ctx.opp_id[o], None),
        "direction": direction,
        "subject": _pick_grouped(rng, ctx.subjects, kind),
        "outcome": _pick_grouped(rng, ctx.outcomes, kind),
        "duration_minutes": duration,
    }
    return make_invalid(cols, rng, "activity_id",
                        lambda k: seq_ids("ACT-9", part * 100_000, k, 8), {
                            "bad_date": bad_date("occurred_at"),
                            "negative_duration": set_choice("duration_minutes", BAD_DURATIONS),
                            "bad_type": set_choice("activity_type", BAD_ACTIVITY_TYPES),
                            "no_link": set_none("lead_id", "contact_email", "opportunity_id"),
                        })
