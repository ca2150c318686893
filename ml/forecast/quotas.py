"""Finance's targets split into rep quotas (``salesops quotas load FILE``; docs/quotas.md).

A targets file has columns ``level,key,period,target``:

- ``level``: ``company`` (key ``all``), ``region`` (a region of the sales teams) or ``rep`` (a
  rep's quota, loaded as it is);
- ``period``: a month (``2018-01`` or ``2018-01-01``) or a quarter (``2018-Q1``), whose target
  is split into its three months in equal cents;
- ``target``: the amount in USD, at most two decimals.

A company or region target becomes the quotas of the reps in it (the teams file's reps), in
proportion to a weight per rep: ``historic_share`` (default) their won revenue in the 12
months before the target (for a target after the data: its last 12 months),
``forecast_share`` their latest forecast for the month (``ml.revenue_forecasts``; historic
share where there is none). A rep with no weight who never won before the window (a new rep)
ramps: their weight is a quarter of the average weight of the others (``ramp`` on the row); a
rep who won before the window and nothing in it has left and gets no share.
The quotas of a target add up to it exactly: each rep's share rounded down to the cent and
the cents left over given to the largest remainders.

The whole file is checked before anything is written; a rep and month covered by two
targets refuses it, naming both lines. A load replaces the quotas of the months it covers
(rep and month are the key) and is booked in ``finance.quota_loads``; one transaction.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pandas as pd

from ml.forecast.money import allocate, decimal, parse_amount
from salesops.reference import csv_rows, parse_month

LEVELS = ("company", "region", "rep")
METHODS = ("historic_share", "forecast_share")
RAMP = Decimal("0.25")  # a new rep's weight, relative to the average weight of the others
TRAILING_MONTHS = 12
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)


class QuotaFileError(ValueError):
    """A targets file that cannot be loaded; the message is one line for a person."""


@dataclass(frozen=True)
class Target:
    line: int
    level: str
    key: str
    period: str  # as written
    months: tuple[pd.Period, ...]
    amount: Decimal


def read_targets(path: Path, data: bytes | None = None) -> list[Target]:
    path = Path(path)
    out = []
    for line, row in csv_rows(path, ("level", "key", "period", "target"), error=QuotaFileError, data=data):
        where = f"{path}, line {line}"
        level = row["level"].lower()
        if level not in LEVELS:
            raise QuotaFileError(f"{where}: level {row['level']!r} is not one of {', '.join(LEVELS)}")
        key = row["key"] or ("all" if level == "company" else "")
        if not key:
            raise QuotaFileError(f"{where}: key is empty (the region or the rep the target is for)")
        months = _months(row["period"])
        if months is None:
            raise QuotaFileError(
                f"{where}: period {row['period']!r} is not a month (2018-01) or a quarter (2018-Q1)"
            )
        amount = parse_amount(row["target"])
        if amount is None or amount < 0:
            raise QuotaFileError(
                f"{where}: target {row['target']!r} is not an amount (USD, at most two "
                "decimals, not negative)"
            )
        out.append(Target(line, level, key, row["period"], months, amount))
    return out


def _months(text: str) -> tuple[pd.Period, ...] | None:
    quarter = _QUARTER.match(text.strip())
    if quarter:
        first = pd.Period(f"{quarter[1]}-{3 * int(quarter[2]) - 2:02}", freq="M")
        return (first, first + 1, first + 2)
    month = parse_month(text.strip())
    return (pd.Period(month, freq="M"),) if month else None


@dataclass(frozen=True)
class Roster:
    reps: pd.DataFrame  # rep_name -> region, manager_name (the teams file's reps)
    won: pd.DataFrame  # rep_name, month, won_revenue (every month of the data)


def load_roster(url: str) -> Roster:
    import psycopg

    from salesops.warehouse import role_url

    with psycopg.connect(role_url(url, "ml")) as conn:
        rows = conn.execute(
            "select rep_name, manager_name, region, month, won_revenue"
            " from marts.rep_performance_monthly where is_known_rep"
        ).fetchall()
    frame = pd.DataFrame(rows, columns=["rep_name", "manager_name", "region", "month", "won_revenue"])
    latest = frame.sort_values("month").groupby("rep_name").tail(1).set_index("rep_name")
    frame["month"] = pd.PeriodIndex(frame["month"], freq="M")
    return Roster(latest[["region", "manager_name"]], frame[["rep_name", "month", "won_revenue"]])


def latest_forecasts(url: str) -> pd.DataFrame:
    """Each rep's latest forecast per month (rep_name, month, forecast)."""
    import psycopg

    from salesops.warehouse import role_url

    with psycopg.connect(role_url(url, "ml")) as conn:
        rows = conn.execute(
            "select distinct on (series_key, period) series_key, period, forecast"
            " from ml.revenue_forecasts where level = 'rep'"
            " order by series_key, period, as_of_month desc"
        ).fetchall()
    frame = pd.DataFrame(rows, columns=["rep_name", "month", "forecast"])
    return frame.assign(month=pd.PeriodIndex(frame["month"], freq="M"))


