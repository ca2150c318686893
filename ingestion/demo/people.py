"""People, their lead rows, and the funnel link to Maven opportunities.

A person has one canonical identity; DUPLICATE_PERSON_SHARE of lead rows are repeat
appearances of an existing person (usually in another channel, with different formatting),
which is what identity resolution downstream has to undo. Up to MAX_CONVERTED_SHARE of
people convert: each takes one Maven opportunity, is owned by its sales_agent, and first
appears 1-60 days before its engage_date.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

import numpy as np

from . import config as C
from . import names as N
from .maven import Maven
from .rand import rng_for

CHANNELS = ("web_forms", "marketing_events", "referrals", "ad_leads")
LEAD_SOURCE = ("Web", "Event", "Referral", "Advertisement")  # Salesforce picklist, per channel
SF_INDUSTRIES = ("Technology", "Healthcare", "Retail", "Finance", "Manufacturing", "Education")
_BIZ_START, _BIZ_LEN = 8 * 3600, 14 * 3600  # lead times fall in 08:00-21:59 (no date shift
# when a file shows them with a +08:00 offset)


def obj(values) -> np.ndarray:
    """1-d object array (np.array would build a 2-d array from equal-length tuples)."""
    values = list(values)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def business_time(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    return days * C.DAY + _BIZ_START + rng.integers(0, _BIZ_LEN, len(days))


@dataclass
class OppWindows:
    origin: np.ndarray  # seconds; when the opportunity's lead was created
    end: np.ndarray  # seconds; end of close day, or END_SEC while open


def opportunity_windows(maven: Maven, rng: np.random.Generator) -> OppWindows:
    n, engage = maven.n_opp, maven.engage_day
    lo, hi = C.LEAD_CREATED_DAYS_BEFORE_ENGAGE
    back = np.minimum(rng.integers(lo, hi + 1, n), np.maximum(engage, lo))
    prospect_day = rng.integers(C.LAST_DAY - 90, C.LAST_DAY, n)  # no engage date yet
    origin_day = np.maximum(np.where(engage >= 0, engage - back, prospect_day), 0)
    end = np.where(maven.close_day >= 0, maven.close_day * C.DAY + C.DAY - 1, C.END_SEC)
    return OppWindows(business_time(rng, origin_day), end)


@dataclass
class People:
    country: np.ndarray  # ISO code
    chinese: np.ndarray  # bool: Chinese name
    first: np.ndarray  # native script
    last: np.ndarray
    first_en: np.ndarray  # romanised
    last_en: np.ndarray
    email: np.ndarray  # canonical, lower case
    phone: np.ndarray  # national digits
    company: np.ndarray  # as typed into English forms
    company_local: np.ndarray  # Chinese name for Chinese companies
    industry: np.ndarray
    title_idx: np.ndarray
    city_idx: np.ndarray
    owner: np.ndarray  # rep name
    t0: np.ndarray  # first appearance, seconds
    opp: np.ndarray  # Maven opportunity row, -1 if not converted
    lead_id: np.ndarray  # Salesforce Lead ID, None if not in the CRM report
    home_channel: np.ndarray  # channel of the first appearance (= lead source)
    id_offset: int = 0  # running ids start after this number (see demo.generate)

    def __len__(self) -> int:
        return len(self.country)


@dataclass
class Records:
    person: np.ndarray
    channel: np.ndarray
    ts: np.ndarray

    def of(self, channel: str) -> np.ndarray:
        """Row indices of one channel, in time order (exports are chronological)."""
        idx = np.flatnonzero(self.channel == CHANNELS.index(channel))
        return idx[np.argsort(self.ts[idx], kind="stable")]


def lead_counts(scale: float) -> dict[str, int]:
    return {c: math.ceil(C.LEADS_PER_UNIT[c] * scale) for c in CHANNELS}


def build(seed: int, scale: float, maven: Maven,
          id_offset: int = 0) -> tuple[People, Records, OppWindows]:
    rng = rng_for(seed, "people")
    counts = lead_counts(scale)
    n_rec = sum(counts.values())
    n = max(1, n_rec - round(C.DUPLICATE_PERSON_SHARE * n_rec))
    windows = opportunity_windows(maven, rng_for(seed, "opportunity-windows"))

    ci = rng.choice(len(N.COUNTRIES), n, p=[c[3] for c in N.COUNTRIES])
    country = obj(c[0] for c in N.COUNTRIES)[ci]
    chinese = rng.random(n) < np.array([c[4] for c in N.COUNTRIES])[ci]
    wf, wl = rng.integers(0, len(N.WESTERN_FIRST), n), rng.integers(0, len(N.WESTERN_LAST), n)
    cg, cs = rng.integers(0, len(N.CHINESE_GIVEN), n), rng.integers(0, len(N.CHINESE_SURNAMES), n)
    west_f, west_l = obj(N.WESTERN_FIRST)[wf], obj(N.WESTERN_LAST)[wl]
    first = np.where(chinese, obj(g for g, _ in N.CHINESE_GIVEN)[cg], west_f)
    last = np.where(chinese, obj(s for s, _ in N.CHINESE_SURNAMES)[cs], west_l)
    first_en = np.where(chinese, obj(p for _, p in N.CHINESE_GIVEN)[cg], west_f)
    last_en = np.where(chinese, obj(p for _, p in N.CHINESE_SURNAMES)[cs], west_l)

    n_conv = min(maven.n_opp, int(C.MAX_CONVERTED_SHARE * n))
    conv_p = np.sort(rng.choice(n, n_conv, replace=False))
    conv_o = rng.choice(maven.n_opp, n_conv, replace=False)
    opp = np.full(n, -1, dtype=np.int64)
    opp[conv_p] = conv_o

    pool = _company_pool(maven)
    comp = _assign_companies(rng, country, pool, maven, conv_p, conv_o)
    use_local = (pool["local"][comp] != pool["en"][comp]) & (rng.random(n) < 0.5)
    email = _emails(rng, first_en, last_en, country, pool["domain"][comp])
    other_industry = obj(SF_INDUSTRIES)[rng.integers(0, len(SF_INDUSTRIES), n)]
    industry = np.where(pool["sector"][comp] != "", pool["sector"][comp], other_industry)

    agents = maven.teams["sales_agent"].to_numpy(dtype=object)
    owner = agents[rng.integers(0, len(agents), n)]
    owner[conv_p] = maven.col("sales_agent")[conv_o]
    t0 = business_time(rng, rng.integers(0, C.N_DAYS, n))
    t0[conv_p] = windows.origin[conv_o]

    in_crm = rng.random(n) < C.SALESFORCE_UNCONVERTED_SHARE
    in_crm[conv_p] = True
    records, home = _records(rng, counts, t0)
    people = People(
        country=country, chinese=chinese, first=first, last=last, first_en=first_en,
        last_en=last_en, email=email, phone=_phones(rng, country),
        company=np.where(use_local, pool["local"][comp], pool["en"][comp]),
        company_local=pool["local"][comp], industry=industry,
        title_idx=rng.integers(0, 1 << 30, n), city_idx=rng.integers(0, 1 << 30, n),
        owner=owner, t0=t0, opp=opp, lead_id=_lead_ids(t0, in_crm, id_offset), home_channel=home,
        id_offset=id_offset,
    )
    return people, records, windows


def _records(rng: np.random.Generator, counts: dict[str, int], t0: np.ndarray):
    n, n_rec = len(t0), sum(counts.values())
    person = np.concatenate([np.arange(n), rng.integers(0, n, n_rec - n)])
    channel = np.repeat(np.arange(len(CHANNELS)), [counts[c] for c in CHANNELS])
    rng.shuffle(channel)
    ts = t0[person].copy()
    dup = np.arange(n_rec) >= n
    later = np.minimum(ts[dup] // C.DAY + rng.integers(0, C.REPEAT_APPEARANCE_MAX_DAYS + 1,
                                                       dup.sum()), C.LAST_DAY)
    ts[dup] = np.maximum(business_time(rng, later), ts[dup] + 60)
    return Records(person=person, channel=channel, ts=ts), channel[:n]


def slug(s: str) -> str:
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return "".join(ch for ch in s.lower() if ch.isalnum())


def _company_pool(maven: Maven) -> dict[str, np.ndarray]:
    en, local, domain, sector = [], [], [], []
    for b in N.COMPANY_BRANDS:
        for s in N.COMPANY_SUFFIXES:
            en.append(f"{b} {s}")
            local.append(f"{b} {s}")
            domain.append(f"{slug(b)}.com")
            sector.append("")
    for city, city_py in N.CN_CITIES:
        for brand, brand_py in N.CN_BRANDS:
            for trade, trade_en in N.CN_TRADES:
                en.append(f"{city_py} {brand_py} {trade_en} Co., Ltd.")
                local.append(f"{city}{brand}{trade}有限公司")
                domain.append(f"{slug(brand_py + city_py)}.com.cn")
                sector.append("")
    for name, sec in zip(maven.accounts["account"], maven.accounts["sector"], strict=True):
        en.append(name)
        local.append(name)
        domain.append(f"{slug(name)}.com")
        sector.append(sec)
    n_west = len(N.COMPANY_BRANDS) * len(N.COMPANY_SUFFIXES)
    n_cn = len(N.CN_CITIES) * len(N.CN_BRANDS) * len(N.CN_TRADES)
    return {"en": obj(en), "local": obj(local), "domain": obj(domain), "sector": obj(sector),
            "ranges": np.array([0, n_west, n_west + n_cn, len(en)])}


def _assign_companies(rng, country, pool, maven: Maven, conv_p, conv_o) -> np.ndarray:
    n = len(country)
    r = pool["ranges"]
    west, cn, mav = (rng.integers(r[i], r[i + 1], n) for i in range(3))
    u = rng.random(n)
    comp = np.where(country == "CN", np.where(u < 0.8, cn, np.where(u < 0.9, mav, west)),
                    np.where(u < 0.35, mav, west))
    account = maven.col("account")[conv_o]
    pos = {a: r[2] + i for i, a in enumerate(maven.accounts["account"])}
    has = account != ""
    comp[conv_p[has]] = [pos[a] for a in account[has]]
    return comp


def _emails(rng, first_en, last_en, country, work_domain) -> np.ndarray:
    n = len(first_en)
    work = rng.random(n) < 0.55
    cn_free, other_free = obj(N.FREE_MAIL["CN"]), obj(N.FREE_MAIL["other"])
    free = np.where(country == "CN", cn_free[rng.integers(0, len(cn_free), n)],
                    other_free[rng.integers(0, len(other_free), n)])
    domain = np.where(work, work_domain, free)
    pattern = rng.integers(0, 4, n)
    slugs_f = {s: slug(s) for s in set(first_en)}
    slugs_l = {s: slug(s) for s in set(last_en)}
    out = []
    for i, (f, lname, d, p) in enumerate(zip(first_en, last_en, domain, pattern, strict=True)):
        f, lname = slugs_f[f], slugs_l[lname]
        if d == "qq.com":
            local = str(10_000_000 + 13 * i)  # QQ mail: the QQ number
        else:  # the person index keeps every address unique
            local = (f"{f}.{lname}{i}", f"{f[0]}{lname}{i}", f"{lname}.{f}{i}", f"{f}{lname}{i}")[p]
        out.append(f"{local}@{d}")
    return obj(out)


_CN_PREFIX = ("138", "139", "136", "137", "150", "151", "186", "188", "135", "158")
_US_AREA = ("415", "212", "312", "617", "206", "512", "303", "646", "213", "404")


def _phones(rng, country) -> np.ndarray:
    """National digits; US numbers use 555, UK the Ofcom drama range 020 7946 0xxx."""
    n = len(country)
    a = rng.integers(0, 10, n)
    num = rng.integers(0, 100_000_000, n)
    out = []
    for c, k, x in zip(country, a, num, strict=True):
        if c == "CN":
            out.append(f"{_CN_PREFIX[k]}{x:08d}")
        elif c == "US":
            out.append(f"{_US_AREA[k]}555{x % 10_000:04d}")
        elif c == "GB":
            out.append(f"2079460{x % 1000:03d}")
        elif c == "DE":
            out.append(f"30{x:08d}")
        else:
            out.append(f"{'69'[k % 2]}{x % 10_000_000:07d}")  # SG landline / mobile
    return obj(out)


_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def salesforce_id(prefix: str, k: int) -> str:
    """18-character Salesforce-style id, with the real case-checksum suffix."""
    body = ""
    for _ in range(6):
        k, r = divmod(k, 62)
        body = _B62[r] + body
    core = f"{prefix}5g0000{body}"
    suffix = ""
    for chunk in (core[0:5], core[5:10], core[10:15]):
        bits = sum(1 << i for i, ch in enumerate(chunk) if ch.isupper())
        suffix += _SUFFIX[bits]
    return core + suffix


def _lead_ids(t0: np.ndarray, in_crm: np.ndarray, id_offset: int) -> np.ndarray:
    out = np.full(len(t0), None, dtype=object)
    crm = np.flatnonzero(in_crm)
    crm = crm[np.argsort(t0[crm], kind="stable")]  # the CRM numbers leads in creation order
    out[crm] = [salesforce_id("00Q", 1_000_003 + 7 * (id_offset + k))
                for k in range(len(crm))]
    return out
