"""Load channel files into ``raw`` as batches: one transaction each, every row accounted for.

A batch is booked in ``ops.ingestion_batches`` before any work (status ``running``) and
finished in the same transaction that COPYs its rows, so a crash leaves no partial data
and the booked row shows ``interrupted`` on the next run. Files are identified by the
SHA-256 of their content: loading the same content again changes nothing.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import fnmatch
import hashlib
import io
import json
import os
import re
import stat
import time
from dataclasses import asdict, dataclass
from datetime import UTC
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from pgpq import ArrowToPostgresBinaryEncoder
from pgpq.encoders import StringEncoderBuilder
from pgpq.schema import Jsonb
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from ingestion.contracts import PresetError, channels, contract, presets
from ingestion.errors import IngestionError, excerpt, headers_excerpt, short
from ingestion.mapping import match
from ingestion.readers import NotStreamable, RawRecords, StreamedRecords, read_records, remove_nul
from ingestion.validate import validate

# Namespaces for advisory locks: per file content (serialises two loaders of one file)
# and per batch (held while a batch is live, so a crashed one can be told from a running one).
_CONTENT_LOCK, _BATCH_LOCK = 7_310_101, 7_310_102
_SLICE_ROWS = 25_000
SUPPORTED_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".jsonl", ".ndjson", ".json"}


@dataclass
class BatchResult:
    channel: str
    source_file: str
    status: str  # loaded | skipped | failed
    rows_in: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    batch_id: int | None = None
    entity: str | None = None
    raw_table: str | None = None
    message: str = ""
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class LoadOptions:
    """What a user says about a file that the file does not say itself (``salesops ingest`` flags)."""

    preset: str | None = None  # force a preset instead of detecting one
    preset_files: tuple[str, ...] = ()  # extra preset files (--preset-file)
    encoding: str | None = None  # override encoding detection
    currency: str | None = None  # the file's currency where a row has none (ISO 4217)
    country: str | None = None  # the file's country where a row has none (ISO 3166 alpha-2)
    constants: tuple[tuple[str, str], ...] = ()  # (column, value) for every row (--set)

    def recorded(self) -> dict:
        """The options given, as booked on the batch."""
        given = {k: v for k, v in dataclasses.asdict(self).items() if v not in (None, ())}
        if self.constants:
            given["constants"] = dict(self.constants)
        return given


def check_options(channel: str, options: LoadOptions) -> None:
    """Refuse bad options before anything is booked (KeyError/ValueError with one clear line)."""
    if channel not in channels():
        raise KeyError(f"unknown channel {channel!r}; one of {', '.join(channels())}")
    if options.currency and not re.fullmatch(r"[A-Z]{3}", options.currency):
        raise ValueError(f"--currency {options.currency!r}: give an ISO 4217 code such as USD, GBP or CNY")
    if options.country and not re.fullmatch(r"[A-Z]{2}", options.country):
        raise ValueError(f"--country {options.country!r}: give an ISO 3166 code such as AU, GB or CN")
    if options.encoding:
        import codecs

        try:
            codecs.lookup(options.encoding)
        except LookupError as exc:
            raise ValueError(f"--encoding {options.encoding!r}: not an encoding Python knows "
                             "(utf-8, cp1252, latin-1, gb18030, utf-16, ...)") from exc
    columns = {c.name for e in contract(channel).entities for c in e.columns}
    for name, _ in options.constants:
        if name not in columns:
            raise ValueError(f"--set {name}: channel {channel} has no column {name!r} "
                             f"(columns: {', '.join(sorted(columns))})")
    try:
        known = presets(channel, options.preset_files)
    except PresetError as exc:
        raise ValueError(str(exc)) from exc
    if options.preset and options.preset not in {p.name for p in known}:
        names = ", ".join(p.name for p in known) or "none"
        raise KeyError(f"channel {channel} has no preset {options.preset!r} (presets: {names})")


def read_bytes(source: str, root: str | None = None) -> bytes:
    """A landing file's bytes. A symbolic link is refused: whoever can drop one into a landing
    folder must not make salesops read (and keep as rejected rows) a file elsewhere.

    ``root`` is the landing folder the file was found in: every folder between it and the
    file is opened without following links, and a path that leaves it (``..``) is refused,
    so nothing outside the root is read, whatever the path says.
    """
    if "://" in source:
        import fsspec  # object storage in production (s3://, gs://, ...)

        if root is not None:
            _parts_below(source, root)
        with fsspec.open(source, "rb") as handle:
            return handle.read()
    fd = _open_below(source, root) if root is not None else _open_file(source, source)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise IngestionError(source, "is not a regular file", _NOT_A_LINK)
        return handle.read()


_NOT_A_LINK = "copy the file itself into the landing folder"


def _open_file(source: str, name: str, dir_fd: int | None = None) -> int:
    # O_NONBLOCK: a FIFO dropped into a landing folder must not block the loader forever.
    try:
        return os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError as exc:
        if Path(source).is_symlink():
            raise IngestionError(source, "is a symbolic link; salesops reads only regular files",
                                 _NOT_A_LINK) from exc
        raise


def _parts_below(source: str, root: str) -> list[str]:
    """The path components of ``source`` below ``root``; IngestionError when it leaves the root."""
    if "://" in source:
        prefix = root.rstrip("/") + "/"
        parts = source[len(prefix):].split("/") if source.startswith(prefix) else None
        if source == root:
            parts = []
    else:
        rel = os.path.relpath(os.path.abspath(source), os.path.abspath(root))
        parts = [] if rel == "." else Path(rel).parts
    if parts is None or ".." in parts:
        raise IngestionError(source, f"is outside the landing folder {root}; salesops reads only files "
                             "inside it", "copy the file into the landing folder")
    return [part for part in parts if part not in ("", ".")]


def _open_below(source: str, root: str) -> int:
    """A descriptor of ``source``, reached from ``root`` one component at a time, no link followed."""
    parts = _parts_below(source, root)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for depth, name in enumerate(parts[:-1], start=1):
            try:
                step = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY, dir_fd=fd)
            except OSError as exc:
                where = os.path.join(root, *parts[:depth])
                if os.path.islink(where):
                    raise IngestionError(source, f"is inside {where}, a symbolic link; salesops reads only "
                                         "files inside the landing folder", _NOT_A_LINK) from exc
                raise
            os.close(fd)
            fd = step
        if not parts:
            return os.dup(fd)
        return _open_file(source, parts[-1], dir_fd=fd)
    finally:
        os.close(fd)


def recover_interrupted(conn: psycopg.Connection) -> int:
    """Mark batches whose loader died as interrupted (their rows were rolled back)."""
    recovered = 0
    running = conn.execute(
        "select batch_id from ops.ingestion_batches where status = 'running'"
    ).fetchall()
    for (batch_id,) in running:
        got = conn.execute("select pg_try_advisory_lock(%s, %s)", (_BATCH_LOCK, batch_id)).fetchone()
        if got[0]:
            conn.execute(
                "update ops.ingestion_batches set status = 'interrupted', finished_at = now(),"
                " error = 'the loading process stopped before the batch committed; none of its"
                " rows were kept; load the file again' where batch_id = %s and status = 'running'",
                (batch_id,),
            )
            conn.execute("select pg_advisory_unlock(%s, %s)", (_BATCH_LOCK, batch_id))
            recovered += 1
    return recovered


def ingest_file(url: str, channel: str, source: str, preset: str | None = None,
                options: LoadOptions | None = None, root: str | None = None) -> BatchResult:
    """Load one file; returns what happened. Raises IngestionError for a file that is refused.

    A file whose every record was rejected is booked ``rejected`` (result status ``rejected``).
    ``root``: the landing folder the file was found in; nothing outside it is read (``read_bytes``).
    """
    from salesops.warehouse import role_url

    started = time.perf_counter()
    options = options or LoadOptions(preset=preset)
    chan = contract(channel)
    data = read_bytes(source, root)
    digest = hashlib.sha256(data).hexdigest()
    # Files are landed with the loader's privileges only (raw, ops, reference).
    with psycopg.connect(role_url(url, "loader"), autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s, hashtext(%s))", (_CONTENT_LOCK, channel + digest))
        recover_interrupted(conn)
        prior = conn.execute(
            "select batch_id, source_file, finished_at from ops.ingestion_batches"
            " where channel = %s and file_sha256 = %s and status = 'loaded'",
            (channel, digest),
        ).fetchone()
        if prior:
            return BatchResult(
                channel, source, "skipped", batch_id=prior[0],
                message=f"already loaded as batch {prior[0]} from {prior[1]} at "
                        f"{prior[2].astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC; nothing changed",
                seconds=time.perf_counter() - started,
            )
        batch_id = conn.execute(
            "insert into ops.ingestion_batches (channel, source_file, file_sha256, file_bytes, status,"
            " options) values (%s, %s, %s, %s, 'running', %s) returning batch_id",
            (channel, source, digest, len(data), json.dumps(options.recorded() or None)),
        ).fetchone()[0]
        conn.execute("select pg_advisory_lock(%s, %s)", (_BATCH_LOCK, batch_id))
        records = None
        nul = b"\x00" in data
        try:
            try:
                records = read_records(data, source, stream=True, encoding=options.encoding)
                found = find_match(chan, records.column_names, source, options)
                load = (conn, found, batch_id, source, started, nul)
                try:
                    loaded, rejected, notes, status = _load_batch(records, *load)
                except NotStreamable:
                    # A record does not fit the header: nothing was committed; read it exactly.
                    records = read_records(data, source, encoding=options.encoding)
                    loaded, rejected, notes, status = _load_batch(records, *load)
            except (psycopg.errors.DataError, csv.Error, UnicodeError, ValueError) as exc:
                # Data the reader or the warehouse could not take: the whole file is refused
                # (nothing was committed) and its records kept with the reason, in one line.
                detail = exc.diag.message_primary if isinstance(exc, psycopg.Error) else str(exc)
                raise IngestionError(source, f"the file could not be loaded: {short(detail)}",
                                     "check the file's format; `salesops inspect FILE` shows how it is read"
                                     ) from exc
        except IngestionError as exc:
            if not isinstance(records, RawRecords):
                with contextlib.suppress(IngestionError, ValueError, UnicodeError, csv.Error):
                    records = read_records(data, source, encoding=options.encoding)
            if not isinstance(records, RawRecords):
                records = None
            _fail(conn, batch_id, channel, source, records, exc, started)
            raise
        except BaseException:
            # Unexpected (database gone, bug, Ctrl-C): nothing was committed; say so.
            _mark_interrupted(conn, batch_id)
            raise
        message = _loaded_message(found, records, notes)
        if status == "rejected":
            message = f"every record was rejected ({len(rejected)}); nothing was loaded; " + message
        return BatchResult(
            channel, source, status, records.rows_in, loaded, len(rejected), batch_id,
            found.entity.entity, found.entity.qualified_table, message,
            time.perf_counter() - started,
        )


def find_match(chan, headers: list[str], source: str, options: LoadOptions):
    """The entity and preset a file's headers fit, with the user's options applied."""
    found = match(chan, headers, source, options.preset, preset_files=options.preset_files,
                  constants=dict(options.constants))
    return dataclasses.replace(
        found,
        default_currency=options.currency or found.default_currency,
        default_country=options.country or found.default_country,
    )


def _load_batch(records, conn, found, batch_id: int, source: str, started: float, nul: bool = False):
    """One transaction: the good rows, the rejected ones, and the batch marked loaded (or
    rejected, when no record was good)."""
    with conn.transaction():
        loaded, rejected, notes = _copy_validated(conn, records, found, batch_id, nul)
        _copy_rejects(conn, batch_id, found.entity.channel, found.entity.entity, source, rejected)
        status = "loaded" if loaded or not records.rows_in else "rejected"
        conn.execute(
            "update ops.ingestion_batches set status = %s, entity = %s, raw_table = %s,"
            " preset = %s, file_format = %s, encoding = %s, rows_in = %s, rows_loaded = %s,"
            " rows_rejected = %s, finished_at = clock_timestamp(),"
            " duration_ms = %s, error = %s where batch_id = %s",
            (status, found.entity.entity, found.entity.qualified_table, found.preset,
             records.file_format, records.encoding, records.rows_in, loaded, len(rejected),
             int((time.perf_counter() - started) * 1000), "; ".join(notes) or None, batch_id),
        )
    return loaded, rejected, notes, status


def _loaded_message(found, records, notes: list[str]) -> str:
    parts = [f"as {found.entity.entity}" + (f" (preset {found.preset})" if found.preset else "")]
    if records.encoding not in ("utf-8", "utf-8-sig", "xlsx"):
        parts.append(f"encoding {records.encoding}")
    if found.synthetic_id:
        parts.append(f"no {found.synthetic_id} column: ids made from each record's content")
    if found.unmapped:
        parts.append(f"unknown columns kept in _extra: {headers_excerpt(list(found.unmapped))}")
    return "; ".join(parts + notes)


def _mark_interrupted(conn: psycopg.Connection, batch_id: int) -> None:
    # If the connection itself is gone, the next run's recovery marks the batch instead.
    with contextlib.suppress(psycopg.Error):
        conn.execute(
            "update ops.ingestion_batches set status = 'interrupted', finished_at = now(),"
            " error = 'load aborted before commit; nothing was kept' where batch_id = %s",
            (batch_id,),
        )


def _fail(conn, batch_id, channel, source, records, exc: IngestionError, started) -> None:
    """A refused file: no raw rows; every record it had is kept as rejected with the reason."""
    rejected = []
    if records is not None:
        table = records.table.to_pylist()
        numbers = records.row_numbers.to_pylist()
        rejected = [
            (num, json.dumps(row, ensure_ascii=False), exc.problem)
            for num, row in zip(numbers, table, strict=True)
        ]
        rejected += [
            (m.row_number, json.dumps({"_raw": m.raw}, ensure_ascii=False), exc.problem)
            for m in records.malformed
        ]
    with conn.transaction():
        _copy_rejects(conn, batch_id, channel, None, source, rejected)
        conn.execute(
            "update ops.ingestion_batches set status = 'failed', error = %s, rows_in = %s,"
            " rows_loaded = 0, rows_rejected = %s, file_format = %s, encoding = %s,"
            " finished_at = clock_timestamp(), duration_ms = %s where batch_id = %s",
            (str(exc), len(rejected), len(rejected),
             records.file_format if records else None, records.encoding if records else None,
             int((time.perf_counter() - started) * 1000), batch_id),
        )


def _copy_validated(conn, records: RawRecords | StreamedRecords, found, batch_id: int,
                    nul: bool = False):
    """Validate slice by slice while a worker thread streams the previous slice to COPY.

    The server parses COPY on one core while Python converts the next slice on the
    other, so the load costs little more than the COPY itself. Rows travel in Postgres'
    binary format (pgpq encodes the Arrow columns), which the server stores without
    parsing text; an entity with decimal columns travels as CSV (see ``_BINARY_WIRE``).
    The load metadata travels with the rows: a column default would be evaluated per row.
    The source file is not among it: it is the batch's (``ops.ingestion_batches``).
    """
    entity = found.entity
    columns = [c.name for c in entity.columns] + list(_METADATA)
    binary = all(c.type in _BINARY_WIRE for c in entity.columns)
    statement = sql.SQL("copy {} ({}) from stdin (format {})").format(
        sql.Identifier(*entity.qualified_table.split(".")),
        sql.SQL(", ").join(map(sql.Identifier, columns)), sql.SQL("binary" if binary else "csv"),
    )
    # The transaction's start time, which is what a default of now() would have stored.
    loaded_at = conn.execute("select now()").fetchone()[0]
    if binary:
        schema = pa.schema([(c.name, _BINARY_WIRE[c.type]) for c in entity.columns] + list(_METADATA.items()))
        encoder = _binary_encoder(schema)
        header, encode, footer = encoder.write_header(), encoder.write_batch, encoder.finish
    else:
        # Timestamps travel as UTC wall-clock text: formatting them with a zone costs Arrow 20x more.
        conn.execute("set local timezone = 'UTC'")
        options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
        schema, header, footer = None, b"", lambda: b""

        def encode(batch: pa.RecordBatch) -> bytes:
            buffer = io.BytesIO()
            pacsv.write_csv(pa.table([_naive_utc(col) for col in batch.columns], names=batch.schema.names),
                            buffer, options)
            return buffer.getvalue()

    loaded, rejected, nul_rows, rankings = 0, [], {}, {}
    with conn.cursor() as cur, cur.copy(statement, writer=QueuedLibpqWriter(cur)) as copy:
        copy.write(header)
        for piece in records.slices(_SLICE_ROWS):
            if nul:
                piece, where = remove_nul(piece)
                for column, numbers in where.items():
                    nul_rows.setdefault(column, []).extend(numbers)
            checked = validate(piece, found, rankings)
            good, n = checked.good, checked.good.num_rows
            constants = {"_batch_id": batch_id, "_loaded_at": loaded_at}
            for name, value in constants.items():
                good = good.append_column(name, pa.repeat(pa.scalar(value, _METADATA[name]), n))
            good = good.select(columns)
            if schema is not None:
                good = good.cast(schema)
            for batch in good.to_batches():
                copy.write(encode(batch))
            loaded += n
            rejected.extend(checked.rejected)
        copy.write(footer())
    notes = [
        f"NUL bytes removed from column {excerpt(column)} in {len(rows)} record(s) (record "
        + ", ".join(map(str, rows[:5])) + (", ..." if len(rows) > 5 else "") + ")"
        for column, rows in nul_rows.items()
    ]
    return loaded, rejected, notes


# How each contract type's validated values travel in binary COPY; numeric and amount
# values stay decimal text (the sender's scale is kept: Arrow decimals have one scale per
# column), so entities with them use CSV.
_BINARY_WIRE = {
    "text": pa.string(), "currency": pa.string(), "integer": pa.int64(), "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"), "boolean": pa.bool_(),
}
_METADATA = {
    "_row_number": pa.int64(), "_record_hash": pa.int64(), "_extra": pa.string(),
    "_batch_id": pa.int64(), "_loaded_at": pa.timestamp("us", tz="UTC"),
}


def _binary_encoder(schema: pa.Schema) -> ArrowToPostgresBinaryEncoder:
    encoders = {field.name: ArrowToPostgresBinaryEncoder.infer_encoder(field) for field in schema}
    encoders["_extra"] = StringEncoderBuilder.new_with_output(schema.field("_extra"), Jsonb())
    return ArrowToPostgresBinaryEncoder.new_with_encoders(schema, encoders)


def _naive_utc(column):
    if pa.types.is_timestamp(column.type) and column.type.tz is not None:
        return column.cast(pa.timestamp(column.type.unit))
    return column


def _copy_arrow(conn, statement, table: pa.Table) -> None:
    """COPY a small table (rejects) as CSV."""
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.write(buffer.getbuffer())


def _copy_rejects(conn, batch_id, channel, entity, source, rejected) -> None:
    if not rejected:
        return
    rows = list(zip(*rejected, strict=True))
    table = pa.table({
        "batch_id": pa.repeat(pa.scalar(batch_id, pa.int64()), len(rejected)),
        "channel": pa.repeat(pa.scalar(channel), len(rejected)),
        "entity": pa.repeat(pa.scalar(entity, pa.string()), len(rejected)),
        "source_file": pa.repeat(pa.scalar(source), len(rejected)),
        "row_number": pa.array(rows[0], pa.int64()),
        "raw_record": pa.array(rows[1], pa.string()),
        "reason": pa.array(rows[2], pa.string()),
    })
    statement = sql.SQL("copy ops.rejected_rows ({}) from stdin (format csv)").format(
        sql.SQL(", ").join(map(sql.Identifier, table.column_names))
    )
    _copy_arrow(conn, statement, table)


def files_in(channel: str, path: str, preset_files: tuple[str, ...] = ()) -> list[str]:
    """The data files of a folder (sorted), or the file itself; a preset's documentation is left out."""
    if "://" in path:
        import fsspec

        fs, root = fsspec.core.url_to_fs(path)
        listing = [fs.unstrip_protocol(p) for p in sorted(fs.find(root))] if fs.isdir(root) else [path]
    else:
        p = Path(path)
        if not p.exists():
            raise FileNotFoundError(f"{path}: no such file or folder")
        # Links are listed (not followed) so that ingest refuses each one by name.
        # A link to a folder is listed too, whatever its name (rglob does not descend into it).
        listing = ([str(f) for f in sorted(p.rglob("*")) if f.is_file() or f.is_symlink()]
                   if p.is_dir() else [str(p)])
    ignored = [pattern for preset in presets(channel, preset_files) for pattern in preset.ignore_files]
    out = []
    for name in listing:
        base = name.rsplit("/", 1)[-1]
        if "://" not in name and Path(name).is_symlink() and Path(name).is_dir():
            out.append(name)
            continue
        if base.startswith(".") or Path(base).suffix.lower() not in SUPPORTED_SUFFIXES:
            continue
        if any(fnmatch.fnmatch(base, pattern) for pattern in ignored):
            continue
        out.append(name)
    return out


def ingest_path(url: str, channel: str, path: str, preset: str | None = None,
                options: LoadOptions | None = None) -> list[BatchResult]:
    """Load a file or every file of a folder; a refused file is reported, the others still load."""
    options = options or LoadOptions(preset=preset)
    results = []
    sources = files_in(channel, path, options.preset_files)
    # A folder is the root its files are read beneath: nothing outside it is read.
    root = path if ("://" in path and sources != [path]) or Path(path).is_dir() else None
    for source in sources:
        try:
            results.append(ingest_file(url, channel, source, options=options, root=root))
        except IngestionError as exc:
            results.append(BatchResult(channel, source, "failed", message=str(exc)))
        except Exception as exc:  # one bad file never stops the others
            detail = " ".join(str(exc).split()) or type(exc).__name__
            results.append(BatchResult(channel, source, "failed", message=f"{source}: {detail}"))
    return results
