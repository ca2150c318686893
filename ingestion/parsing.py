"""Vectorised, tolerant conversion of string columns to the contract's types.

Each converter returns the values as Postgres-ready text (exact decimals stay decimal
strings; Postgres does the final cast inside COPY) and a mask of rows it could not read.
Nothing here loops over rows in Python: a 1M-row file converts in about a second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%d.%m.%Y", "%Y年%m月%d日", "%Y%m%d", "%d/%m/%Y",
                "%d-%m-%Y", "%m-%d-%Y", "%d %b, %Y", "%d %b %Y", "%b %d, %Y", "%d-%b-%Y", "%d-%b-%y")
TIME_SUFFIXES = (" %H:%M:%S", " %H:%M", " %I:%M %p", " %I:%M:%S %p", "")
# Numeric day/month dates by separator: (month-first, day-first) and the order a column with
# no telling value is read in (US slashes; dashes are day-first where they are used). Dotted
# dates are always day-first (15.03.2017), so they have nothing to decide.
DAY_MONTH = {"/": ("%m/%d/%Y", "%d/%m/%Y", 0), "-": ("%m-%d-%Y", "%d-%m-%Y", 1)}
AMBIGUOUS_DATE = ("is an ambiguous date: its day and month are both 12 or less and the column mixes "
                  "day-first and month-first dates (Excel re-formatting?); write it as YYYY-MM-DD")
# Excel stores dates as days since 1899-12-30; a cell exported unformatted shows that number.
EXCEL_EPOCH_OFFSET = 25569  # days from 1899-12-30 to 1970-01-01
EXCEL_SERIAL = r"^[2-7]\d{4}(\.\d+)?$"  # 1954-10-03 .. 2119-04-24
SAMPLE_ROWS = 2000
ISO_WITH_OFFSET = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z")
LOCAL_DATETIME_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M") + tuple(
    d + t for d in DATE_FORMATS for t in TIME_SUFFIXES
)
TRUE_WORDS = ("true", "t", "yes", "y", "1", "x", "是", "✓")
FALSE_WORDS = ("false", "f", "no", "n", "0", "否")
# Currency symbols and words, longest first. "$" is read as USD and "¥" as CNY: say
# otherwise with a currency column. Codes are three capital letters.
CURRENCY_WORDS = {
    "US$": "USD", "HK$": "HKD", "S$": "SGD", "A$": "AUD", "C$": "CAD", "R$": "BRL",
    "RMB": "CNY", "人民币": "CNY", "元": "CNY", "美元": "USD", "欧元": "EUR",
    "$": "USD", "€": "EUR", "£": "GBP", "¥": "CNY", "￥": "CNY", "₹": "INR", "₩": "KRW",
}
_CODE = r"[A-Z]{3}"
_AMOUNT_PARTS = "|".join([_CODE, *(re.escape(w) for w in sorted(CURRENCY_WORDS, key=len, reverse=True)),
                          r"[\d.,()+\-\s'’_%\x{00a0}\x{3000}]"])


@dataclass
class Converted:
    values: pa.Array  # strings (or typed) ready for COPY; null where missing or unreadable
    invalid: np.ndarray  # bool per row: input present but unreadable
    expected: str  # what a readable value looks like, for the reject reason
    problems: list[tuple[np.ndarray, str]] = field(default_factory=list)  # other reasons, by row


def present(arr: pa.Array) -> np.ndarray:
    """True per row where a value was given (not null)."""
    return pc.is_valid(arr).to_numpy(zero_copy_only=False)


def _invalid(source: pa.Array, parsed: pa.Array) -> np.ndarray:
    return present(source) & ~present(parsed)


_TRIMMED = " \t\r\n\u3000\u00a0"


def _needs_trim(arr: pa.Array) -> bool:
    """Whether ``clean_text`` would change a value: one that starts or ends with a character it
    trims, or an empty one. Reads each value's first and last bytes only: most columns have
    no such value, and trimming copies every string (13 columns: ~0.3 s per 1M rows)."""
    if not isinstance(arr, pa.Array) or arr.type != pa.string():
        return True
    n = len(arr)
    if n == arr.null_count:
        return False
    _, offsets_buffer, data_buffer = arr.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32, count=n + 1, offset=arr.offset * 4)
    starts, ends = offsets[:-1], offsets[1:]
    if arr.null_count:
        given = present(arr)
        starts, ends = starts[given], ends[given]
    if not (ends - starts).all():
        return True  # an empty value, which becomes null
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    first, last = data.take(starts, mode="clip"), data.take(ends - 1, mode="clip")
    # Candidates: a control character or space at either end, or the first / last byte of
    # U+00A0 (C2 A0) or U+3000 (E3 80 80); byte comparisons cost less than a lookup table.
    candidate = (first <= 0x20) | (last <= 0x20)
    candidate |= (first == 0xC2) | (first == 0xE3) | (last == 0xA0) | (last == 0x80)
    if not candidate.any():
        return False
    candidates = np.flatnonzero(candidate)
    starts, ends = starts[candidates], ends[candidates]
    first, last, length = first[candidates], last[candidates], ends - starts

    def byte(position: np.ndarray) -> np.ndarray:
        return data.take(position, mode="clip")  # positions outside a value are masked

    edge = np.isin(first, list(b" \t\r\n")) | np.isin(last, list(b" \t\r\n"))
    edge |= (first == 0xC2) & (byte(starts + 1) == 0xA0)
    edge |= (first == 0xE3) & (byte(starts + 1) == 0x80) & (byte(starts + 2) == 0x80)
    edge |= (length >= 2) & (last == 0xA0) & (byte(ends - 2) == 0xC2)
    edge |= (length >= 3) & (last == 0x80) & (byte(ends - 2) == 0x80) & (byte(ends - 3) == 0xE3)
    return bool(edge.any())


def clean_text(arr: pa.Array) -> pa.Array:
    """Trim whitespace (incl. full-width spaces); empty becomes null."""
    if not _needs_trim(arr):  # the usual column: nothing to trim, nothing empty
        return arr
    trimmed = pc.utf8_trim(arr, characters=_TRIMMED)
    empty = pc.equal(trimmed, "")
    if not pc.any(empty).as_py():  # the usual case: skip copying every string again
        return trimmed
    return pc.if_else(empty, pa.scalar(None, pa.string()), trimmed)


def _digits_ascii(arr: pa.Array) -> pa.Array:
    # Full-width digits and punctuation from Chinese IMEs: NFKC folds them to ASCII.
    # Most columns are pure ASCII already; checking that is 10x cheaper than normalising.
    if pc.all(pc.string_is_ascii(arr)).as_py() is not False:
        return arr
    return pc.utf8_normalize(arr, form="NFKC")


def _normalise_decimal(arr: pa.Array) -> pa.Array:
    """'1,234.50' / '1.234,50' / '1 234,5' / '(12.00)' -> '1234.50' / '1234.50' / ... / '-12.00'."""
    text = pc.replace_substring_regex(arr, pattern=r"[\s'’_]|%$", replacement="")
    negative = pc.match_substring_regex(text, pattern=r"^\(.*\)$")
    text = pc.replace_substring_regex(text, pattern=r"^\((.*)\)$", replacement=r"\1")
    european = pc.match_substring_regex(text, pattern=r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$|^[+-]?\d+,\d{1,2}$")
    european_text = pc.replace_substring(pc.replace_substring(text, ".", ""), ",", ".")
    text = pc.if_else(european, european_text, pc.replace_substring(text, ",", ""))
    text = pc.if_else(negative, pc.binary_join_element_wise("-", text, ""), text)
    text = pc.replace_substring_regex(text, pattern=r"^\+", replacement="")
    valid = pc.match_substring_regex(text, pattern=r"^-?(\d+\.?\d*|\.\d+)$")
    return pc.if_else(valid, text, pa.scalar(None, pa.string()))


def to_numeric(arr: pa.Array) -> Converted:
    parsed = _normalise_decimal(_digits_ascii(arr))
    return Converted(parsed, _invalid(arr, parsed), "a number such as 1234.56 or 1,234.56")


def to_integer(arr: pa.Array) -> Converted:
    parsed = _normalise_decimal(_digits_ascii(arr))
    whole = pc.match_substring_regex(parsed, pattern=r"^-?\d+(\.0*)?$")
    parsed = pc.if_else(whole, pc.replace_substring_regex(parsed, r"\.0*$", ""), None)
    parsed = pc.if_else(pc.less(pc.utf8_length(parsed), 19), parsed, None)
    return Converted(parsed, _invalid(arr, parsed), "a whole number")


def split_amount(arr: pa.Array) -> tuple[Converted, pa.Array]:
    """'$12,500.00' -> ('12500.00', 'USD'); 'EUR 1.234,50' -> ('1234.50', 'EUR')."""
    text = _digits_ascii(arr)
    currency = pa.nulls(len(arr), pa.string())
    for word, code in CURRENCY_WORDS.items():
        has = pc.fill_null(pc.match_substring(text, word), False)
        currency = pc.if_else(pc.and_(has, pc.is_null(currency)), pa.scalar(code), currency)
    code = pc.extract_regex(text, pattern=rf"(?P<code>\b{_CODE}\b)")
    code = pc.struct_field(code, "code") if len(code) else pa.nulls(0, pa.string())
    currency = pc.coalesce(code, currency)
    stripped = pc.replace_substring_regex(text, pattern=rf"{_CODE}|[^\d.,()+\-\s']", replacement="")
    parsed = _normalise_decimal(pc.utf8_trim_whitespace(stripped))
    # Anything but digits, separators, a currency code or sign is not part of an amount:
    # 'x999', '1.2M' or an escape sequence before the digits make the value unreadable,
    # never a smaller number.
    leftover = pc.replace_substring_regex(pc.utf8_upper(text), pattern=_AMOUNT_PARTS, replacement="")
    parsed = pc.if_else(pc.fill_null(pc.greater(pc.utf8_length(leftover), 0), False),
                        pa.scalar(None, parsed.type), parsed)
    return (
        Converted(parsed, _invalid(arr, parsed), "an amount such as 1234.56, $1,234.56 or €1.234,56"),
        currency,
    )


def to_currency(arr: pa.Array) -> Converted:
    text = pc.utf8_upper(pc.utf8_trim_whitespace(_digits_ascii(arr)))
    for word, code in CURRENCY_WORDS.items():
        text = pc.if_else(pc.equal(text, word.upper()), pa.scalar(code), text)
    parsed = pc.if_else(pc.match_substring_regex(text, pattern=rf"^{_CODE}$"), text, None)
    return Converted(parsed, _invalid(arr, parsed), "a currency code such as USD or CNY")


_FIELD = {"%Y": r"(?P<y>\d{4})", "%m": r"(?P<m>\d{1,2})", "%d": r"(?P<d>\d{1,2})"}


def _no_rollover(text: pa.Array, parsed: pa.Array, fmt: str) -> pa.Array:
    """Null out dates strptime rolled over ('2017-02-30' -> March 2nd).

    A rolled-over date lands on day 1-3 of the next month, so only those rows are
    checked: their day field must exist in their month.
    """
    date_part = fmt.split(" ")[0].split("T")[0]
    if not all(f in date_part for f in ("%Y", "%m", "%d")):
        return parsed  # month names ('15 Apr, 2021'): no numeric month to check against
    suspect = pc.fill_null(pc.less_equal(pc.day(parsed), 3), False)
    if not pc.any(suspect).as_py():
        return parsed
    pattern = "^" + "".join(_FIELD.get(date_part[i:i + 2], "") if date_part[i] == "%" else
                            ("" if i > 0 and date_part[i - 1] == "%" else _escape(date_part[i]))
                            for i in range(len(date_part)))
    rows = np.flatnonzero(suspect.to_numpy(zero_copy_only=False))
    fields = pc.extract_regex(text.take(rows), pattern=pattern)
    y, m, d = (pc.cast(pc.struct_field(fields, k), pa.int32()).to_numpy(zero_copy_only=False)
               for k in ("y", "m", "d"))
    months = (y - 1970) * 12 + (m - 1)
    length = (np.array(months + 1, "datetime64[M]").astype("datetime64[D]")
              - np.array(months, "datetime64[M]").astype("datetime64[D]")).astype(int)
    bad = np.zeros(len(parsed), dtype=bool)
    bad[rows] = (d > length) | (m > 12) | (m < 1)
    return pc.if_else(pa.array(bad), pa.scalar(None, parsed.type), parsed)


def _escape(char: str) -> str:
    return "\\" + char if char in ".^$*+?()[]{}|\\/" else char


@dataclass
class Ranking:
    """How many values of a column's sample each format fits, kept across a file's slices.

    Trying every format on a sample costs more than parsing the column itself, so a file
    ranks a column's formats once, on its first full sample; which day/month order a
    slice uses is still decided per slice (``_day_month_order``).
    """

    fits: dict[str, int] | None = None


def _strptime_best(text: pa.Array, formats: list[str], unit: str = "s", finish=None,
                   ranking: Ranking | None = None) -> pa.Array:
    """Parse with the formats in order of how many rows of a sample they fit.

    Only rows still unparsed go on to the next format, so a clean column costs one pass.
    Of the day-first / month-first pair, only the one more rows fit is ever used on a column.
    ``finish(fmt, text, parsed)`` post-processes each format's result (calendar checks, zones).
    ``ranking`` keeps the sample's counts for the next slices of the same column.
    """
    finish = finish or (lambda fmt, candidates, attempt: _no_rollover(candidates, attempt, fmt))
    fits = ranking.fits if ranking is not None else None
    if fits is None:
        sample = pc.drop_null(text).slice(0, SAMPLE_ROWS)
        fits = {f: len(sample) - pc.strptime(sample, format=f, unit="s", error_is_null=True).null_count
                for f in formats}
        if ranking is not None and len(sample) == SAMPLE_ROWS:
            ranking.fits = fits
    drop, ambiguous = _day_month_order(text)
    formats = [f for f in formats if f.split(" ")[0] not in drop]
    fitted = sorted((f for f in formats if fits[f]), key=lambda f: (-fits[f], formats.index(f)))
    parsed = _first_fit(text, fitted, unit, finish)
    # Rows in a format the sample did not show: try the others on those rows only.
    rest = [f for f in formats if f not in fitted]
    parsed = _fill_missing(text, parsed, lambda left: _first_fit(left, rest, unit, finish, digits=True))
    if ambiguous.any():
        parsed = pc.if_else(pa.array(ambiguous), pa.scalar(None, parsed.type), parsed)
    return parsed, ambiguous


def _day_month_order(text: pa.Array) -> tuple[set[str], np.ndarray]:
    """Which numeric day/month formats a column does not use, and its ambiguous rows.

    Per separator, values whose first or second number is over 12 tell the order. A column
    whose values tell one order is read that way throughout; with no telling value, in the
    separator's usual order. Where a column tells both orders, or mixes separators and one
    of them tells nothing (Excel re-formatted some cells), each value is read the one way
    it can be, and values that fit both (day and month both 12 or less, and not equal) are
    ambiguous: rejected with a reason rather than guessed.
    """
    drop: set[str] = set()
    ambiguous = np.zeros(len(text), dtype=bool)
    rows = _numeric_day_month_rows(text)
    if not len(rows):  # ISO dates and the like: one pass, nothing to decide
        return drop, ambiguous
    subset = text.take(pa.array(rows))
    families = {}
    for sep, (month_first, day_first, usual) in DAY_MONTH.items():
        pattern = rf"^(?P<a>\d{{1,2}}){_escape(sep)}(?P<b>\d{{1,2}}){_escape(sep)}\d{{4}}"
        fields = pc.extract_regex(subset, pattern=pattern)
        valid = pc.is_valid(fields).to_numpy(zero_copy_only=False)
        if not valid.any():
            continue
        a = pc.cast(pc.struct_field(fields, "a"), pa.int32()).to_numpy(zero_copy_only=False)
        b = pc.cast(pc.struct_field(fields, "b"), pa.int32()).to_numpy(zero_copy_only=False)
        tells_month_first = (valid & (b > 12) & (a <= 12)).any()
        tells_day_first = (valid & (a > 12) & (b <= 12)).any()
        unsure = np.zeros(len(text), dtype=bool)
        unsure[rows] = valid & (a <= 12) & (b <= 12) & (a != b)
        families[sep] = (month_first, day_first, usual, tells_month_first, tells_day_first, unsure)
    for month_first, day_first, usual, tells_mf, tells_df, unsure in families.values():
        if tells_mf and tells_df:
            ambiguous |= unsure
        elif tells_mf or tells_df:
            drop.add(day_first if tells_mf else month_first)
        elif len(families) > 1 and unsure.any():
            ambiguous |= unsure
        else:
            drop.add((month_first, day_first)[1 - usual])
    return drop, ambiguous


def _numeric_day_month_rows(text: pa.Array) -> np.ndarray:
    """Rows written like 15/03/2017 or 3-15-2017. Only a value whose second or third byte is
    '/' or '-' can be one: the regular expression reads those only (an ISO column has none)."""
    candidates = np.arange(len(text))
    if isinstance(text, pa.Array) and text.type == pa.string() and len(text):
        _, offsets_buffer, data_buffer = text.buffers()
        if data_buffer is None or not len(data_buffer):
            return candidates[:0]
        offsets = np.frombuffer(offsets_buffer, dtype=np.int32, count=len(text) + 1, offset=text.offset * 4)
        starts, length = offsets[:-1], np.diff(offsets)
        data = np.frombuffer(data_buffer, dtype=np.uint8)
        second, third = data.take(starts + 1, mode="clip"), data.take(starts + 2, mode="clip")
        separator = ((length >= 2) & ((second == ord("/")) | (second == ord("-"))))
        separator |= (length >= 3) & ((third == ord("/")) | (third == ord("-")))
        candidates = np.flatnonzero(separator)
        if not len(candidates):
            return candidates
        text = text.take(pa.array(candidates))
    numeric = pc.fill_null(pc.match_substring_regex(text, r"^\d{1,2}[/-]\d{1,2}[/-]\d{4}"), False)
    return candidates[numeric.to_numpy(zero_copy_only=False)]


def _excel_serial(text: pa.Array, unit: str) -> pa.Array:
    """Excel serial day numbers (44301, 44301.5) as timestamps; null for anything else."""
    serial = pc.if_else(pc.match_substring_regex(text, EXCEL_SERIAL), text, pa.scalar(None, pa.string()))
    days = pc.subtract(pc.cast(serial, pa.float64()), EXCEL_EPOCH_OFFSET)
    seconds = pc.round(pc.multiply(days, 86400))
    return pc.cast(pc.cast(seconds, pa.int64()), pa.timestamp("s")).cast(pa.timestamp(unit))


def date_layout(arr: pa.Array) -> str | None:
    """The layout most values of a column are written in (for `salesops inspect`)."""
    sample = pc.drop_null(_digits_ascii(arr)).slice(0, SAMPLE_ROWS)
    if not len(sample):
        return None
    layouts = [*ISO_WITH_OFFSET, *LOCAL_DATETIME_FORMATS]
    fits = {f: len(sample) - pc.strptime(sample, format=f, unit="s", error_is_null=True).null_count
            for f in layouts}
    serial = pc.sum(pc.cast(pc.match_substring_regex(sample, EXCEL_SERIAL), pa.int64())).as_py() or 0
    best = max(fits, key=fits.get)
    if serial > fits[best]:
        return f"Excel serial day numbers ({serial} of {len(sample)} sampled)"
    if not fits[best]:
        return None
    drop, ambiguous = _day_month_order(sample)
    note = f" ({int(ambiguous.sum())} ambiguous day/month)" if ambiguous.any() else ""
    return f"{best} ({fits[best]} of {len(sample)} sampled){note}"


def _fill_missing(text: pa.Array, parsed: pa.Array, parse) -> pa.Array:
    """``parse`` applied to the given values ``parsed`` has no value for yet, and only to them."""
    missing = pc.and_(pc.is_valid(text), pc.is_null(parsed))
    if not pc.any(missing).as_py():
        return parsed
    return pc.replace_with_mask(parsed, missing, pc.cast(parse(pc.filter(text, missing)), parsed.type))


def _first_fit(text: pa.Array, formats: list[str], unit: str, finish, digits: bool = False) -> pa.Array:
    """Each value parsed by the first of ``formats`` that reads it. With ``digits``, values
    without a digit ('not a date', 'N/A') are not tried: every listed format reads digits."""
    if digits:
        text = pc.if_else(pc.match_substring_regex(text, r"\d"), text, pa.scalar(None, pa.string()))
    parsed = pa.nulls(len(text), pa.timestamp(unit))
    for index, fmt in enumerate(formats):
        todo = pc.and_(pc.is_valid(text), pc.is_null(parsed))
        if not pc.any(todo).as_py():
            break
        # The first format sees every value; the next ones only the values still unparsed.
        candidates = text if index == 0 else pc.if_else(todo, text, None)
        attempt = finish(fmt, candidates, pc.strptime(candidates, format=fmt, unit=unit, error_is_null=True))
        parsed = attempt if index == 0 else pc.coalesce(parsed, pc.cast(attempt, parsed.type))
    return parsed


def to_date(arr: pa.Array, ranking: Ranking | None = None) -> Converted:
    text = _digits_ascii(arr)
    # A timestamp given where a date is expected keeps its date part.
    time_of_day = r"[ T]\d{1,2}:\d{2}(:\d{2})?(\.\d+)?(\s?[AaPp][Mm])?\S*$"
    text = pc.replace_substring_regex(text, pattern=time_of_day, replacement="")
    parsed, ambiguous = _strptime_best(text, list(DATE_FORMATS), ranking=ranking)
    parsed = _fill_missing(text, parsed, lambda left: _excel_serial(left, "s"))
    out = pc.cast(parsed, pa.date32())
    return Converted(out, _invalid(arr, out) & ~ambiguous,
                     "a date such as 2017-03-15, 03/15/2017 or 15.03.2017", [(ambiguous, AMBIGUOUS_DATE)])


def to_timestamp(arr: pa.Array, timezone: str = "UTC", ranking: Ranking | None = None) -> Converted:
    """Date-times with an offset (ISO 8601) or without (read in ``timezone``), any listed format.

    Formats are tried in the order a sample of the column fits them, each only on the rows
    still unparsed; pandas' ISO parser only sees what is left (fractions of seconds).
    """
    utc = pa.timestamp("us", tz="UTC")

    def finish(fmt: str, candidates: pa.Array, attempt: pa.Array) -> pa.Array:
        if fmt in ISO_WITH_OFFSET:
            # Check the calendar on the written (local) date, before the offset shifts it.
            local = pc.strptime(pc.utf8_slice_codeunits(candidates, 0, 10), format="%Y-%m-%d",
                                unit="us", error_is_null=True)
            calendar_ok = pc.is_valid(_no_rollover(candidates, local, "%Y-%m-%d"))
            return pc.cast(pc.if_else(calendar_ok, attempt, pa.scalar(None, attempt.type)), utc)
        attempt = _no_rollover(candidates, attempt, fmt)
        if timezone != "UTC":  # a UTC wall-clock time is already the instant Arrow stores
            attempt = pc.assume_timezone(attempt, timezone=timezone, ambiguous="earliest",
                                         nonexistent="earliest")
        return pc.cast(attempt, utc)

    text = _digits_ascii(arr)
    parsed, ambiguous = _strptime_best(text, [*ISO_WITH_OFFSET, *LOCAL_DATETIME_FORMATS], "us", finish,
                                       ranking)
    parsed = pc.cast(parsed, utc)
    parsed = _fill_missing(text, parsed, lambda left: pc.assume_timezone(_excel_serial(left, "us"),
                                                                        timezone=timezone))
    parsed = _fill_missing(text, parsed, _iso8601)
    return Converted(parsed, _invalid(arr, parsed) & ~ambiguous, "a date-time such as 2017-03-15T14:05:00Z",
                     [(ambiguous, AMBIGUOUS_DATE)])


def _iso8601(text: pa.Array) -> pa.Array:
    """Values no listed format fits (other layouts, fractions of seconds), as UTC: pandas'
    general ISO 8601 parser, on the ISO-like ones only."""
    iso_like = pc.fill_null(pc.match_substring_regex(text, r"^\d{4}-\d{2}-\d{2}"), False)
    out = pa.nulls(len(text), pa.timestamp("us", tz="UTC"))
    if not pc.any(iso_like).as_py():
        return out
    import pandas as pd

    iso = pd.to_datetime(pd.Series(pc.filter(text, iso_like), dtype=pd.ArrowDtype(pa.string())),
                         format="ISO8601", utc=True, errors="coerce")
    naive = pa.array(iso.dt.tz_convert(None).to_numpy(), pa.timestamp("us"), from_pandas=True)
    return pc.replace_with_mask(out, iso_like, pc.cast(naive, out.type))


def to_boolean(arr: pa.Array) -> Converted:
    text = pc.utf8_lower(arr)
    out = pc.if_else(
        pc.is_in(text, pa.array(TRUE_WORDS)), pa.scalar("true"),
        pc.if_else(pc.is_in(text, pa.array(FALSE_WORDS)), pa.scalar("false"), pa.scalar(None, pa.string())),
    )
    return Converted(out, _invalid(arr, out), "yes/no or true/false")


def to_allowed(arr: pa.Array, allowed: tuple[str, ...]) -> Converted:
    text = pc.utf8_lower(arr)
    out = pc.if_else(pc.is_in(text, pa.array(allowed)), text, pa.scalar(None, pa.string()))
    return Converted(out, _invalid(arr, out), f"one of {', '.join(allowed)}")


def out_of_range(values: pa.Array, low: float | None, high: float | None) -> np.ndarray:
    numbers = pc.cast(values, pa.float64())
    mask = np.zeros(len(values), dtype=bool)
    if low is not None:
        mask |= pc.fill_null(pc.less(numbers, low), False).to_numpy(zero_copy_only=False)
    if high is not None:
        mask |= pc.fill_null(pc.greater(numbers, high), False).to_numpy(zero_copy_only=False)
    return mask
