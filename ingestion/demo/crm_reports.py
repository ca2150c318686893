"""crm_export/ reports next to the Maven files: a Salesforce leads report, HubSpot contacts.

salesforce_leads.csv   headers of presets/salesforce.yml -> leads, every value quoted (as
                       Salesforce exports); every converted person
                       (Lead Status "Closed - Converted", Converted Opportunity ID = the Maven
                       opportunity, Company / Account = its account, Lead Owner = its agent)
                       plus SALESFORCE_UNCONVERTED_SHARE of the rest; Create Date "03/15/2017".
hubspot_contacts.csv   headers of presets/hubspot.yml -> contacts; Create Date
                       "2017-03-15 14:05" (HubSpot's export format).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from . import config as C
from .defects import bad_date, make_invalid, set_none
from .leadfields import contact_fields
from .maven import Maven
from .messy import inject
from .people import LEAD_SOURCE, People, obj, salesforce_id
from .rand import pick, rng_for
from .timefmt import fmt_date, fmt_ts
from .writers import write_csv_parts

SF_STATUSES = ("Open - Not Contacted", "Working - Contacted", "Closed - Not Converted")
HS_STAGES = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead")


def write_salesforce(out_dir: Path, people: People, maven: Maven,
                     seed: int) -> list[tuple[Path, int]]:
    rng = rng_for(seed, "salesforce")
    p = np.flatnonzero(people.lead_id != None)  # noqa: E711 (elementwise on object array)
    p = p[np.argsort(people.t0[p], kind="stable")]
    n = len(p)
    f = contact_fields(people, p, rng, country_style="en")
    opp = people.opp[p]
    conv = opp >= 0
    account = np.where(conv, maven.col("account")[np.maximum(opp, 0)], "")
    company = np.where(account != "", account, f["company"])
    cols = {
        "Lead ID": people.lead_id[p],
        "First Name": f["first_name"], "Last Name": f["last_name"],
        "Email": f["email"], "Phone": f["phone"], "Company / Account": company,
        "Title": f["job_title"], "Industry": people.industry[p], "Country": f["country"],
        "Lead Source": obj(LEAD_SOURCE)[people.home_channel[p]],
        "Lead Status": np.where(conv, "Closed - Converted", pick(rng, SF_STATUSES, n)),
        "Lead Owner": people.owner[p],
        "Create Date": fmt_date(people.t0[p] // C.DAY, "us"),
        "Converted Opportunity ID": np.where(conv, maven.col("opportunity_id")[np.maximum(opp, 0)],
                                             None),
    }
    inject(cols, rng, ("Last Name", "Title"))
    first_invalid = 900_000_000 + people.id_offset
    cols = make_invalid(cols, rng, "Lead ID",
                        lambda m: obj(salesforce_id("00Q", first_invalid + k) for k in range(m)), {
                            "bad_date": bad_date("Create Date"),
                            "no_contact": set_none("Email", "Phone"),
                        })
    return write_csv_parts(cols, out_dir, "salesforce_leads", quote_all=True)


def write_hubspot(out_dir: Path, people: People, maven: Maven, scale: float,
                  seed: int) -> list[tuple[Path, int]]:
    rng = rng_for(seed, "hubspot")
    m = min(len(people), math.ceil(C.HUBSPOT_CONTACTS_PER_UNIT * scale))
    p = rng.choice(len(people), m, replace=False)
    p = p[np.argsort(people.t0[p], kind="stable")]
    f = contact_fields(people, p, rng, country_style="free")
    opp = people.opp[p]
    won = maven.col("deal_stage")[np.maximum(opp, 0)] == "Won"
    stage = np.where(opp < 0, pick(rng, HS_STAGES, m), np.where(won, "customer", "opportunity"))
    record_id = 1000 + people.id_offset + np.cumsum(rng.integers(1, 60, m))
    cols = {
        "Record ID": obj(str(x) for x in record_id),
        "First Name": f["first_name"], "Last Name": f["last_name"], "Email": f["email"],
        "Phone Number": f["phone"], "Company Name": f["company"], "Job Title": f["job_title"],
        "Lifecycle Stage": stage.astype(object), "Contact owner": people.owner[p],
        "Create Date": fmt_ts(people.t0[p], "iso_min"),
    }
    inject(cols, rng, ("Last Name", "Company Name"))
    top = int(record_id[-1]) if m else 1000
    cols = make_invalid(cols, rng, "Record ID",
                        lambda k: obj(str(top + 1 + i) for i in range(k)), {
                            "bad_date": bad_date("Create Date"),
                            "no_contact": set_none("Email", "Phone Number"),
                        })
    return write_csv_parts(cols, out_dir, "hubspot_contacts")
