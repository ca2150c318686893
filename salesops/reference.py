"""User-owned reference data: a stage map for custom CRM stages and monthly currency rates.

They are configuration, not data dbt can rebuild: ``salesops stages load FILE`` and
``salesops rates load FILE`` put them into ``reference.stage_map`` and
``reference.currency_rates`` (migration V007), which dbt reads as sources
(docs/stage-maps-and-rates.md).

A file is checked whole before anything is written: one bad row refuses the file with one
line naming the file, the row, the column and what is expected, and nothing is loaded.
A good file is upserted in one transaction (rows of the file replace the rows with the same
key; ``replace=True`` first removes every other row), so loading it twice changes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

SEMANTICS = ("won", "lost", "open")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?$")


class ReferenceFileError(ValueError):
    """A reference file that cannot be loaded; the message is one line for a person."""


@dataclass(frozen=True)
class LoadResult:
    table: str
    rows_in_file: int
    inserted: int
    updated: int
    unchanged: int
    removed: int

    def line(self) -> str:
        removed = f", {self.removed} removed" if self.removed else ""
        return (f"{self.table}: {self.rows_in_file} rows in the file, {self.inserted} new, "
                f"{self.updated} changed, {self.unchanged} unchanged{removed}")


# --- reading and checking -----------------------------------------------------------------------

def csv_rows(path: Path, required: tuple[str, ...], optional: tuple[str, ...] = (),
             error: type[ValueError] = ReferenceFileError,
             data: bytes | None = None) -> list[tuple[int, dict]]:
    """(line number, {column: text}) of a UTF-8 CSV with a header naming at least ``required``;
    ``data``: the file's bytes, already read (named ``path`` in the messages).

    A file that cannot be read this way raises ``error`` with one line naming the file (and line).
    """
    try:
        text = (path.read_bytes() if data is None else data).decode("utf-8-sig")
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise error(f"{path}: not UTF-8 text; save it as UTF-8 CSV") from None
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in required if c not in header]
    if missing:
        expected = ",".join(required + tuple(f"[{c}]" for c in optional))
        raise error(f"{path}: missing column(s) {', '.join(missing)}; the header must be {expected}")
    unknown = [h for h in header if h not in required + optional]
    if unknown:
        raise error(f"{path}: unknown column(s) {', '.join(unknown)}; expected "
                    f"{', '.join(required + optional)}")
    rows = []
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(header):
            raise error(f"{path}, line {number}: {len(values)} values for {len(header)} "
                        "columns (quote values that contain a comma)")
        rows.append((number, {h: (values[i].strip() if i < len(values) else "")
                              for i, h in enumerate(header)}))
    if not rows:
        raise error(f"{path}: no rows below the header")
    return rows


def _refuse(path: Path, line: int, column: str, value: str, expected: str) -> ReferenceFileError:
    return ReferenceFileError(f"{path}, line {line}, column {column}: {value!r} {expected}; "
                              "nothing was loaded")


def read_stage_map(path: Path) -> list[tuple[str, str, str, int | None]]:
    """Rows (stage_key, raw_stage, stage_semantics, stage_order) of a stage-map CSV."""
    path = Path(path)
    out: dict[str, tuple[int, tuple]] = {}
    for line, row in csv_rows(path, ("raw_stage", "stage_semantics"), ("stage_order",)):
        raw_stage = " ".join(row["raw_stage"].split())  # as dbt's clean_text: inner runs of space
        if not raw_stage:
            raise _refuse(path, line, "raw_stage", raw_stage,
                          "is empty: name the stage as the CRM writes it")
        semantics = row["stage_semantics"].lower()
        if semantics not in SEMANTICS:
            raise _refuse(path, line, "stage_semantics", row["stage_semantics"],
                          "is not one of won, lost, open")
        order_text = row.get("stage_order", "")
        order = None
        if order_text:
            allowed = (1, 2) if semantics == "open" else (3,)
            try:
                order = int(order_text)
            except ValueError:
                order = None
            if order not in allowed:
                raise _refuse(path, line, "stage_order", order_text,
                              "must be 1 (prospecting) or 2 (in progress) for an open stage"
                              if semantics == "open" else f"must be 3 (or empty) for a {semantics} stage")
        key = raw_stage.lower()
        if key in out and out[key][1][2:] != (semantics, order):
            raise ReferenceFileError(f"{path}, line {line}: stage {raw_stage!r} is also on line "
                                     f"{out[key][0]} with another meaning; nothing was loaded")
        out.setdefault(key, (line, (key, raw_stage, semantics, order)))
    return [value for _, value in out.values()]


def parse_month(text: str) -> date | None:
    """``YYYY-MM`` or the first day of a month (``YYYY-MM-01``); None if it is neither."""
    match = _MONTH.match(text)
    if not match:
        return None
    year, month, day = int(match[1]), int(match[2]), int(match[3] or 1)
    if not 1 <= month <= 12 or day != 1:
        return None
    return date(year, month, 1)


def read_rates(path: Path) -> list[tuple[str, date, Decimal]]:
    """Rows (currency, rate_month, usd_per_unit) of a rates CSV."""
    path = Path(path)
    out: dict[tuple[str, date], tuple[int, Decimal]] = {}
    for line, row in csv_rows(path, ("currency", "month", "usd_per_unit")):
        currency = row["currency"].upper()
        if not _CURRENCY.match(currency):
            raise _refuse(path, line, "currency", row["currency"], "is not a three-letter ISO 4217 code")
        month = parse_month(row["month"])
        if month is None:
            raise _refuse(path, line, "month", row["month"],
                          "is not a month (YYYY-MM, or its first day YYYY-MM-01)")
        try:
            rate = Decimal(row["usd_per_unit"].replace(",", ""))
        except InvalidOperation:
            rate = None
        if rate is None or not rate.is_finite() or rate <= 0:
            raise _refuse(path, line, "usd_per_unit", row["usd_per_unit"],
                          "is not a positive number (US dollars for one unit of the currency)")
        key = (currency, month)
        if key in out and out[key][1] != rate:
            raise ReferenceFileError(f"{path}, line {line}: {currency} {month:%Y-%m} is also on line "
                                     f"{out[key][0]} with another rate; nothing was loaded")
        out.setdefault(key, (line, rate))
    return [(currency, month, rate) for (currency, month), (_, rate) in out.items()]


# --- loading --------------------------------------------------------------------------------------

def _upsert(url: str, table: str, columns: tuple[str, ...], key: tuple[str, ...], rows: list[tuple],
            source_file: str, replace: bool) -> LoadResult:
    import psycopg
    from psycopg import sql

    target = sql.Identifier("reference", table)
    cols = sql.SQL(", ").join(map(sql.Identifier, columns))
    on_key = sql.SQL(" and ").join(sql.SQL("t.{0} = s.{0}").format(sql.Identifier(k)) for k in key)
    values = [c for c in columns if c not in key]
    changed = sql.SQL(" or ").join(sql.SQL("t.{0} is distinct from s.{0}").format(sql.Identifier(c))
                                   for c in values)
    from salesops.warehouse import role_url

    with psycopg.connect(role_url(url, "loader")) as conn, conn.transaction():
        conn.execute(sql.SQL("create temporary table incoming on commit drop as"
                             " select {} from {} with no data").format(cols, target))
        with conn.cursor().copy(sql.SQL("copy incoming ({}) from stdin").format(cols)) as copy:
            for row in rows:
                copy.write_row(row)
        removed = 0
        if replace:
            removed = conn.execute(sql.SQL("delete from {} as t where not exists (select from incoming as s"
                                           " where {})").format(target, on_key)).rowcount
        updated = conn.execute(sql.SQL(
            "update {target} as t set {sets}, source_file = %s, loaded_at = now() from incoming as s"
            " where {on_key} and ({changed})").format(
                target=target, on_key=on_key, changed=changed,
                sets=sql.SQL(", ").join(sql.SQL("{0} = s.{0}").format(sql.Identifier(c)) for c in values)),
            (source_file,)).rowcount
        inserted = conn.execute(sql.SQL(
            "insert into {target} ({cols}, source_file) select {cols}, %s from incoming as s"
            " where not exists (select from {target} as t where {on_key})").format(
                target=target, cols=cols, on_key=on_key), (source_file,)).rowcount
    return LoadResult(f"reference.{table}", len(rows), inserted, updated,
                      len(rows) - inserted - updated, removed)


def load_stage_map(url: str, path: Path, replace: bool = False) -> LoadResult:
    rows = read_stage_map(path)
    return _upsert(url, "stage_map", ("stage_key", "raw_stage", "stage_semantics", "stage_order"),
                   ("stage_key",), rows, str(path), replace)


def load_rates(url: str, path: Path, replace: bool = False) -> LoadResult:
    rows = read_rates(path)
    return _upsert(url, "currency_rates", ("currency", "rate_month", "usd_per_unit"),
                   ("currency", "rate_month"), rows, str(path), replace)
