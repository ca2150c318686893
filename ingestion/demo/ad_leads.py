"""ad_leads/: lead-form exports from ad platforms, each in its platform's encoding.

facebook_lead_ads.tsv     UTF-16 LE with BOM, tab-separated; ids "l:<15 digits>",
                          created_time "2017-03-15T14:05:09+00:00", country ISO code.
linkedin_leads.csv        UTF-8 with BOM, CRLF; alias headers (created_at, campaign, ad, form, name,
                          email_address, ...); created_at "03/15/2017 14:05".
baidu_wechat_leads.csv    GB18030, CRLF; Chinese headers (线索id, 提交时间, 平台, 广告系列,
                          姓名, 邮箱, 手机, 公司, 职位, 城市, 国家); 提交时间 "2017-03-15 14:05:09".
Chinese people mostly come through Baidu/WeChat, others through Facebook/LinkedIn.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .defects import bad_date, make_invalid, set_none
from .leadfields import contact_fields
from .messy import inject
from .names import AD_CAMPAIGNS, AD_FORMS, AD_NAMES, CN_AD_CAMPAIGNS, CN_PLATFORMS
from .people import People, Records
from .rand import pick, rng_for, seq_ids
from .timefmt import fmt_ts
from .writers import write_csv_parts

# platform -> (file stem, ext, encoding, delimiter, eol, ts style, country style, chinese)
PLATFORMS = {
    "facebook": ("facebook_lead_ads", "tsv", "utf-16", "\t", "\n", "iso_utc", "iso", False),
    "linkedin": ("linkedin_leads", "csv", "utf-8-sig", ",", "\r\n", "us_min", "en", False),
    "baidu": ("baidu_wechat_leads", "csv", "gb18030", ",", "\r\n", "iso_space", "cn", True),
}
HEADERS = {  # canonical -> header, per platform
    "facebook": {"lead_id": "id", "created_time": "created_time", "ad_name": "ad_name",
                 "campaign_name": "campaign_name", "form_name": "form_name",
                 "platform": "platform", "full_name": "full_name", "email": "email",
                 "phone": "phone_number", "company": "company_name", "job_title": "job_title",
                 "city": "city", "country": "country"},
    "linkedin": {"lead_id": "lead_id", "created_time": "created_at", "campaign_name": "campaign",
                 "ad_name": "ad", "form_name": "form", "full_name": "name",
                 "email": "email_address", "phone": "phone_number", "company": "company_name",
                 "job_title": "title", "city": "city", "country": "country"},
    "baidu": {"lead_id": "线索id", "created_time": "提交时间", "platform": "平台",
              "campaign_name": "广告系列", "full_name": "姓名", "email": "邮箱", "phone": "手机",
              "company": "公司", "job_title": "职位", "city": "城市", "country": "国家"},
}
ID_PREFIX = {"facebook": "l:27", "linkedin": "urn:li:lead:", "baidu": "BD"}


def write(out_dir: Path, people: People, records: Records, seed: int) -> list[tuple[Path, int]]:
    rows = records.of("ad_leads")
    rng = rng_for(seed, "ad_leads")
    is_cn = people.country[records.person[rows]] == "CN"
    u, v = rng.random(len(rows)), rng.random(len(rows))
    platform = np.where(is_cn & (u < 0.8), "baidu", np.where(v < 0.55, "facebook", "linkedin"))
    written = []
    for name, (stem, ext, enc, delim, eol, *_) in PLATFORMS.items():
        cols = _columns(people, records, rows[platform == name], rng_for(seed, "ad_leads", name),
                        name)
        written += write_csv_parts(cols, out_dir, stem, ext, encoding=enc, delimiter=delim,
                                   eol=eol)
    return written


def _columns(people: People, records: Records, rows: np.ndarray, rng, name: str) -> dict:
    n = len(rows)
    *_, ts_style, country_style, cn = PLATFORMS[name]
    f = contact_fields(people, records.person[rows], rng, chinese_tool=cn,
                       country_style=country_style)
    width = 13 if name == "facebook" else 9
    first = people.id_offset + 1
    values = {
        "lead_id": seq_ids(ID_PREFIX[name], first, n, width),
        "created_time": fmt_ts(records.ts[rows], ts_style),
        "platform": pick(rng, CN_PLATFORMS if cn else ("fb", "ig"), n),
        "campaign_name": pick(rng, CN_AD_CAMPAIGNS if cn else AD_CAMPAIGNS, n),
        "ad_name": pick(rng, AD_NAMES, n),
        "form_name": pick(rng, AD_FORMS, n),
        **f,
    }
    h = HEADERS[name]
    cols = {h[k]: values[k] for k in h}
    inject(cols, rng, (h["full_name"], h["company"]))
    def new_ids(m: int) -> np.ndarray:
        return seq_ids(ID_PREFIX[name], first + n, m, width)

    return make_invalid(cols, rng, h["lead_id"], new_ids, {
        "bad_date": bad_date(h["created_time"]),
        "no_contact": set_none(h["email"], h["phone"]),
    })
