"""Apply an entity's contract to raw strings: typed values for good rows, reasons for the rest."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from ingestion import parsing
from ingestion.mapping import Match
from ingestion.readers import RawRecords


@dataclass
class Check:
    mask: np.ndarray
    column: str | None
    message: str


@dataclass
class Validated:
    good: pa.Table  # canonical columns as COPY-ready strings, plus _row_number, _record_hash, _extra
    rejected: list[tuple[int, str, str]]  # (row number, raw record as JSON, reason)


def _convert(column, values: pa.Array):
    kind = column.type
    if kind == "integer":
        return parsing.to_integer(values)
    if kind == "numeric":
        return parsing.to_numeric(values)
    if kind == "currency":
        return parsing.to_currency(values)
    if kind == "date":
        return parsing.to_date(values)
    if kind == "timestamp":
        return parsing.to_timestamp(values)
    if kind == "boolean":
        return parsing.to_boolean(values)
    if column.allowed:
        return parsing.to_allowed(values, column.allowed)
    return parsing.Converted(values, np.zeros(len(values), dtype=bool), "text")


def record_hash(table: pa.Table) -> pa.Array:
    """XXH3-64 of each record's values (UTF-8, joined by U+001F, null as empty), header order.

    XXH3 is a fixed, published algorithm, so a record's hash never changes across runs,
    machines or library versions; hashing slices of one joined Arrow buffer keeps the
    per-row Python work to a single C call.
    """
    if table.num_columns == 0:
        return pa.array([xxhash.xxh3_64_intdigest(b"")] * table.num_rows, pa.uint64()).cast(
            pa.int64(), safe=False)
    joined = pc.binary_join_element_wise(
        *table.columns, "\x1f", null_handling="replace", null_replacement=""
    ).combine_chunks()
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int32)[
        joined.offset: joined.offset + len(joined) + 1].tolist()
    data = joined.buffers()[2].to_pybytes() if joined.buffers()[2] is not None else b""
    digest = xxhash.xxh3_64_intdigest
    hashed = np.fromiter((digest(data[a:b]) for a, b in zip(offsets[:-1], offsets[1:], strict=True)),
                         dtype=np.uint64, count=len(joined))
    return pa.array(hashed.view(np.int64), pa.int64())


# One worker hashes while the caller converts: the hash loop holds the GIL, Arrow's
# kernels release it, so the two overlap.
_HASHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="record-hash")


def validate(records: RawRecords, match: Match) -> Validated:
    entity, source = match.entity, records.table
    hashes = _HASHER.submit(record_hash, source)
    n = source.num_rows
    cleaned = {
        canon: parsing.clean_text(source.column(header).combine_chunks())
        for canon, header in match.columns.items()
    }
    checks: list[Check] = []
    out: dict[str, pa.Array] = {}
    currencies: pa.Array | None = None
    for column in entity.columns:
        if column.name not in cleaned:
            out[column.name] = pa.nulls(n, pa.string())
            if column.required:  # unreachable after mapping; kept as a guard
                checks.append(Check(np.ones(n, dtype=bool), column.name, "required column absent"))
            continue
        values = cleaned[column.name]
        if column.type == "amount":
            converted, symbol_currency = parsing.split_amount(values)
            currencies = symbol_currency if currencies is None else pc.coalesce(currencies, symbol_currency)
        else:
            converted = _convert(column, values)
        checks.append(Check(converted.invalid, column.name, f"is not {converted.expected}"))
        if column.required:
            checks.append(Check(~parsing.present(values), column.name, "is required but empty"))
        if column.min is not None or column.max is not None:
            bounds = f"between {column.min} and {column.max}"
            checks.append(Check(parsing.out_of_range(converted.values, column.min, column.max),
                                column.name, f"is out of range (must be {bounds})"))
        out[column.name] = converted.values
    _resolve_currency(entity, out, currencies, match.default_currency, checks)
    for group in entity.require_any:
        absent = np.ones(n, dtype=bool)
        for name in group:
            absent &= ~parsing.present(out[name])
        checks.append(Check(absent, None, f"needs at least one of {', '.join(group)}"))

    bad = np.zeros(n, dtype=bool)
    for check in checks:
        bad |= check.mask
    good_idx = np.flatnonzero(~bad)
    good = pa.table(out).take(good_idx)
    good = good.append_column("_row_number", records.row_numbers.take(good_idx))
    good = good.append_column("_record_hash", hashes.result().take(good_idx))
    good = good.append_column("_extra", _extra(source, match.unmapped, good_idx))
    rejected = _rejections(records, match, checks, np.flatnonzero(bad))
    return Validated(good, rejected)


def _resolve_currency(entity, out, symbol_currency, default, checks) -> None:
    """Every amount carries a currency: the file's column, else its symbol, else the default."""
    amount_columns = [c for c in entity.columns if c.type == "amount"]
    if not amount_columns:
        return
    name = amount_columns[0].currency_column
    explicit = out[name]
    if symbol_currency is not None:
        conflict = pc.fill_null(pc.not_equal(explicit, symbol_currency), False)
        checks.append(Check(conflict.to_numpy(zero_copy_only=False), name,
                            "disagrees with the currency symbol of the amount"))
        explicit = pc.coalesce(explicit, symbol_currency)
    out[name] = pc.coalesce(explicit, pa.scalar(default))


def _extra(source: pa.Table, unmapped: tuple[str, ...], idx: np.ndarray) -> pa.Array:
    """Columns the contract does not know, as JSON, so nothing the sender wrote is lost."""
    if not unmapped:
        return pa.nulls(len(idx), pa.string())
    picked = source.select(list(unmapped)).take(idx).to_pylist()
    return pa.array(
        [json.dumps({k: v for k, v in row.items() if v is not None}, ensure_ascii=False)
         for row in picked],
        pa.string(),
    )


def _rejections(records: RawRecords, match: Match, checks: list[Check], idx: np.ndarray):
    rejected = []
    if len(idx):
        rows = records.table.take(idx).to_pylist()
        numbers = records.row_numbers.take(idx).to_pylist()
        for position, row, number in zip(idx, rows, numbers, strict=True):
            reasons = []
            for check in checks:
                if check.mask[position]:
                    if check.column is None:
                        reasons.append(check.message)
                    else:
                        header = match.columns.get(check.column, check.column)
                        value = row.get(header)
                        shown = f"{value!r} " if value is not None else ""
                        reasons.append(f"column {header!r}: {shown}{check.message}")
            rejected.append((number, json.dumps(row, ensure_ascii=False), "; ".join(reasons)))
    for bad in records.malformed:
        rejected.append((bad.row_number, json.dumps({"_raw": bad.raw}, ensure_ascii=False),
                         bad.reason))
    return rejected
