"""Turn a channel file's bytes into a table of strings, whatever the exporter did.

Handles UTF-8 with or without BOM, UTF-16 (ad platforms), GB18030/GBK (Chinese CRMs),
comma/tab/semicolon/pipe separated text, Excel ``.xlsx`` and JSON Lines. Every record
keeps its 1-based record number in the file; records that cannot even be split into
fields are returned as ``malformed`` so the loader can keep them with a reason.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import PurePath

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ingestion.errors import IngestionError, short

DELIMITERS = (",", "\t", ";", "|")
# A field may be as long as the file (a pasted e-mail thread, a 1 MB description).
csv.field_size_limit(2**31 - 1)
JSON_SUFFIXES = {".jsonl", ".ndjson", ".json"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
_ZIP_MAGIC = b"PK\x03\x04"
# Arrow parses a stream in blocks of this size (~50k records of a typical lead export).
_STREAM_BLOCK_BYTES = 8 << 20


@dataclass
class Malformed:
    row_number: int
    raw: str
    reason: str


@dataclass
class RawRecords:
    """Strings as sent: one column per source header, plus record numbers."""

    table: pa.Table
    row_numbers: pa.Array
    file_format: str
    encoding: str
    malformed: list[Malformed] = field(default_factory=list)

    @property
    def rows_in(self) -> int:
        return self.table.num_rows + len(self.malformed)

    @property
    def column_names(self) -> list[str]:
        return self.table.column_names

    def slices(self, size: int):
        """Consecutive pieces of at most ``size`` records; malformed ones ride with the last."""
        total = self.table.num_rows
        starts = list(range(0, total, size)) or [0]
        for start in starts:
            last = start == starts[-1]
            yield RawRecords(
                self.table.slice(start, size), self.row_numbers.slice(start, size),
                self.file_format, self.encoding, self.malformed if last else [],
            )


# Single-byte Western code pages a detector may name for a Salesforce/Excel export.
_WESTERN = {codecs.lookup(name).name
            for name in ("cp1252", "latin-1", "iso8859-15", "cp1250", "iso8859-2", "mac-roman")}
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")


def _cp1252_fallback(exc: UnicodeDecodeError):
    """For bytes that are not UTF-8 in a mostly-UTF-8 text: read them as Windows-1252."""
    return exc.object[exc.start:exc.end].decode("cp1252", errors="replace"), exc.end


codecs.register_error("salesops-cp1252", _cp1252_fallback)


def decode(data: bytes, source: str, encoding: str | None = None) -> tuple[str, str]:
    """Return (text, encoding name as recorded on the batch).

    ``encoding`` (the user's ``--encoding``) is used as given. Otherwise: BOMs win; then
    strict UTF-8; then charset-normalizer's best guess. A file mixing UTF-8 with stray
    Windows-1252/Latin-1 bytes (rows pasted from two systems) reads each UTF-8 sequence as
    UTF-8 and each other byte as Windows-1252, recorded as ``utf-8+cp1252``.
    """
    if encoding:
        try:
            return data.decode(encoding), codecs.lookup(encoding).name
        except LookupError as exc:
            raise IngestionError(source, f"unknown encoding {encoding!r}",
                                 "give a Python codec name such as utf-8, cp1252, latin-1, gb18030") from exc
        except UnicodeDecodeError as exc:
            raise IngestionError(
                source, f"not {encoding}: byte {exc.start} ({data[exc.start:exc.start + 1]!r}) "
                f"cannot be decoded", "leave --encoding out to detect the encoding") from exc
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(name), name
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes  # only files that are not UTF-8 pay for it

    best = from_bytes(data[:1 << 20]).best()
    guess = codecs.lookup(best.encoding).name if best is not None else None
    if guess is None or guess in _WESTERN:
        if _UTF8_SEQUENCE.search(data):
            return data.decode("utf-8", errors="salesops-cp1252"), "utf-8+cp1252"
        # Salesforce and Excel write Windows-1252; detectors hesitate between Latin code pages on
        # short texts. --encoding says otherwise.
        guess = "cp1252"
    try:
        return data.decode(guess), guess
    except (UnicodeDecodeError, LookupError):
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise IngestionError(
            source,
            f"cannot decode the file: not UTF-8, UTF-16, GB18030 or {guess} (byte {exc.start})",
            "give it with --encoding, or export the file as UTF-8 CSV",
        ) from exc


def remove_nul(records: RawRecords) -> tuple[RawRecords, dict[str, list[int]]]:
    """Postgres text cannot hold NUL: remove it from every value, saying where it was.

    Returns the cleaned records and {header: record numbers that held a NUL}.
    """
    found: dict[str, list[int]] = {}
    columns = []
    for name, column in zip(records.table.column_names, records.table.columns, strict=True):
        has = pc.fill_null(pc.match_substring(column, "\x00"), False)
        if pc.any(has).as_py():
            found[name] = records.row_numbers.filter(has.combine_chunks()).to_pylist()
            column = pc.replace_substring(column, "\x00", "")
        columns.append(column)
    if not found:
        return records, found
    table = pa.Table.from_arrays(columns, names=records.table.column_names)
    return RawRecords(table, records.row_numbers, records.file_format, records.encoding,
                      records.malformed), found


def _unique_headers(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for index, header in enumerate(headers):
        name = (header or "").strip().lstrip("\ufeff") or f"column_{index + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _read_arrow(data: bytes, headers: list[str], delimiter: str) -> pa.Table | None:
    """Arrow's multi-threaded reader; None when a record does not fit the header."""
    invalid: list[int] = []

    def on_invalid(_row) -> str:
        invalid.append(1)
        return "skip"

    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=headers, skip_rows=1),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
        ),
        convert_options=_string_columns(headers),
    )
    return None if invalid else table


