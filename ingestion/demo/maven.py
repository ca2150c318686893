"""The Maven "CRM Sales Opportunities" backbone: copied from disk or synthesised.

Everything else (leads, activities, orders, surveys) hangs off its reps, accounts, products
and opportunities, so both paths produce the same in-memory `Maven` shape.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import config as C
from .names import WESTERN_FIRST, WESTERN_LAST
from .rand import pick, rng_for
from .writers import write_csv

FILES = ("accounts.csv", "products.csv", "sales_teams.csv", "sales_pipeline.csv")
PRODUCTS = (  # the public Maven catalogue: product, series, sales_price, pipeline share
    ("GTX Basic", "GTX", "550", 0.21), ("GTX Pro", "GTX", "4821", 0.17),
    ("MG Special", "MG", "55", 0.19), ("MG Advanced", "MG", "3393", 0.16),
    ("GTX Plus Pro", "GTX", "5482", 0.11), ("GTX Plus Basic", "GTX", "1096", 0.155),
    ("GTK 500", "GTK", "26768", 0.005),
)
STAGES = (("Won", 0.48), ("Lost", 0.28), ("Engaging", 0.18), ("Prospecting", 0.06))
SECTORS = ("technolgy", "medical", "retail", "software", "marketing", "entertainment",
           "finance", "employment", "telecommunications", "services")  # sic: Maven's typo
ACCOUNT_HEADS = ("Beta", "Bio", "Blu", "Can", "Code", "Con", "Dal", "Dom", "Don", "Fase",
                 "Fin", "Fun", "Gan", "Gold", "Green", "Hat", "Hot", "Is", "Kin", "Lat",
                 "Ron", "San", "Son", "Stan", "Tres", "Vol", "Ware", "Zoo", "Zim", "Ope")
ACCOUNT_TAILS = ("tech", "soloin", "holding", "plex", "zim", "city", "how", "dax", "com",
                 "base", "zoom", "quote", "high", "job", "dex", "ity", "ron", "phase", "flex")
OFFICES = ("United States",) * 12 + ("Kenya", "Japan", "Philipines", "Norway", "Italy")


@dataclass
class Maven:
    accounts: pd.DataFrame  # raw Maven columns, all str ("" = empty)
    teams: pd.DataFrame
    pipeline: pd.DataFrame
    engage_day: np.ndarray  # day index, -1 when empty
    close_day: np.ndarray
    close_cents: np.ndarray  # -1 when empty
    region: np.ndarray  # regional office of each opportunity's agent
    file_rows: dict[str, int]  # data rows per Maven file

    @property
    def n_opp(self) -> int:
        return len(self.pipeline)

    def col(self, name: str) -> np.ndarray:
        return self.pipeline[name].to_numpy(dtype=object)


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _days(values: pd.Series) -> np.ndarray:
    ts = pd.to_datetime(values.replace("", None), format="%Y-%m-%d", errors="coerce")
    days = (ts - pd.Timestamp(C.PERIOD_START)).dt.days
    return days.fillna(-1).to_numpy(dtype=np.int64)


def _build(accounts: pd.DataFrame, products: pd.DataFrame, teams: pd.DataFrame,
           pipeline: pd.DataFrame) -> Maven:
    value = pd.to_numeric(pipeline["close_value"].replace("", None), errors="coerce")
    region = dict(zip(teams["sales_agent"], teams["regional_office"], strict=True))
    return Maven(
        accounts=accounts, teams=teams, pipeline=pipeline,
        engage_day=_days(pipeline["engage_date"]), close_day=_days(pipeline["close_date"]),
        close_cents=(value * 100).round().fillna(-1).to_numpy(dtype=np.int64),
        region=pipeline["sales_agent"].map(region).fillna("").to_numpy(dtype=object),
        file_rows={name: len(df) for name, df in zip(FILES, (accounts, products, teams,
                                                              pipeline), strict=True)},
    )


def load(maven_dir: Path, out_dir: Path) -> Maven:
    """Copy the four data files byte for byte (defects included) and parse them."""
    for name in FILES:
        shutil.copyfile(maven_dir / name, out_dir / name)
    return _build(*(_read(maven_dir / name) for name in FILES))


def _opportunity_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    ints = rng.integers(0, 36**8, size=n + n // 10 + 16)
    _, first = np.unique(ints, return_index=True)
    ints = ints[np.sort(first)][:n]
    alphabet = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"), dtype=object)
    out = np.full(n, "", dtype=object)
    for k in range(8):
        out = out + alphabet[ints // 36**k % 36]
    return out


def synthesise(seed: int, scale: float, out_dir: Path) -> Maven:
    """A Maven-layout export for machines without the shared data set."""
    rng = rng_for(seed, "maven")
    people = [f"{f} {lname}" for f in WESTERN_FIRST for lname in WESTERN_LAST]
    chosen = [people[i] for i in rng.choice(len(people), 41, replace=False)]
    managers, agents = chosen[:6], chosen[6:]
    offices = ("Central", "Central", "East", "East", "West", "West")
    teams = pd.DataFrame({
        "sales_agent": agents,
        "manager": [managers[i * 6 // 35] for i in range(35)],
        "regional_office": [offices[i * 6 // 35] for i in range(35)],
    })
    combos = [h + t for h in ACCOUNT_HEADS for t in ACCOUNT_TAILS]
    names = sorted(combos[i] for i in rng.choice(len(combos), 85, replace=False))
    revenue = np.round(rng.lognormal(7, 1.1, 85), 2)
    parent = np.where(rng.random(85) < 0.15, pick(rng, names, 85), "")
    accounts = pd.DataFrame({
        "account": names,
        "sector": pick(rng, SECTORS, 85),
        "year_established": rng.integers(1979, 2018, 85).astype(str),
        "revenue": [f"{v:.2f}".rstrip("0").rstrip(".") for v in revenue],
        "employees": np.maximum(1, (revenue * rng.uniform(1.5, 3.5, 85))).astype(int).astype(str),
        "office_location": pick(rng, OFFICES, 85),
        "subsidiary_of": [p if p != a else "" for p, a in zip(parent, names, strict=True)],
    })
    pipeline = _pipeline(rng, max(50, math.ceil(C.SYNTH_OPPORTUNITIES_PER_UNIT * scale)),
                         agents, names)
    products = pd.DataFrame([p[:3] for p in PRODUCTS], columns=["product", "series",
                                                                "sales_price"])
    for name, df in zip(FILES, (accounts, products, teams, pipeline), strict=True):
        write_csv({c: df[c].to_numpy(dtype=object) for c in df.columns}, out_dir / name,
                  eol="\r\n")  # CRLF, as the real export
    return _build(accounts, products, teams, pipeline)


def _pipeline(rng: np.random.Generator, n: int, agents: list[str], accounts: list[str]):
    stage = pick(rng, [s for s, _ in STAGES], n, p=[p for _, p in STAGES])
    prod_p = np.array([p[3] for p in PRODUCTS])
    prod = rng.choice(len(PRODUCTS), n, p=prod_p / prod_p.sum())
    engage = rng.integers(20, C.LAST_DAY - 3, n)
    close = np.minimum(engage + rng.integers(1, 139, n), C.LAST_DAY)
    closed = (stage == "Won") | (stage == "Lost")
    price = np.array([float(p[2]) for p in PRODUCTS])[prod]
    value = np.maximum(1, np.round(price * rng.uniform(0.8, 1.2, n))).astype(int)
    has_account = closed | (rng.random(n) < 0.3)
    day = np.datetime64(C.PERIOD_START) + np.arange(C.N_DAYS)
    iso = np.datetime_as_string(day, unit="D").astype(object)
    names = np.array(["GTXPro" if p[0] == "GTX Pro" else p[0] for p in PRODUCTS], dtype=object)
    df = pd.DataFrame({
        "opportunity_id": _opportunity_ids(rng, n),
        "sales_agent": pick(rng, agents, n),
        "product": names[prod],  # "GTXPro": the real export's product-name defect
        "account": np.where(has_account, pick(rng, accounts, n), ""),
        "deal_stage": stage,
        "engage_date": np.where(stage == "Prospecting", "", iso[engage]),
        "close_date": np.where(closed, iso[close], ""),
        "close_value": np.where(closed, np.where(stage == "Won", value, 0).astype(str), ""),
    }).astype(object)
    # Like the real export: ordered by engage date, prospects (no date yet) last.
    order = np.argsort(np.where(stage == "Prospecting", C.N_DAYS, engage), kind="stable")
    return df.iloc[order].reset_index(drop=True)

