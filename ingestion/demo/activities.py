"""activities/: CRM activity exports (call/email/meeting/task), the bulk of the volume.

crm_activities[_partNNN].csv  UTF-8, canonical headers, every text value quoted,
                              occurred_at "2017-03-15 14:05:09" (07:00-20:59), each part
                              <= MAX_ROWS_PER_FILE rows, sorted by occurred_at.
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
import pyarrow as pa
import pyarrow.compute as pc

from . import config as C
from .defects import (
    BAD_ACTIVITY_TYPES,
    BAD_DURATIONS,
    apply_defects,
    bad_date,
    invalid_count,
    set_choice,
    set_none,
)
from .maven import Maven
from .people import OppWindows, People
from .rand import rng_for
from .timefmt import fmt_ts_arrow
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


def _flat(groups: tuple[tuple, ...]) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    values = pa.array([v for g in groups for v in g], pa.string())
    sizes = np.array([len(g) for g in groups])
    return values, np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes


def _strings(values) -> pa.Array:
    return pa.array(np.asarray(values, dtype=object), pa.string())


class _Context:
    """Per-run lookups shared by all parts, as Arrow arrays: parts only `take` from them."""

    def __init__(self, people: People, maven: Maven, windows: OppWindows, total: int):
        self.people, self.windows = people, windows
        self.opp_id, self.agent = _strings(maven.col("opportunity_id")), _strings(
            maven.col("sales_agent"))
        self.owner, self.email = _strings(people.owner), _strings(people.email)
        self.lead_id = _strings(people.lead_id)
        self.has_lead_id = np.asarray(people.lead_id != None)  # noqa: E711 (elementwise)
        conv = np.flatnonzero(people.opp >= 0)
        self.opp_person = np.full(maven.n_opp, -1)
        self.opp_person[people.opp[conv]] = conv
        cap = np.minimum(people.t0 + C.LEAD_ACTIVITY_WINDOW_DAYS * C.DAY, C.END_SEC)
        self.lead_end = np.where(people.opp >= 0, windows.end[np.maximum(people.opp, 0)], cap)
        self.opp_share = min(C.OPP_ACTIVITY_SHARE, C.OPP_ACTIVITY_CAP * maven.n_opp / total)
        self.subjects, self.outcomes = _flat(SUBJECTS), _flat(OUTCOMES)
        self.types = pa.array(TYPES, pa.string())
        self.directions = pa.array(("outbound", "inbound"), pa.string())
        self.minutes = pa.array([str(i) for i in range(1441)], pa.string())


def write(out_dir: Path, people: People, maven: Maven, windows: OppWindows, scale: float,
          seed: int) -> list[tuple[Path, int]]:
    total = round(C.ACTIVITIES_PER_UNIT * scale)
    per_part = math.floor(C.MAX_ROWS_PER_FILE / (1 + C.INVALID_ROW_RATE)) - 1  # room for bad rows
    n_parts = max(1, math.ceil(total / per_part))
    valid = np.diff(np.linspace(0, total, n_parts + 1).astype(int))
    rows = valid + np.array([invalid_count(int(m)) for m in valid])
    first = people.id_offset + np.concatenate([[0], np.cumsum(rows)[:-1]])  # ids run on
    ctx = _Context(people, maven, windows, max(total, 1))
    written = []
    for part in range(n_parts):
        rng = rng_for(seed, "activities", part)
        cols = _part(ctx, rng, int(first[part]), int(rows[part]), int(rows[part] - valid[part]))
        name = "crm_activities.csv" if n_parts == 1 else f"crm_activities_part{part + 1:03d}.csv"
        write_csv(cols, out_dir / name, quote_all=True)
        written.append((out_dir / name, int(rows[part])))
    return written


def _pick_grouped(rng, groups, kind: np.ndarray) -> pa.Array:
    values, offset, sizes = groups
    return values.take(offset[kind] + (rng.random(len(kind)) * sizes[kind]).astype(np.int64))


def _null_unless(keep: np.ndarray, arr: pa.Array) -> pa.Array:
    return pc.if_else(pa.array(keep), arr, pa.scalar(None, pa.string()))


def _part(ctx: _Context, rng: np.random.Generator, first: int, m: int, n_bad: int) -> dict:
    """m rows sorted by time; n_bad of them are then broken (they are extra to the volume)."""
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

    has_person = p >= 0
    share = np.where(on_opp, OPP_LEAD_SHARE, LEAD_ID_SHARE)
    with_lead = has_person & ctx.has_lead_id[pp] & (rng.random(m) < share)
    want_email = np.where(on_opp, rng.random(m) < OPP_LEAD_SHARE, rng.random(m) < EMAIL_SHARE)
    with_email = has_person & (want_email | (~on_opp & ~with_lead))  # a lead row needs a link
    email = ctx.email.take(pp)
    upper = pa.array(rng.random(m) < EMAIL_UPPER_RATE)
    email = pc.if_else(upper, pc.utf8_upper(email), email)

    kind = rng.choice(len(TYPES), m, p=TYPE_P)
    minutes = np.where(kind == 0, rng.integers(0, 46, m),
                       np.array(MEETING_MINUTES)[rng.integers(0, len(MEETING_MINUTES), m)])
    outbound = (rng.random(m) >= 0.75).astype(np.int64)
    ids = pc.utf8_lpad(pa.array(np.arange(first + 1, first + m + 1)).cast(pa.string()), 9, "0")
    cols = {
        "activity_id": pc.binary_join_element_wise(pa.scalar("ACT-"), ids, ""),
        "activity_type": ctx.types.take(kind),
        "occurred_at": fmt_ts_arrow(ts, "iso_space"),
        "rep_name": pc.if_else(pa.array(on_opp), ctx.agent.take(o), ctx.owner.take(pp)),
        "lead_id": _null_unless(with_lead, ctx.lead_id.take(pp)),
        "contact_email": _null_unless(with_email, email),
        "opportunity_id": _null_unless(on_opp, ctx.opp_id.take(o)),
        "direction": _null_unless(kind < 2, ctx.directions.take(outbound)),
        "subject": _pick_grouped(rng, ctx.subjects, kind),
        "outcome": _pick_grouped(rng, ctx.outcomes, kind),
        "duration_minutes": _null_unless((kind == 0) | (kind == 2), ctx.minutes.take(minutes)),
    }
    apply_defects(cols, np.sort(rng.choice(m, n_bad, replace=False)), rng, {
        "missing_id": set_none("activity_id"),
        "bad_date": bad_date("occurred_at"),
        "negative_duration": set_choice("duration_minutes", BAD_DURATIONS),
        "bad_type": set_choice("activity_type", BAD_ACTIVITY_TYPES),
        "no_link": set_none("lead_id", "contact_email", "opportunity_id"),
    })
    return cols
