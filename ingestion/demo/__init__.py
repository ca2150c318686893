"""Seeded, scalable, realistically messy demo data for every landing channel.

Why: the loader, identity resolution and dashboards need data that fails like real exports
(encodings, header aliases, date formats, duplicates, bad rows) yet joins up like a real
business. Everything hangs off the Maven "CRM Sales Opportunities" export (copied from
`maven_dir`, or synthesised in its layout when None): its reps own the leads, a share of
leads converts into its opportunities, its won deals are invoiced and surveyed.

Files (per channel folder; big outputs split into `_partNNN` files of <= 500,000 rows):
  crm_export/        accounts.csv, products.csv, sales_teams.csv, sales_pipeline.csv (Maven,
                     byte copies), salesforce_leads.csv (presets/salesforce.yml headers),
                     hubspot_contacts.csv (presets/hubspot.yml headers)
  web_forms/         website_forms_global.jsonl (Z), website_forms_cn.jsonl (+08:00)
  marketing_events/  tradeshow_attendees.csv, webinar_attendees.xlsx,
                     cn_roadshow_signups.csv (GB18030, Chinese headers)
  referrals/         customer_referrals.csv, partner_referrals.csv ($ ¥ € £ amounts)
  ad_leads/          facebook_lead_ads.tsv (UTF-16 LE + BOM), linkedin_leads.csv (UTF-8 BOM,
                     CRLF), baidu_wechat_leads.csv (GB18030, Chinese headers, CRLF)
  activities/        crm_activities[_partNNN].csv
  orders/            erp_invoices.csv, erp_invoices_west.xlsx
  surveys/           nps_responses.csv, csat_responses.csv
Each module's docstring gives its headers, encodings and date formats.

Rows per scale unit (scale=1; invalid rows included, roughly +0.75%):
  lead channels 10,075: web_forms 3,526, marketing_events 2,518, referrals 1,007,
  ad_leads 3,023 (config.LEADS_PER_UNIT); people = 85% of lead rows (15% are repeats).
  activities 100,750. crm_export: salesforce_leads ~4,090 (converted people + 30% of the
  rest), hubspot_contacts ~400, plus the Maven files.
  With the real Maven export (8,800 opportunities, fixed): converted leads
  min(8,800, 25% of people) = 2,125 at scale 1 and every opportunity from scale ~4.1 up;
  orders ~6,440 and surveys ~1,770 rows at any scale. Synthetic Maven: 2,400 opportunities
  per unit, orders ~1,750 and surveys ~390 per unit.
  scale=100: 1,007,501 lead rows, 10,074,991 activity rows.

Defect rates (config.py): invalid rows 0.75% per file (0.5-1% in files >= 250 rows, none
under 100 rows), each broken once: missing required id, unparseable date, no email and no
phone, amount "N/A" (referrals, orders), score out of range (surveys), negative duration or
activity_type not allowed or no link (activities). Field mess on valid rows: email case 12%,
stray whitespace 5%, full-width 0.5% (3% in Chinese tools), missing email 8% / phone 15%
(never both), other optional fields 10%, name typos 2%, company typos 3% and variants 8%,
pinyin for Chinese names 50% in English tools, 3 injection strings per file.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from . import (
    activities,
    ad_leads,
    crm_reports,
    history,
    marketing_events,
    maven,
    orders,
    people,
    referrals,
    surveys,
    targets,
    web_forms,
)

CHANNELS = ("crm_export", "web_forms", "marketing_events", "referrals", "ad_leads",
            "activities", "orders", "surveys")
# Files a previous run may have left (other scales make other part counts); only these are
# removed before writing, anything else in landing_dir is left alone.
OWN_FILES = {
    "crm_export": (*maven.FILES, "salesforce_leads*.csv", "hubspot_contacts*.csv",
                   "sales_pipeline_history*.csv", "sales_teams_history*.csv"),
    "web_forms": ("website_forms_global*.jsonl", "website_forms_cn*.jsonl"),
    "marketing_events": ("tradeshow_attendees*.csv", "webinar_attendees*.xlsx",
                         "cn_roadshow_signups*.csv"),
    "referrals": ("customer_referrals*.csv", "partner_referrals*.csv"),
    "ad_leads": ("facebook_lead_ads*.tsv", "linkedin_leads*.csv", "baidu_wechat_leads*.csv"),
    "activities": ("crm_activities*.csv",),
    "orders": ("erp_invoices*.csv", "erp_invoices_west*.xlsx"),
    "surveys": ("nps_responses*.csv", "csat_responses*.csv"),
}


def generate(landing_dir: Path, scale: float = 1.0, seed: int = 42,
             maven_dir: Path | None = None, id_offset: int = 0, years: int = 0) -> dict[str, dict]:
    """Write demo files into landing_dir/<channel>/ ; return {channel: {"files": n, "rows": n}}.

    maven_dir: the Maven CRM export to copy and build around; None synthesises one.
    years: deal history to add before the Maven window (``history.py``; 0: none).
    id_offset: running ids of people, leads and activities start after this number, so a later
    delivery (a delta on top of an earlier generation) brings new records instead of re-sending
    the earlier ids with other contents. Orders and surveys follow the Maven deals, unchanged.
    Same seed + scale (+ same Maven files) gives byte-identical output.
    """
    if scale <= 0:
        raise ValueError("scale must be > 0")
    landing_dir = Path(landing_dir)
    dirs = {ch: landing_dir / ch for ch in CHANNELS}
    for ch, d in dirs.items():
        d.mkdir(parents=True, exist_ok=True)
        for pattern in OWN_FILES[ch]:
            for old in sorted(d.glob(pattern)):
                old.unlink()

    crm = dirs["crm_export"]
    mv = (maven.load(Path(maven_dir), crm) if maven_dir is not None
          else maven.synthesise(seed, scale, crm))
    who, records, windows = people.build(seed, scale, mv, id_offset)
    steps = {
        "crm_export": lambda: [(crm / name, n) for name, n in mv.file_rows.items()]
        + crm_reports.write_salesforce(crm, who, mv, seed)
        + crm_reports.write_hubspot(crm, who, mv, scale, seed)
        + history.write(crm, mv, years, seed),
        "web_forms": lambda: web_forms.write(dirs["web_forms"], who, records, seed),
        "marketing_events": lambda: marketing_events.write(dirs["marketing_events"], who, records,
                                                           seed),
        "referrals": lambda: referrals.write(dirs["referrals"], who, records, mv, seed),
        "ad_leads": lambda: ad_leads.write(dirs["ad_leads"], who, records, seed),
        "activities": lambda: activities.write(dirs["activities"], who, mv, windows, scale, seed),
        "orders": lambda: orders.write(dirs["orders"], mv, seed),
        "surveys": lambda: surveys.write(dirs["surveys"], who, mv, seed),
    }
    written = {}
    for channel, step in steps.items():
        written[channel] = step()
        pa.default_memory_pool().release_unused()  # peak memory: one channel at a time
    targets.write(landing_dir, mv)  # finance's targets (not a channel: split into quotas on schedule)
    return {ch: {"files": len(w), "rows": sum(n for _, n in w)} for ch, w in written.items()}
