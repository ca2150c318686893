"""File writers: CSV/TSV in several encodings, JSONL and byte-reproducible XLSX.

Columns arrive as a dict of equal-length object arrays holding str or None (None = empty
field), or Arrow string arrays (the activities' fast path). pyarrow's CSV writer does the
heavy lifting for big files, the csv module (minimal quoting) for the rest; other encodings
are transcoded. XLSX zips are rewritten with fixed timestamps so reruns are byte-identical.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from . import config as C

Columns = Mapping[str, np.ndarray]
_BOMS = {"utf-8-sig": b"\xef\xbb\xbf", "utf-16": b"\xff\xfe"}
_CODECS = {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "utf-16": "utf-16-le",
           "gb18030": "gb18030"}  # explicit LE: platform independent
_ZIP_TIME = (2018, 1, 1, 0, 0, 0)
_CORE_TIME = rb"\g<1>2018-01-01T00:00:00Z"


def n_rows(cols: Columns) -> int:
    return len(next(iter(cols.values())))


def _arrow(v, start: int, stop: int) -> pa.Array:
    if isinstance(v, pa.Array):
        return v.slice(start, stop - start)
    return pa.array(np.asarray(v[start:stop], dtype=object), type=pa.string())


def _table(cols: Columns, start: int, stop: int) -> pa.Table:
    return pa.table({k: _arrow(v, start, stop) for k, v in cols.items()})


def write_csv(cols: Columns, path: Path, encoding: str = "utf-8", delimiter: str = ",",
              start: int = 0, stop: int | None = None, quote_all: bool = False,
              eol: str = "\n") -> None:
    """Write rows [start, stop) as CSV/TSV.

    encoding: "utf-8", "utf-8-sig" (BOM), "utf-16" (little-endian with BOM, as Facebook
    exports) or "gb18030". quote_all: pyarrow's fast writer, which quotes every text value
    (as Salesforce does); otherwise the csv module quotes only where needed.
    """
    if encoding not in ("utf-8", "utf-8-sig", "utf-16", "gb18030"):
        raise ValueError(encoding)
    stop = n_rows(cols) if stop is None else stop
    if quote_all:
        opts = pcsv.WriteOptions(delimiter=delimiter, quoting_style="needed",
                                 quoting_header="none")
        table = _table(cols, start, stop)
        if encoding in ("utf-16", "gb18030"):
            sink = pa.BufferOutputStream()
            pcsv.write_csv(table, sink, write_options=opts)
            data = sink.getvalue().to_pybytes().decode("utf-8").encode(_CODECS[encoding])
            path.write_bytes(_BOMS[encoding] + data if encoding in _BOMS else data)
            return
        with path.open("wb") as fh:  # UTF-8: stream straight to disk
            fh.write(_BOMS.get(encoding, b""))
            pcsv.write_csv(table, fh, write_options=opts)
        return
    with path.open("w", encoding=_CODECS[encoding], newline="") as fh:
        fh.write("\ufeff" if encoding == "utf-16" else "")  # utf-8-sig adds its own BOM
        writer = csv.writer(fh, delimiter=delimiter, lineterminator=eol)
        writer.writerow(list(cols))
        columns = (_arrow(v, start, stop).to_pylist() if isinstance(v, pa.Array) else v[start:stop]
                   for v in cols.values())
        writer.writerows(zip(*columns, strict=True))


def part_paths(out_dir: Path, stem: str, ext: str, total: int) -> list[tuple[Path, int, int]]:
    """Split `total` rows into files of <= MAX_ROWS_PER_FILE; a single part keeps the stem."""
    n_parts = max(1, -(-total // C.MAX_ROWS_PER_FILE))
    bounds = np.linspace(0, total, n_parts + 1).astype(int)
    out = []
    for i in range(n_parts):
        name = f"{stem}.{ext}" if n_parts == 1 else f"{stem}_part{i + 1:03d}.{ext}"
        out.append((out_dir / name, int(bounds[i]), int(bounds[i + 1])))
    return out


def write_csv_parts(cols: Columns, out_dir: Path, stem: str, ext: str = "csv",
                    **kwargs) -> list[tuple[Path, int]]:
    """Write in parts; return (path, data rows) per file."""
    parts = part_paths(out_dir, stem, ext, n_rows(cols))
    for path, start, stop in parts:
        write_csv(cols, path, start=start, stop=stop, **kwargs)
    return [(p, stop - start) for p, start, stop in parts]


def write_xlsx_parts(cols: Columns, out_dir: Path, stem: str, sheet: str,
                     kinds: Mapping[str, str]) -> list[tuple[Path, int]]:
    """XLSX in parts; kinds maps columns to excel_value kinds (date, datetime, number, bool)."""
    out = []
    for path, start, stop in part_paths(out_dir, stem, "xlsx", n_rows(cols)):
        part = {k: v[start:stop] for k, v in cols.items()}
        write_xlsx(path, list(part), excel_rows(part, kinds), sheet)
        out.append((path, stop - start))
    return out


def write_jsonl(rows: Iterable[dict], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_xlsx(path: Path, header: Sequence[str], rows: Iterable[Sequence], sheet: str) -> None:
    """Write one sheet with openpyxl write_only, then pin zip/core timestamps."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append(list(header))
    for row in rows:
        ws.append([_cell(ws, v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    _normalise_zip(buf, path)


def _cell(ws, value):
    # A text value starting with "=" must stay text (it is injection *data*), not a formula.
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        return cell
    return value


def _normalise_zip(buf: io.BytesIO, path: Path) -> None:
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", _CORE_TIME, data)
            zi = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(zi, data)


def excel_value(kind: str, v: str | None):
    """Typed Excel cell from our string column; unparseable (deliberately invalid) stays text."""
    if v is None:
        return None
    try:
        if kind == "date":
            return dt.date.fromisoformat(v)
        if kind == "datetime":
            return dt.datetime.fromisoformat(v)
        if kind == "number":
            return float(v)
        if kind == "bool":
            return {"true": True, "false": False}[v]
    except (ValueError, KeyError):
        return v
    return v


def excel_rows(cols: Columns, kinds: Mapping[str, str]):
    keys = list(cols)
    for i in range(n_rows(cols)):
        yield [excel_value(kinds[k], cols[k][i]) if k in kinds else cols[k][i] for k in keys]
