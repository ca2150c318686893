"""Readers: encodings, separators, Excel, JSON Lines, and records that do not fit."""

from __future__ import annotations

import io

import openpyxl
import pytest

from ingestion.errors import IngestionError
from ingestion.readers import read_records


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "gb18030"])
@pytest.mark.parametrize("sep", [",", "\t", ";", "|"])
def test_encodings_and_separators(encoding, sep):
    text = sep.join(["姓名", "邮箱", "note"]) + "\n" + sep.join(["王伟", "W@x.cn", '"a, b"']) + "\n"
    records = read_records(text.encode(encoding), f"f.{'tsv' if sep == chr(9) else 'csv'}")
    assert records.table.column_names == ["姓名", "邮箱", "note"]
    assert records.table.to_pylist()[0]["姓名"] == "王伟"
    assert records.rows_in == 1


def test_records_that_do_not_fit_the_header_are_kept_with_their_number():
    records = read_records(b'a,b\n1,2\n3,4,5\n"x\ny",8\n\n6\n', "f.csv")
    assert records.table.to_pylist() == [{"a": "1", "b": "2"}, {"a": "x\ny", "b": "8"}]
    assert records.row_numbers.to_pylist() == [1, 3]
    assert [(m.row_number, m.raw) for m in records.malformed] == [(2, "3,4,5"), (4, "6")]
    assert records.rows_in == 4


def test_excel_first_sheet_with_native_cells():
    book = openpyxl.Workbook()
    book.active.append(["id", "when", "qty", "ok"])
    import datetime as dt

    book.active.append(["A1", dt.datetime(2017, 3, 15, 14, 5), 3.0, True])
    buffer = io.BytesIO()
    book.save(buffer)
    records = read_records(buffer.getvalue(), "renamed.csv")  # content wins over the suffix
    assert records.file_format == "xlsx"
    assert records.table.to_pylist() == [{"id": "A1", "when": "2017-03-15T14:05:00", "qty": "3",
                                          "ok": "True"}]


def test_jsonl_objects_nested_values_and_bad_lines():
    data = b'{"id": 1, "meta": {"ip": "1.2.3.4"}}\n\n[1, 2]\n{"id": 2, "x": null}\nnot json\n'
    records = read_records(data, "f.jsonl")
    assert records.table.to_pylist() == [{"id": "1", "meta": '{"ip": "1.2.3.4"}', "x": None},
                                         {"id": "2", "meta": None, "x": None}]
    assert records.row_numbers.to_pylist() == [1, 3]
    assert [m.row_number for m in records.malformed] == [2, 4]


@pytest.mark.parametrize(("data", "message"), [
    (b"", "the file is empty"), (b"\xef\xbb\xbf\r\n", "the file is empty"),
    (bytes(range(128, 256)) * 3, "cannot decode"), (b"PK\x03\x04garbage", "not a readable .xlsx"),
])
def test_unreadable_files_say_why(data, message):
    with pytest.raises(IngestionError, match=message):
        read_records(data, "f.csv")
