"""Files salesops writes for people neutralise spreadsheet formulas and keep numbers exact."""

from __future__ import annotations

import csv
import stat
from decimal import Decimal

import openpyxl
import psycopg
import pytest
from click.testing import CliRunner

from salesops.cli import main
from salesops.export import ExportError, export_table

PAYLOADS = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://x","y")', "+1+2", "@SUM(A1)", "-2+3",
            "\tindented", "\rreturn", "plain text", "#N/A", "it's = fine"]
AMOUNTS = [Decimal("-12.50"), Decimal("1054.00"), Decimal("0.10"), Decimal("-3"), Decimal("7.125"),
           Decimal("0.30"), Decimal("100.00"), Decimal("-0.01"), Decimal("2.5"), Decimal("99999999.99")]
HUGE = Decimal("12345678901234567890.123")  # no double holds it: kept as exact text


@pytest.fixture()
def probe_table(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("create schema if not exists marts")
        conn.execute("create table marts.export_probe (label text, amount numeric(20,3), big numeric,"
                     " n integer, closed_at timestamptz, closed_date date, is_won boolean)")
        with conn.cursor() as cur:
            cur.executemany(
                "insert into marts.export_probe values (%s, %s, %s, %s, '2017-03-01 10:00+00', '2017-03-01',"
                " %s)",
                [(label, amount, HUGE, -i, i % 2 == 0) for i, (label, amount)
                 in enumerate(zip(PAYLOADS, AMOUNTS, strict=True))])
        conn.execute("insert into marts.export_probe (label, n) values (null, 999)")
    return db_url


def _expected(label: str) -> str:
    return "'" + label if label[0] in "=+-@\t\r" else label


def test_xlsx_has_no_formula_and_keeps_text_and_numbers(probe_table, tmp_path):
    output = tmp_path / "probe.xlsx"
    assert export_table(probe_table, "marts.export_probe", output) == len(PAYLOADS) + 1
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    sheet = openpyxl.load_workbook(output).active
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]] == ["label", "amount", "big", "n", "closed_at", "closed_date", "is_won"]
    assert not [c.coordinate for row in rows for c in row if c.data_type == "f"]
    body = rows[1:]
    # XML reads a carriage return back as a line feed (Excel shows both as a line break).
    assert [r[0].value for r in body[:-1]] == [_expected(p).replace("\r", "\n") for p in PAYLOADS]
    assert all(r[0].data_type == "s" for r in body[:-1])
    # Money: numbers, exactly the warehouse's values, shown with their scale.
    assert [Decimal(repr(r[1].value)) for r in body[:-1]] == AMOUNTS
    assert all(r[1].data_type == "n" for r in body[:-1])
    assert body[0][1].value == -12.5 and body[0][1].number_format == "0.000"  # numeric(20,3)
    assert {r[2].value for r in body[:-1]} == {str(HUGE)}  # text, not a rounded double
    assert [r[3].value for r in body[:-1]] == [-i for i in range(len(PAYLOADS))]  # negative: a number
    assert body[0][4].value == "2017-03-01T10:00:00+00:00" and body[0][6].value is True
    assert [c.value for c in body[-1]] == [None, None, None, 999, None, None, None]


def test_csv_has_the_prefixes_and_exact_numbers(probe_table, tmp_path):
    output = tmp_path / "probe.csv"
    export_table(probe_table, "marts.export_probe", output)
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert output.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel's UTF-8 marker
    with output.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:3] == ["label", "amount", "big"]
    assert [r[0] for r in rows[1:-1]] == [_expected(p) for p in PAYLOADS]
    assert [Decimal(r[1]) for r in rows[1:-1]] == AMOUNTS and rows[1][1] == "-12.500"  # not prefixed
    assert rows[1][2] == str(HUGE) and rows[2][3] == "-1" and rows[1][6] == "true"
    assert rows[-1] == ["", "", "", "999", "", "", ""]


def test_export_refuses_unknown_tables_and_formats_and_leaves_nothing(probe_table, tmp_path):
    with pytest.raises(ExportError, match=r"no such table or view .*tables and views in marts: export_probe"):
        export_table(probe_table, "marts.nope", tmp_path / "x.csv")
    with pytest.raises(ExportError, match="give a schema-qualified table"):
        export_table(probe_table, "export_probe", tmp_path / "x.csv")
    with pytest.raises(ExportError, match="no such table or view"):
        export_table(probe_table, "marts.export_probe; drop table users", tmp_path / "x.csv")
    with pytest.raises(ExportError, match="no readable schema"):
        export_table(probe_table, 'pg_catalog.pg_authid', tmp_path / "x.csv")
    with pytest.raises(ExportError, match="must end in .csv or .xlsx"):
        export_table(probe_table, "marts.export_probe", tmp_path / "x.ods")
    assert list(tmp_path.iterdir()) == []


def test_a_value_too_long_for_excel_fails_clearly_and_leaves_no_file(probe_table, tmp_path):
    with psycopg.connect(probe_table, autocommit=True) as conn:
        conn.execute("insert into marts.export_probe (label) values (repeat('x', 40000))")
    with pytest.raises(ExportError, match="more than an Excel cell holds"):
        export_table(probe_table, "marts.export_probe", tmp_path / "x.xlsx")
    assert list(tmp_path.iterdir()) == []
    export_table(probe_table, "marts.export_probe", tmp_path / "x.csv")  # CSV has no such limit


def test_export_command_against_an_external_warehouse(probe_table, tmp_path):
    output = tmp_path / "out.xlsx"
    output.write_text("old")
    output.chmod(0o644)
    env = {"SALESOPS_WAREHOUSE_URL": probe_table}
    result = CliRunner().invoke(main, ["export", "marts.export_probe", "--output", str(output)], env=env)
    assert result.exit_code == 0, result.output
    assert f"exported {len(PAYLOADS) + 1} rows of marts.export_probe to {output}" in result.output
    assert stat.S_IMODE(output.stat().st_mode) == 0o600  # replaced, not widened by the old file's mode
    refused = CliRunner().invoke(main, ["export", "marts.nope", "-o", str(tmp_path / "y.csv")], env=env)
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert refused.output.startswith("Error: 'marts.nope': no such table or view")
