"""Seeded, scalable, realistically messy demo data for every landing channel.

TODO docstring
"""

from __future__ import annotations

from pathlib import Path

from . import (
    activities,
    ad_leads,
    crm_reports,
    marketing_events,
    maven,
    orders,
    people,
    referrals,
    surveys,
    web_forms,
)

CHANNELS = ("crm_export", "web_forms", "marketing_events", "referrals", "ad_leads",
            "activities", "orders", "surveys")
# Files a previous run may have left (other scales make other part counts); only these are
# removed before writing, anything else in landing_dir is left alone.
OWN_FILES = {
    "crm_export": (*maven.FILES, "salesforce_leads*.csv", "hubspot_contacts*.csv"),
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
             maven_dir: Path | None = None) -> dict[str, dict]:
    """Write demo files into landing_dir/<channel>/ ; return {channel: {"files": n, "rows": n}}.

    maven_dir: the Maven CRM export to copy and build around; None synthesises one.
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
    who, records, windows = people.build(seed, scale, mv)
    written = {
        "crm_export": [(crm / name, n) for name, n in mv.file_rows.items()]
        + crm_reports.write_salesforce(crm, who, mv, seed)
        + crm_reports.write_hubspot(crm, who, mv, scale, seed),
        "web_forms": web_forms.write(dirs["web_forms"], who, records, seed),
        "marketing_events": marketing_events.write(dirs["marketing_events"], who, records, seed),
        "referrals": referrals.write(dirs["referrals"], who, records, mv, seed),
        "ad_leads": ad_leads.write(dirs["ad_leads"], who, records, seed),
        "activities": activities.write(dirs["activities"], who, mv, windows, scale, seed),
        "orders": orders.write(dirs["orders"], mv, seed),
        "surveys": surveys.write(dirs["surveys"], who, mv, seed),
    }
    return {ch: {"files": len(w), "rows": sum(n for _, n in w)} for ch, w in written.items()}