def _weights(
    reps: list[str],
    month: pd.Period,
    first: pd.Period,
    roster: Roster,
    method: str,
    forecasts: pd.DataFrame | None,
) -> tuple[list[Decimal], str]:
    """Each rep's weight for ``month`` of a target starting in ``first``: the latest forecast of
    the month, or the won revenue of the 12 months before the target (ending, for a target
    after the data, at the data's last month; the same window for every month of a target)."""
    if method == "forecast_share" and forecasts is not None:
        found = forecasts[forecasts["month"] == month].set_index("rep_name")["forecast"]
        if len(found):
            return [decimal(found.get(rep, 0)) for rep in reps], "forecast_share"
    won = _won_in(first, roster).groupby("rep_name")["won_revenue"].sum()
    return [decimal(won.get(rep, 0)) for rep in reps], "historic_share"


def _window(first: pd.Period, roster: Roster) -> tuple[pd.Period, pd.Period]:
    """The first and last month of the 12 before a target starting in ``first`` (ending, for a
    target after the data, at the data's last month)."""
    end = min(first - 1, roster.won["month"].max()) if len(roster.won) else first - 1
    return end - TRAILING_MONTHS + 1, end


def _won_in(first: pd.Period, roster: Roster) -> pd.DataFrame:
    start, end = _window(first, roster)
    return roster.won[(roster.won["month"] >= start) & (roster.won["month"] <= end)]


def _departed(first: pd.Period, roster: Roster) -> set[str]:
    """Reps who won before the window of a target starting in ``first`` and nothing in it: they
    left (or sell no more), so a company or region target is not shared with them."""
    start, end = _window(first, roster)
    won = roster.won[roster.won["won_revenue"] > 0]
    before = set(won.loc[won["month"] < start, "rep_name"])
    return before - set(won.loc[(won["month"] >= start) & (won["month"] <= end), "rep_name"])


def split(
    targets: list[Target],
    roster: Roster,
    method: str = "historic_share",
    forecasts: pd.DataFrame | None = None,
    path: Path | str = "",
) -> pd.DataFrame:
    """Quota rows (rep_name, month, quota, method, target_level, target_key, target_period, share)."""
    rows, seen = [], {}
    regions = sorted(roster.reps["region"].dropna().unique())
    for t in targets:
        where = f"{path}, line {t.line}"
        if t.level == "rep" and t.key not in roster.reps.index:
            raise QuotaFileError(f"{where}: rep {t.key!r} is not in the sales teams")
        if t.level == "region" and t.key not in regions:
            raise QuotaFileError(
                f"{where}: region {t.key!r} is not a region of the sales teams ({', '.join(regions)})"
            )
        if t.level == "company" and t.key != "all":
            raise QuotaFileError(f"{where}: a company target's key is 'all', not {t.key!r}")
        reps = (
            [t.key]
            if t.level == "rep"
            else sorted(roster.reps.index)
            if t.level == "company"
            else sorted(roster.reps.index[roster.reps["region"] == t.key])
        )
        if t.level != "rep":
            gone = _departed(t.months[0], roster)
            reps = [rep for rep in reps if rep not in gone] or reps
        for month, amount in zip(t.months, allocate(t.amount, [1] * len(t.months)), strict=True):
            for rep in reps:
                if (rep, month) in seen:
                    raise QuotaFileError(
                        f"{where}: {rep} in {month} is also covered by line {seen[rep, month]}"
                    )
                seen[rep, month] = t.line
            if t.level == "rep":
                rows.append((t.key, month, amount, "loaded", t.level, t.key, t.period, None))
                continue
            weights, source = _weights(reps, month, t.months[0], roster, method, forecasts)
            others = [w for w in weights if w > 0]
            ramp = RAMP * sum(others) / len(others) if others else Decimal(1)
            final = [w if w > 0 else ramp for w in weights]
            total = sum(final)
            for rep, weight, given, quota in zip(reps, weights, final, allocate(amount, final), strict=True):
                rows.append(
                    (
                        rep,
                        month,
                        quota,
                        source if weight > 0 else "ramp",
                        t.level,
                        t.key,
                        t.period,
                        (given / total).quantize(Decimal("1e-10")),
                    )
                )
    return pd.DataFrame(
        rows,
        columns=[
            "rep_name",
            "month",
            "quota",
            "method",
            "target_level",
            "target_key",
            "target_period",
            "share",
        ],
    )


@dataclass(frozen=True)
class Loaded:
    load_id: int
    quotas: pd.DataFrame
    replaced: int  # quotas of the same rep and month set by an earlier load


