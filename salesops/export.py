"""``salesops export``: a warehouse table or view as a CSV or xlsx file for people.

Written for spreadsheets, so no cell can run as a formula: every text cell starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with ``'`` (OWASP's
CSV-injection guidance), and xlsx text cells are typed as text explicitly. Numbers stay
numbers: a negative amount is a number, not a formula. Money stays exact: numeric values
are written as their decimal text in CSV, and in xlsx as numbers only when a spreadsheet's
double holds them exactly (otherwise as text). Rows are streamed from a server-side
cursor; the file is written owner-only (0600) under a temporary name and renamed when
complete, so a failed export leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import os
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
from psycopg import sql

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMATS = (".csv", ".xlsx")
XLSX_TEXT_LIMIT = 32_767  # characters an Excel cell holds
_FETCH = 5_000


class ExportError(ValueError):
    """An export that cannot be made as asked; the message says why and what to do."""


def neutralise(text: str) -> str:
    """A text cell a spreadsheet will not read as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def export_table(url: str, name: str, output: Path) -> int:
    """Write the table or view ``name`` (schema.table) to ``output`` (.csv or .xlsx); return the rows."""
    suffix = output.suffix.lower()
    if suffix not in FORMATS:
        raise ExportError(f"{output}: the file name must end in .csv or .xlsx")
    with psycopg.connect(url) as conn:
        relation = _relation(conn, name)
        with conn.cursor(name="salesops_export") as cur:
            cur.itersize = _FETCH
            cur.execute(sql.SQL("select * from {}").format(relation))
            header = [column.name for column in cur.description]
            write = _write_csv if suffix == ".csv" else _write_xlsx
            return write_atomic(output, lambda path: write(path, header, cur))


def _relation(conn: psycopg.Connection, name: str) -> sql.Identifier:
    """``schema.table`` as a quoted identifier, once the warehouse confirms the user can read it."""
    schema, dot, table = name.partition(".")
    if not dot or not schema or not table or "." in table:
        raise ExportError(f"{name!r}: give a schema-qualified table or view, e.g. marts.fct_opportunities")
    readable = conn.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = %s and c.relkind in ('r', 'v', 'm', 'p', 'f')"
        " and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')"
        " and has_table_privilege(c.oid, 'select') order by 1",
        (schema,),
    ).fetchall()
    names = [row[0] for row in readable]
    if table not in names:
        shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
        known = f"tables and views in {schema}: {shown}" if names else f"no readable schema {schema!r}"
        raise ExportError(f"{name!r}: no such table or view in the warehouse ({known})")
    return sql.Identifier(schema, table)


def write_csv(output: Path, header: list[str], rows: Iterator[tuple]) -> int:
    """``rows`` as a spreadsheet-safe CSV at ``output`` (0600, complete or absent); return the rows."""
    return write_atomic(output, lambda path: _write_csv(path, header, rows))


def write_table(output: Path, header: list[str], rows: Iterator[tuple]) -> int:
    """``rows`` as a spreadsheet-safe .csv or .xlsx (by ``output``'s suffix), like ``write_csv``."""
    write = _write_xlsx if output.suffix.lower() == ".xlsx" else _write_csv
    return write_atomic(output, lambda path: write(path, header, rows))


def write_atomic(output: Path, write) -> int:
    """Write through a 0600 temporary file beside ``output``, renamed into place when complete."""
    fd, temporary = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".part", dir=output.parent)
    os.close(fd)
    try:
        rows = write(Path(temporary))
        os.chmod(temporary, 0o600)
        os.replace(temporary, output)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return rows


def _text(value) -> str:
    """Anything that is not a number, as text."""
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)  # Decimal's own text: exact, scale kept
    return neutralise(_text(value))


def _write_csv(path: Path, header: list[str], rows: Iterator[tuple]) -> int:
    count = 0
    # utf-8-sig: Excel reads a CSV as UTF-8 only when it starts with a BOM.
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow([neutralise(h) for h in header])
        for row in rows:
            writer.writerow([_csv_cell(v) for v in row])
            count += 1
    return count


def _xlsx_number(value):
    """The value as an Excel number when a double holds it exactly, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if abs(value) < 2**53 else None
    if isinstance(value, float):
        return value
    if isinstance(value, Decimal) and value.is_finite() and Decimal(repr(float(value))) == value:
        return float(value)
    return None


def _write_xlsx(path: Path, header: list[str], rows: Iterator[tuple]) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    sheet = book.create_sheet("export")

    def text_cell(text: str, column: str, number: int):
        if len(text) > XLSX_TEXT_LIMIT:
            raise ExportError(f"row {number}, column {column!r}: {len(text):,} characters, more than an "
                              f"Excel cell holds ({XLSX_TEXT_LIMIT:,}); export to .csv instead")
        # Characters XML cannot carry are written as \xNN.
        text = ILLEGAL_CHARACTERS_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
        cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = "s"  # text, whatever it looks like (openpyxl would take "=..." for a formula)
        return cell

    def cell(value, column: str, number: int):
        if value is None:
            return None
        if isinstance(value, bool):
            return WriteOnlyCell(sheet, value=value)
        if isinstance(value, int | float | Decimal):
            exact = _xlsx_number(value)
            if exact is None:  # a number a spreadsheet would round: its exact text
                return text_cell(str(value), column, number)
            result = WriteOnlyCell(sheet, value=exact)
            if isinstance(value, Decimal) and value.as_tuple().exponent < 0:
                result.number_format = "0." + "0" * -value.as_tuple().exponent  # 12.50 stays 12.50
            return result
        if isinstance(value, dt.datetime | dt.date) and getattr(value, "tzinfo", None) is None:
            return WriteOnlyCell(sheet, value=value)
        return text_cell(neutralise(_text(value)), column, number)

    count = 0
    try:
        sheet.append([text_cell(neutralise(h), h, 0) for h in header])
        for count, row in enumerate(rows, start=1):
            sheet.append([cell(v, h, count) for v, h in zip(row, header, strict=True)])
    except BaseException:
        with contextlib.suppress(Exception):
            sheet.close()  # end openpyxl's streaming writer before its temporary file goes
        raise
    book.save(path)
    return count