def _header(first_line: str, source: str) -> tuple[list[str], str]:
    delimiter = sniff_delimiter(first_line)
    headers = _unique_headers(next(csv.reader([first_line], delimiter=delimiter), []))
    if not any(headers):
        raise IngestionError(source, "the file is empty (no header row)")
    return headers, delimiter


class NotStreamable(Exception):
    """A record did not fit the header mid-stream: read the file with the exact reader."""


@dataclass
class StreamedRecords:
    """A clean UTF-8 CSV read block by block, so loading starts before the whole file is parsed.

    Only valid while every record fits the header; the first one that does not raises
    ``NotStreamable`` (the loader then rolls back and uses ``read_records(stream=False)``).
    """

    data: bytes
    headers: list[str]
    delimiter: str
    file_format: str
    encoding: str = "utf-8"
    malformed: list[Malformed] = field(default_factory=list)
    rows_in: int = 0

    @property
    def column_names(self) -> list[str]:
        return self.headers

    def slices(self, size: int):
        invalid: list[int] = []

        def on_invalid(_row) -> str:
            invalid.append(1)
            return "skip"

        reader = pacsv.open_csv(
            io.BytesIO(self.data),
            read_options=pacsv.ReadOptions(column_names=self.headers, skip_rows=1,
                                           block_size=_STREAM_BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(delimiter=self.delimiter, newlines_in_values=True,
                                             invalid_row_handler=on_invalid),
            convert_options=_string_columns(self.headers),
        )
        self.rows_in = 0
        try:
            for batch in reader:
                if invalid:
                    raise NotStreamable()
                numbers = _record_numbers(self.rows_in + 1, batch.num_rows)
                self.rows_in += batch.num_rows
                yield RawRecords(pa.Table.from_batches([batch]), numbers, self.file_format, self.encoding)
        except pa.ArrowInvalid as exc:
            raise NotStreamable() from exc
        if invalid:
            raise NotStreamable()


def _record_numbers(first: int, count: int) -> pa.Array:
    # From numpy: Arrow converts a range one Python int at a time (~0.15 s per 1M records).
    return pa.array(np.arange(first, first + count, dtype=np.int64))


def _string_columns(headers: list[str]) -> pacsv.ConvertOptions:
    return pacsv.ConvertOptions(column_types={h: pa.string() for h in headers}, null_values=[""],
                                strings_can_be_null=True)


def stream_delimited_utf8(data: bytes, source: str) -> StreamedRecords | None:
    """A streamed reader for UTF-8 delimited text; None if the header is not UTF-8."""
    newline = data.find(b"\n")
    first = data[: newline if newline >= 0 else len(data)]
    try:
        headers, delimiter = _header(first.decode("utf-8").rstrip("\r"), source)
    except UnicodeDecodeError:
        return None
    return StreamedRecords(data, headers, delimiter, "tsv" if delimiter == "\t" else "csv")


def read_delimited_utf8(data: bytes, source: str) -> RawRecords | None:
    """Read UTF-8 bytes directly; None if they are not UTF-8 or need the exact reader."""
    newline = data.find(b"\n")
    first = data[: newline if newline >= 0 else len(data)]
    try:
        headers, delimiter = _header(first.decode("utf-8").rstrip("\r"), source)
        table = _read_arrow(data, headers, delimiter)
    except (UnicodeDecodeError, pa.ArrowInvalid):
        return None
    if table is None:
        return None
    fmt = "tsv" if delimiter == "\t" else "csv"
    return RawRecords(table, _record_numbers(1, table.num_rows), fmt, "utf-8")


def read_delimited(text: str, source: str, encoding: str) -> RawRecords:
    headers, delimiter = _header(text.split("\n", 1)[0].rstrip("\r"), source)
    fmt = "tsv" if delimiter == "\t" else "csv"
    try:
        table = _read_arrow(text.encode("utf-8"), headers, delimiter)
    except pa.ArrowInvalid:
        table = None
    if table is not None:
        return RawRecords(table, _record_numbers(1, table.num_rows), fmt, encoding)
    # Some records do not split into the header's fields: re-read exactly, record by record,
    # so each good row keeps its true record number and each bad one is kept with a reason.
    return _read_delimited_exact(text, headers, delimiter, fmt, encoding)


def _read_delimited_exact(
    text: str, headers: list[str], delimiter: str, fmt: str, encoding: str
) -> RawRecords:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    next(reader, None)
    width = len(headers)
    rows, numbers, malformed = [], [], []
    for number, record in enumerate((r for r in reader if r), start=1):
        if len(record) == width:
            rows.append(record)
            numbers.append(number)
        else:
            raw = delimiter.join(record)
            malformed.append(
                Malformed(number, raw, f"record has {len(record)} fields, the header has {width}")
            )
    columns = list(zip(*rows, strict=False)) if rows else [()] * width
    arrays = [pa.array([v if v != "" else None for v in col], pa.string()) for col in columns]
    table = pa.Table.from_arrays(arrays, names=headers)
    return RawRecords(table, pa.array(numbers, pa.int64()), fmt, encoding, malformed)


def _cell(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    return text if text.strip() else None


def read_excel(data: bytes, source: str) -> RawRecords:
    import openpyxl  # only Excel files pay for it

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise IngestionError(source, f"not a readable .xlsx workbook ({short(exc)})") from exc
    sheet = book.worksheets[0]
    rows = (r for r in sheet.iter_rows(values_only=True) if any(v is not None for v in r))
    header_row = next(rows, None)
    if header_row is None:
        raise IngestionError(source, "the workbook's first sheet is empty")
    headers = _unique_headers([_cell(v) or "" for v in header_row])
    width = len(headers)
    records, numbers, malformed = [], [], []
    for number, row in enumerate(rows, start=1):
        cells = [_cell(v) for v in row]
        if len(cells) > width and any(c is not None for c in cells[width:]):
            malformed.append(
                Malformed(number, json.dumps(cells, ensure_ascii=False),
                          f"row has values beyond the {width} header columns")
            )
            continue
        records.append((cells + [None] * width)[:width])
        numbers.append(number)
    book.close()
    columns = list(zip(*records, strict=False)) if records else [()] * width
    table = pa.Table.from_arrays([pa.array(c, pa.string()) for c in columns], names=headers)
    return RawRecords(table, pa.array(numbers, pa.int64()), "xlsx", "xlsx", malformed)


def _json_value(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def read_jsonl(text: str, source: str, encoding: str) -> RawRecords:
    objects, numbers, malformed = [], [], []
    for number, line in enumerate((ln for ln in text.splitlines() if ln.strip()), 1):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            malformed.append(Malformed(number, line, f"not valid JSON ({exc.msg} at {exc.pos})"))
            continue
        if not isinstance(obj, dict):
            malformed.append(Malformed(number, line, "a JSON line must be an object"))
            continue
        objects.append(obj)
        numbers.append(number)
    headers: dict[str, None] = {}
    for obj in objects:
        headers.update(dict.fromkeys(obj))
    names = list(headers)
    arrays = [pa.array([_json_value(o.get(k)) for o in objects], pa.string()) for k in names]
    table = pa.Table.from_arrays(arrays, names=names) if names else pa.table({})
    if not names:
        table = pa.table({"_empty": pa.nulls(len(objects), pa.string())})
    return RawRecords(table, pa.array(numbers, pa.int64()), "jsonl", encoding, malformed)


def _utf8_without_bom(data: bytes) -> bool:
    return not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def read_records(data: bytes, source: str, stream: bool = False,
                 encoding: str | None = None) -> RawRecords | StreamedRecords:
    """Dispatch on content first (an .xlsx renamed .csv is still a workbook), then suffix.

    ``stream=True`` may return StreamedRecords for large UTF-8 delimited files; ``encoding``
    overrides detection.
    """
    suffix = PurePath(source).suffix.lower()
    if data.startswith(_ZIP_MAGIC) or suffix in EXCEL_SUFFIXES:
        return read_excel(data, source)
    head = data[:4096].lstrip()
    if not head.strip(b"\xef\xbb\xbf\xff\xfe\x00 \r\n\t"):
        raise IngestionError(source, "the file is empty")
    json_like = suffix in JSON_SUFFIXES or head.startswith(b"{")
    if not json_like and not encoding and _utf8_without_bom(data) and b"\x00" not in head:
        # Fast path for the common case: Arrow reads and validates UTF-8 itself, no decode.
        if stream and len(data) > _STREAM_BLOCK_BYTES:
            streamed = stream_delimited_utf8(data, source)
            if streamed is not None:
                return streamed
        fast = read_delimited_utf8(data, source)
        if fast is not None:
            return fast
    text, used = decode(data, source, encoding)
    if json_like or text.lstrip().startswith("{"):
        return read_jsonl(text, source, used)
    return read_delimited(text, source, used)
