"""marketing_events/: attendee lists from three event tools.

tradeshow_attendees.csv    UTF-8, canonical headers; event_date "2017-03-15",
                           registered_at "03/15/2017 14:05", attended Yes/No.
webinar_attendees.xlsx     alias headers (event_code, event, date, registration_time,
                           firstname, lastname, e_mail, ...); native Excel date/datetime and
                           boolean cells.
cn_roadshow_signups.csv    GB18030, Chinese headers (活动名称, 活动日期, 姓名, 邮箱,
                           手机, 公司, 职位, 国家, 是否参加) plus event_id and
                           registration_time; 活动日期 "2017年3月15日", registration_time
                           "2017/03/15 14:05", 是否参加 是/否.
Every registration precedes its event date (events are the next one in the series).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import config as C
from .defects import bad_date, make_invalid, set_none
from .leadfields import contact_fields
from .messy import inject
from .people import People, Records, obj
from .rand import rng_for
from .timefmt import day_date, fmt_date, fmt_ts
from .writers import write_csv_parts, write_xlsx_parts

EXPO_CITIES = ("Chicago", "London", "San Francisco", "Berlin", "New York", "Singapore")
WEBINAR_TOPICS = ("GTX Pro deep dive", "Pipeline hygiene 101", "MG Advanced roadmap",
                  "Customer story: Isdom", "Pricing Q&A")
CN_CITIES = ("上海", "北京", "深圳", "杭州", "成都")
# series -> (days between events, event id prefix)
SERIES = {"tradeshow": (28, "EXPO-"), "webinar": (7, "WBN-"), "roadshow": (14, "RS-")}
ATTEND_RATE = 0.65


def _calendar(series: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Event days (ending on the last day of the period), ids and names."""
    step, prefix = SERIES[series]
    days = np.arange(C.LAST_DAY, -1, -step)[::-1]
    ids, names = [], []
    for i, d in enumerate(days):
        date = day_date(d)
        ids.append(f"{prefix}{date:%Y%m%d}")
        if series == "tradeshow":
            names.append(f"Sales Tech Expo {EXPO_CITIES[i % len(EXPO_CITIES)]} {date:%b %Y}")
        elif series == "webinar":
            names.append(f"Webinar: {WEBINAR_TOPICS[i % len(WEBINAR_TOPICS)]}")
        else:
            names.append(f"{date.year}{CN_CITIES[i % len(CN_CITIES)]}客户交流会")
    return days, obj(ids), obj(names)


def write(out_dir: Path, people: People, records: Records, seed: int) -> list[tuple[Path, int]]:
    rng = rng_for(seed, "marketing_events")
    rows = records.of("marketing_events")
    is_cn = people.country[records.person[rows]] == "CN"
    u, v = rng.random(len(rows)), rng.random(len(rows))
    series = np.where(is_cn & (u < 0.75), "roadshow", np.where(v < 0.55, "tradeshow", "webinar"))
    written = []
    for name in ("tradeshow", "webinar", "roadshow"):
        cols = _columns(people, records, rows[series == name],
                        rng_for(seed, "marketing_events", name), name)
        if name == "tradeshow":
            written += write_csv_parts(cols, out_dir, "tradeshow_attendees")
        elif name == "roadshow":
            written += write_csv_parts(cols, out_dir, "cn_roadshow_signups", encoding="gb18030")
        else:
            written += write_xlsx_parts(cols, out_dir, "webinar_attendees", "Attendees", {
                "date": "date", "registration_time": "datetime", "checked_in": "bool"})
    return written


def _columns(people: People, records: Records, rows: np.ndarray, rng, series: str) -> dict:
    n = len(rows)
    days, ids, names = _calendar(series)
    ev = np.searchsorted(days, records.ts[rows] // C.DAY)  # next event on/after registration
    cn = series == "roadshow"
    f = contact_fields(people, records.person[rows], rng, chinese_tool=cn,
                       country_style="cn" if cn else "free")
    attended = rng.random(n) < ATTEND_RATE
    if series == "tradeshow":
        cols = {"event_id": ids[ev], "event_name": names[ev],
                "event_date": fmt_date(days[ev], "iso"),
                "registered_at": fmt_ts(records.ts[rows], "us_min"),
                **{k: f[k] for k in ("first_name", "last_name", "email", "phone", "company",
                                     "job_title", "country")},
                "attended": np.where(attended, "Yes", "No").astype(object)}
        keys = ("event_id", "event_date", "email", "phone", "last_name", "company")
    elif series == "webinar":
        cols = {"event_code": ids[ev], "event": names[ev], "date": fmt_date(days[ev], "iso"),
                "registration_time": fmt_ts(records.ts[rows], "iso_space"),
                "firstname": f["first_name"], "lastname": f["last_name"], "e_mail": f["email"],
                "phone_number": f["phone"], "organization": f["company"],
                "title": f["job_title"], "country": f["country"],
                "checked_in": np.where(attended, "true", "false").astype(object)}
        keys = ("event_code", "date", "e_mail", "phone_number", "lastname", "organization")
    else:
        cols = {"event_id": ids[ev], "活动名称": names[ev], "活动日期": fmt_date(days[ev], "cn"),
                "registration_time": fmt_ts(records.ts[rows], "slash_min"),
                "姓名": f["full_name"], "邮箱": f["email"], "手机": f["phone"],
                "公司": f["company"], "职位": f["job_title"], "国家": f["country"],
                "是否参加": np.where(attended, "是", "否").astype(object)}
        keys = ("event_id", "活动日期", "邮箱", "手机", "姓名", "公司")
    id_col, date_col, email, phone, name, company = keys
    inject(cols, rng, (name, company))
    return make_invalid(cols, rng, id_col, None, {
        "bad_date": bad_date(date_col), "no_contact": set_none(email, phone)})
