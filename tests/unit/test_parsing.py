"""Tolerant converters: what real exports send, and what must be refused."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from ingestion import parsing


def values(converted):
    return converted.values.to_pylist()


@pytest.mark.parametrize(("text", "amount", "currency"), [
    ("$12,500.00", "12500.00", "USD"), ("¥8,800", "8800", "CNY"), ("€1.234,50", "1234.50", "EUR"),
    ("USD 1,000", "1000", "USD"), ("4,514.00 USD", "4514.00", "USD"), ("(12.00)", "-12.00", None),
    ("１２３", "123", None), ("1 234,5", "1234.5", None), ("£3,200.00", "3200.00", "GBP"),
    ("N/A", None, None), ("usd 100", "100", None), ("100 元", "100", "CNY"), ("US$ 5", "5", "USD"),
    ("x999", None, None), ("\x1b[2J999", None, None), ("1.2M", None, None),
    ("12 500,00 €", "12500.00", "EUR"),
])
def test_amounts_keep_exact_digits_and_their_currency(text, amount, currency):
    converted, found = parsing.split_amount(pa.array([text]))
    assert values(converted) == [amount]
    assert found.to_pylist() == [currency]
    assert converted.invalid.tolist() == [amount is None]


@pytest.mark.parametrize(("text", "expected"), [
    ("2017-03-15", dt.date(2017, 3, 15)), ("2017/3/5", dt.date(2017, 3, 5)),
    ("15.03.2017", dt.date(2017, 3, 15)), ("2017年3月15日", dt.date(2017, 3, 15)),
    ("2017-03-15T10:00:00Z", dt.date(2017, 3, 15)), ("２０１７-03-15", dt.date(2017, 3, 15)),
    ("2016-02-29", dt.date(2016, 2, 29)),
    ("2017-02-30", None), ("2017-02-29", None), ("31.04.2017", None), ("00/00/0000", None),
    ("32.13.2017", None), ("TBD", None),
])
def test_dates(text, expected):
    assert values(parsing.to_date(pa.array([text]))) == [expected]


def test_month_first_or_day_first_is_decided_per_column():
    us = parsing.to_date(pa.array(["03/04/2017", "12/31/2017"]))
    eu = parsing.to_date(pa.array(["03/04/2017", "31/12/2017"]))
    assert values(us) == [dt.date(2017, 3, 4), dt.date(2017, 12, 31)]
    assert values(eu) == [dt.date(2017, 4, 3), dt.date(2017, 12, 31)]


def test_timestamps_with_and_without_offsets():
    utc = dt.UTC
    got = values(parsing.to_timestamp(pa.array([
        "2017-03-15T10:00:00Z", "2017-03-15T18:00:00+08:00", "2017-03-15T10:00:00+0000",
        "03/15/2017 14:05", "2017/03/15 14:05", "15.03.2017 14:05", "2017-03-15T10:00:00.5Z",
        "2017-02-30T10:00:00Z", "yesterday", None,
    ])))
    assert [v.astimezone(utc).replace(tzinfo=None) if v else None for v in got] == [
        dt.datetime(2017, 3, 15, 10), dt.datetime(2017, 3, 15, 10), dt.datetime(2017, 3, 15, 10),
        dt.datetime(2017, 3, 15, 14, 5), dt.datetime(2017, 3, 15, 14, 5), dt.datetime(2017, 3, 15, 14, 5),
        dt.datetime(2017, 3, 15, 10, 0, 0, 500000), None, None, None,
    ]



def test_a_files_format_ranking_carries_over_slices_without_changing_values():
    """The ranking of a column's first full sample is reused by its later slices; each
    slice still decides its own day/month order and reads what the ranking does not cover."""
    first = pa.array([f"2017-03-{d % 28 + 1:02d}T10:00:00" for d in range(parsing.SAMPLE_ROWS)])
    later = pa.array(["15.03.2017 14:05", "yesterday", "2017-03-15T10:00:00.5Z", "44301",
                      "03/04/2017", "2017-02-30T10:00:00", None])
    ranking = parsing.Ranking()
    assert values(parsing.to_timestamp(first, ranking=ranking)) == values(parsing.to_timestamp(first))
    assert ranking.fits is not None and ranking.fits["%Y-%m-%dT%H:%M:%S"] == parsing.SAMPLE_ROWS
    alone, carried = parsing.to_timestamp(later), parsing.to_timestamp(later, ranking=ranking)
    assert values(carried) == values(alone)
    assert carried.invalid.tolist() == alone.invalid.tolist() == [
        False, True, False, False, False, True, False]
    short = parsing.Ranking()
    parsing.to_date(pa.array(["2017-03-15"]), short)
    assert short.fits is None  # a sample smaller than SAMPLE_ROWS decides nothing for the file

def test_integers_currency_booleans_allowed_and_bounds():
    assert values(parsing.to_integer(pa.array(["3", "3.0", "1,000", "3.5", "x"]))) == [
        "3", "3", "1000", None, None]
    assert values(parsing.to_currency(pa.array(["usd", "RMB", "¥", "dollars"]))) == [
        "USD", "CNY", "CNY", None]
    assert values(parsing.to_boolean(pa.array(["Yes", "no", "是", "否", "maybe"]))) == [
        "true", "false", "true", "false", None]
    assert values(parsing.to_allowed(pa.array(["Call", "fax"]), ("call",))) == ["call", None]
    assert parsing.out_of_range(pa.array(["5", "11", None, "-1"]), 0, 10).tolist() == [
        False, True, False, True]


def test_missing_values_are_not_invalid():
    converted = parsing.to_date(pa.array([None, "2017-01-01"], pa.string()))
    assert converted.invalid.tolist() == [False, False]
    assert parsing.clean_text(pa.array(["  x\u3000", "   ", None])).to_pylist() == ["x", None, None]


def test_clean_text_skips_only_columns_with_nothing_to_trim():
    """The first/last-byte check agrees with trimming, on every kind of edge and on slices."""
    import itertools

    chars = ["a", " ", "\t", "\n", "\r", "\u3000", "\u00a0", "一", "\u3001", "\u00c2", "é", "😀", ""]
    values = ["".join(p) for p in itertools.product(chars, repeat=3)] + [None]
    for start in range(0, len(values), 97):
        for arr in (pa.array(values[start:start + 97], pa.string()),
                    pa.array([None, *values], pa.string()).slice(start + 1, 97)):
            trimmed = pc.utf8_trim(arr, characters=" \t\r\n\u3000\u00a0")
            expected = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)
            assert parsing.clean_text(arr).equals(expected)
            for value in arr.to_pylist():
                one = pa.array([value, "x"], pa.string())
                changes = not parsing.clean_text(one).equals(one)
                assert parsing._needs_trim(one) == changes, repr(value)


def test_numeric_day_month_rows_are_found_by_their_separator_then_the_pattern():
    values = ["15/03/2017", "3-15-2017", "2017-03-15", "1/2/2017 10:00", "12/3", "a/b/2017", "",
              None, "15.03.2017", "3/15/17", "一/2/2017", "9-9-2017x"]
    arr = pa.array(values, pa.string())
    expected = [0, 1, 3, 11]
    assert parsing._numeric_day_month_rows(arr).tolist() == expected
    assert parsing._numeric_day_month_rows(arr.slice(1)).tolist() == [i - 1 for i in expected[1:]]
    assert parsing._numeric_day_month_rows(pa.array([None, ""], pa.string())).tolist() == []
