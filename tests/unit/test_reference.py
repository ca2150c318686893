"""Reading user reference files (stage map, currency rates): good files parse, a bad row refuses the file."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from salesops.reference import ReferenceFileError, parse_month, read_rates, read_stage_map


def _write(tmp_path, text, name="file.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_stage_map_reads_semantics_order_and_any_case(tmp_path):
    path = _write(tmp_path, "\ufeffRaw_Stage,Stage_Semantics,stage_order\n Demo booked ,OPEN,2\n"
                            "赢单,won,\nAbgesagt,lost,3\n\nabgesagt,lost,3\n")
    assert read_stage_map(path) == [("demo booked", "Demo booked", "open", 2), ("赢单", "赢单", "won", None),
                                    ("abgesagt", "Abgesagt", "lost", 3)]


@pytest.mark.parametrize(("text", "message"), [
    ("raw_stage,stage_semantics\nX,maybe\n",
     "line 2, column stage_semantics: 'maybe' is not one of won, lost, open"),
    ("raw_stage,stage_semantics,stage_order\nX,open,3\n", "line 2, column stage_order: '3' must be 1"),
    ("raw_stage,stage_semantics,stage_order\nX,won,2\n", "must be 3 (or empty) for a won stage"),
    ("raw_stage,stage_semantics\n,won\n", "column raw_stage: '' is empty"),
    ("raw_stage,stage_semantics\nX,won\nx,lost\n",
     "line 3: stage 'x' is also on line 2 with another meaning"),
    ("stage,semantics\nX,won\n", "missing column(s) raw_stage, stage_semantics"),
    ("raw_stage,stage_semantics\n", "no rows below the header"),
])
def test_stage_map_refuses_a_bad_file_in_one_line(tmp_path, text, message):
    with pytest.raises(ReferenceFileError) as raised:
        read_stage_map(_write(tmp_path, text))
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_rates_read_months_and_exact_decimals(tmp_path):
    path = _write(tmp_path, "currency,month,usd_per_unit\npen,2017-03,0.3070\nEUR,2017-04-01,1.07\n"
                            "EUR,2017-04,1.07\n")
    assert read_rates(path) == [("PEN", date(2017, 3, 1), Decimal("0.3070")),
                                ("EUR", date(2017, 4, 1), Decimal("1.07"))]
    assert parse_month("2017-3") == date(2017, 3, 1)
    assert parse_month("2017-03-15") is None and parse_month("2017-13") is None


@pytest.mark.parametrize(("text", "message"), [
    ("currency,month,usd_per_unit\nSOL,2017-03-15,0.3\n", "column month: '2017-03-15' is not a month"),
    ("currency,month,usd_per_unit\nS/.,2017-03,0.3\n", "column currency: 'S/.' is not a three-letter"),
    ("currency,month,usd_per_unit\nPEN,2017-03,-1\n", "column usd_per_unit: '-1' is not a positive number"),
    ("currency,month,usd_per_unit\nPEN,2017-03,abc\n", "column usd_per_unit: 'abc' is not a positive"),
    ("currency,month,usd_per_unit\nPEN,2017-03,0.3\nPEN,2017-03,0.31\n", "PEN 2017-03 is also on line 2"),
])
def test_rates_refuse_a_bad_file_in_one_line(tmp_path, text, message):
    with pytest.raises(ReferenceFileError) as raised:
        read_rates(_write(tmp_path, text))
    assert message in str(raised.value) and "nothing was loaded" in str(raised.value)