def load(
    url: str,
    path: Path,
    method: str = "historic_share",
    targets: list[Target] | None = None,
    data: bytes | None = None,
) -> Loaded:
    """Check the whole file, split it, write the quotas (see module doc). ``targets``: the file
    already read (``read_targets``), so a bad file is refused before the warehouse is reached;
    ``data``: its bytes, already read (what is parsed is what is hashed)."""
    import psycopg

    from salesops.warehouse import role_url

    if method not in METHODS:
        raise QuotaFileError(f"method {method!r} is not one of {', '.join(METHODS)}")
    path = Path(path)
    data = path.read_bytes() if data is None else data
    targets = targets if targets is not None else read_targets(path, data)
    roster = load_roster(url)
    forecasts = latest_forecasts(url) if method == "forecast_share" else None
    quotas = split(targets, roster, method, forecasts, path)
    digest = hashlib.sha256(data).hexdigest()
    with psycopg.connect(role_url(url, "ml")) as conn, conn.transaction():
        load_id = conn.execute(
            "insert into finance.quota_loads (source_file, file_sha256, method, targets, quotas)"
            " values (%s, %s, %s, %s, %s) returning load_id",
            (str(path), digest, method, len(targets), len(quotas)),
        ).fetchone()[0]
        replaced = 0
        for r in quotas.itertuples(index=False):
            month = r.month.to_timestamp().date()
            existed = (
                conn.execute(
                    "select 1 from finance.quotas where rep_name = %s and month = %s", (r.rep_name, month)
                ).fetchone()
                is not None
            )
            replaced += existed
            conn.execute(
                "insert into finance.quotas (rep_name, month, quota, method, target_level, target_key,"
                " target_period, share, load_id) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " on conflict (rep_name, month) do update set quota = excluded.quota,"
                " method = excluded.method,"
                " target_level = excluded.target_level, target_key = excluded.target_key,"
                " target_period = excluded.target_period, share = excluded.share, load_id = excluded.load_id",
                (
                    r.rep_name,
                    month,
                    r.quota,
                    r.method,
                    r.target_level,
                    r.target_key,
                    r.target_period,
                    r.share,
                    load_id,
                ),
            )
    return Loaded(load_id, quotas, replaced)


# --- finance's target files in the landing zone, loaded on schedule -----------------------------

TARGETS_FOLDER = "targets"  # <landing>/targets/*.csv


def target_files(landing_uri: str) -> list[Path]:
    """The CSV files directly in the landing zone's ``targets`` folder, oldest first (then by name):
    a later file replaces the quotas an earlier one set. A local landing zone only (a remote one:
    ``salesops quotas load``); links, hidden files and office lock files (``~$...``) are skipped."""
    if "://" in landing_uri:
        return []
    folder = Path(landing_uri) / TARGETS_FOLDER
    if folder.is_symlink() or not folder.is_dir():
        return []
    files = [
        p
        for p in folder.iterdir()
        if p.suffix.lower() == ".csv"
        and not p.name.startswith((".", "~$"))
        and not p.is_symlink()
        and p.is_file()
    ]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))


def _new(url: str, landing_uri: str) -> list[tuple[Path, bytes]]:
    """The target files (and their bytes, read once, below the landing root, no link followed)
    whose content differs from what the last load of the same file booked."""
    import psycopg

    from ingestion.loader import read_bytes
    from salesops.warehouse import role_url

    files = target_files(landing_uri)
    if not files:
        return []
    with psycopg.connect(role_url(url, "ml")) as conn:
        last = dict(
            conn.execute(
                "select distinct on (source_file) source_file, file_sha256 from finance.quota_loads"
                " order by source_file, load_id desc"
            ).fetchall()
        )
    out = []
    for path in files:
        data = read_bytes(str(path), root=landing_uri)
        if last.get(str(path)) != hashlib.sha256(data).hexdigest():
            out.append((path, data))
    return out


def new_target_files(url: str, landing_uri: str) -> list[Path]:
    """The target files whose content the last load of that file did not book (new or edited)."""
    return [path for path, _ in _new(url, landing_uri)]


def load_new_targets(url: str, landing_uri: str) -> dict:
    """Load every new target file (``historic_share``), each in its own transaction: a refused
    file is reported with its one-line reason and the others still load."""
    loaded, refused = [], []
    for path, data in _new(url, landing_uri):
        try:
            result = load(url, path, data=data)
        except QuotaFileError as exc:
            refused.append({"file": path.name, "error": str(exc)})
        else:
            loaded.append(
                {
                    "file": path.name,
                    "load_id": result.load_id,
                    "quotas": len(result.quotas),
                    "replaced": result.replaced,
                }
            )
    return {"loaded": loaded, "refused": refused}


def load_landing_targets() -> dict:
    """What the forecast DAG's ``load_targets`` runs: ``load_new_targets`` on the configured
    landing zone (a refused file is reported, not raised: the DAG fails after the marts are
    refreshed, see ``refused_targets``)."""
    from salesops.config import settings
    from salesops.setup_warehouse import prepare

    return load_new_targets(prepare(), settings().landing_uri)


def refused_targets(result: dict) -> None:
    """Raise the refused files' reasons (``load_new_targets``'s result), if any."""
    if result["refused"]:
        loaded = ", ".join(r["file"] for r in result["loaded"]) or "none"
        raise QuotaFileError("; ".join(r["error"] for r in result["refused"]) + f" (loaded: {loaded})")
