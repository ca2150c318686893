"""Vectorised date formatting via lookup tables.

Times are int64 seconds since PERIOD_START (naive local time). The period has only 457 days,
so formatting is a table lookup plus string concatenation instead of per-row strftime; that
keeps 10M activity timestamps cheap.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .config import DAY, N_DAYS, PERIOD_START

DATE_STYLES = {  # name -> example
    "iso": "2017-03-15",
    "us": "03/15/2017",
    "eu": "15.03.2017",
    "cn": "2017年3月15日",
    "slash": "2017/03/15",
}
# name -> (date style, separator, time style, suffix)
TS_STYLES = {
    "iso_z": ("iso", "T", "sec", "Z"),  # 2017-03-15T14:05:09Z
    "iso_cn": ("iso", "T", "sec", "+08:00"),  # 2017-03-15T14:05:09+08:00
    "iso_utc": ("iso", "T", "sec", "+00:00"),  # 2017-03-15T14:05:09+00:00
    "iso_space": ("iso", " ", "sec", ""),  # 2017-03-15 14:05:09
    "iso_min": ("iso", " ", "min", ""),  # 2017-03-15 14:05
    "us_min": ("us", " ", "min", ""),  # 03/15/2017 14:05
    "eu_min": ("eu", " ", "min", ""),  # 15.03.2017 14:05
    "slash_min": ("slash", " ", "min", ""),  # 2017/03/15 14:05
}


def day_date(day: int) -> dt.date:
    return PERIOD_START + dt.timedelta(days=int(day))


@cache
def _date_table(style: str) -> np.ndarray:
    out = []
    for i in range(N_DAYS):
        d = day_date(i)
        out.append({
            "iso": f"{d:%Y-%m-%d}",
            "us": f"{d:%m/%d/%Y}",
            "eu": f"{d:%d.%m.%Y}",
            "cn": f"{d.year}年{d.month}月{d.day}日",
            "slash": f"{d:%Y/%m/%d}",
        }[style])
    return np.array(out, dtype=object)


@cache
def _time_table(style: str) -> np.ndarray:
    s = np.arange(DAY)
    h, m, sec = s // 3600, s // 60 % 60, s % 60
    if style == "sec":
        vals = [f"{a:02d}:{b:02d}:{c:02d}" for a, b, c in zip(h, m, sec, strict=True)]
    else:
        vals = [f"{a:02d}:{b:02d}" for a, b in zip(h, m, strict=True)]
    return np.array(vals, dtype=object)


def _check(days: np.ndarray) -> None:
    if days.size and (days.min() < 0 or days.max() >= N_DAYS):
        raise ValueError("date outside the demo period")


def fmt_date(days: np.ndarray, style: str) -> np.ndarray:
    """Day indices -> object array of date strings in one of DATE_STYLES."""
    days = np.asarray(days, dtype=np.int64)
    _check(days)
    return _date_table(style)[days]


def fmt_ts(secs: np.ndarray, style: str) -> np.ndarray:
    """Seconds since PERIOD_START -> object array of timestamp strings in one of TS_STYLES."""
    secs = np.asarray(secs, dtype=np.int64)
    date_style, sep, time_style, suffix = TS_STYLES[style]
    days = secs // DAY
    _check(days)
    out = _date_table(date_style)[days] + sep + _time_table(time_style)[secs % DAY]
    return out + suffix if suffix else out


@cache
def _arrow_table(kind: str, style: str) -> pa.Array:
    return pa.array(_date_table(style) if kind == "date" else _time_table(style), pa.string())


def fmt_ts_arrow(secs: np.ndarray, style: str) -> pa.Array:
    """fmt_ts producing an Arrow array without creating Python strings (large volumes)."""
    secs = np.asarray(secs, dtype=np.int64)
    date_style, sep, time_style, suffix = TS_STYLES[style]
    days = secs // DAY
    _check(days)
    out = pc.binary_join_element_wise(_arrow_table("date", date_style).take(pa.array(days)),
                                      _arrow_table("time", time_style).take(pa.array(secs % DAY)),
                                      sep)
    return pc.binary_join_element_wise(out, pa.scalar(suffix), "") if suffix else out


def to_datetime(secs: np.ndarray) -> list[dt.datetime]:
    """Seconds -> naive datetimes (for Excel cells)."""
    base = dt.datetime.combine(PERIOD_START, dt.time())
    return [base + dt.timedelta(seconds=int(s)) for s in secs]
