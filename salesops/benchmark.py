"""Ingestion benchmark: salesops' loader vs a raw COPY of the same rows, in one run.

Both load the same generated ad-lead CSV into the same server, in a scratch database
that is dropped afterwards: the reference COPYs the file as-is into an unindexed table
of text columns; salesops reads, decodes, validates, converts, hashes and books it.
Each round runs the reference then salesops back to back, each after a CHECKPOINT (so
neither pays for flushing the other's pages); the result is the median of the rounds'
ratios, since the machines are shared and absolute times drift between rounds.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql

BENCH_DB = "salesops_bench"
FIRST = np.array(["James", "Mary", "Wei", "Na", "Robert", "Linda", "Hiroshi", "Sofia", "Ahmed", "Olga"])
LAST = np.array(["Smith", "Wang", "Li", "Garcia", "Müller", "Tanaka", "Rossi", "Kim", "Novak", "Silva"])
PLATFORMS = np.array(["facebook", "instagram", "linkedin", "wechat", "baidu"])


def write_leads_csv(path: Path, rows: int, seed: int = 7) -> None:
    """A realistic ad-lead export: mixed phone formats, ~0.5% rows with a bad timestamp."""
    rng = np.random.default_rng(seed)
    ids = np.char.add("AL", np.arange(rows).astype(str))
    first, last = FIRST[rng.integers(0, 10, rows)], LAST[rng.integers(0, 10, rows)]
    names = np.char.add(np.char.add(first, " "), last)
    emails = np.char.add(np.char.add(np.char.lower(first), np.arange(rows).astype(str)), "@example.com")
    phones = np.char.add("+86 138 ", rng.integers(1000_0000, 9999_9999, rows).astype(str))
    seconds = rng.integers(0, 365 * 86400, rows).astype("timedelta64[s]") + np.datetime64("2017-01-01")
    created = np.datetime_as_string(seconds, unit="s").astype(object)
    created[rng.random(rows) < 0.005] = "not a date"
    table = pa.table({
        "lead_id": ids, "created_time": pa.array(created, pa.string()),
        "platform": PLATFORMS[rng.integers(0, 5, rows)],
        "campaign_name": np.char.add("Q", rng.integers(1, 5, rows).astype(str)),
        "ad_name": np.char.add("ad-", rng.integers(1, 40, rows).astype(str)),
        "form_name": np.full(rows, "Contact us"), "full_name": names, "email": emails, "phone": phones,
        "company": np.char.add("Company ", rng.integers(1, 5000, rows).astype(str)),
        "job_title": np.full(rows, "Manager"), "city": np.full(rows, "Shanghai"),
        "country": np.full(rows, "China"),
    })
    pacsv.write_csv(table, path)


def _clean_start(conn) -> None:
    """Flush dirty buffers so neither side pays for the other's writes."""
    # An external warehouse may not allow it; the back-to-back rounds still even it out.
    with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
        conn.execute("checkpoint")


def _reference_copy(url: str, path: Path, columns: list[str]) -> float:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop table if exists public.bench_reference")
        text_columns = sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in columns)
        conn.execute(sql.SQL("create table public.bench_reference ({}) with (autovacuum_enabled = false)")
                     .format(text_columns))
        _clean_start(conn)
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur, cur.copy(
            "copy public.bench_reference from stdin (format csv, header true)"
        ) as copy, path.open("rb") as handle:
            while chunk := handle.read(8 << 20):
                copy.write(chunk)
        return time.perf_counter() - started


def _salesops_load(url: str, path: Path) -> tuple[float, object]:
    from ingestion.loader import ingest_file

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("truncate raw.ad_leads")
        conn.execute("delete from ops.rejected_rows")
        conn.execute("delete from ops.ingestion_batches")
        _clean_start(conn)
    started = time.perf_counter()
    result = ingest_file(url, "ad_leads", str(path))
    return time.perf_counter() - started, result


def _sqlalchemy_url(url: str, driver: str = "postgresql") -> str:
    """A URL for clients that want one (dlt, SQLAlchemy): loopback TCP or a Unix socket folder."""
    from urllib.parse import quote

    c = psycopg.conninfo.conninfo_to_dict(url)
    auth = quote(str(c.get("user", "postgres")), safe="") + (
        ":" + quote(str(c["password"]), safe="") if c.get("password") else "")
    host = str(c.get("host", "127.0.0.1"))
    if host.startswith("/"):
        return f"{driver}://{auth}@/{c['dbname']}?host={quote(host)}&port={c.get('port', 5432)}"
    return f"{driver}://{auth}@{host}:{c.get('port', 5432)}/{c['dbname']}"


def _dlt_load(url: str, path: Path, rows: int) -> float:
    """dlt's fastest documented path to Postgres: an Arrow table, written as csv jobs the
    destination loads with COPY."""
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"  # nothing leaves the machine
    os.environ.setdefault("DATA_WRITER__DISABLE_COMPRESSION", "true")  # dlt's performance guide
    import dlt

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop schema if exists bench_dlt cascade")
        _clean_start(conn)
    with tempfile.TemporaryDirectory() as work:
        started = time.perf_counter()
        pipeline = dlt.pipeline("salesops_bench", pipelines_dir=work, dataset_name="bench_dlt",
                                destination=dlt.destinations.postgres(credentials=_sqlalchemy_url(url)))
        pipeline.run(pacsv.read_csv(path), table_name="ad_leads", loader_file_format="csv")
        return time.perf_counter() - started


def _copy_method(table, conn, keys, data_iter) -> None:
    """pandas' documented to_sql ``method`` for Postgres: COPY the rows as CSV."""
    import csv
    import io

    dbapi = conn.connection
    with dbapi.cursor() as cur:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(data_iter)
        buffer.seek(0)
        name = f"{table.schema}.{table.name}" if table.schema else table.name
        columns = ", ".join(f'"{k}"' for k in keys)
        cur.copy_expert(f"copy {name} ({columns}) from stdin with csv", buffer)


def _pandas_load(url: str, path: Path, rows: int, method) -> float:
    import pandas as pd
    import sqlalchemy

    engine = sqlalchemy.create_engine(_sqlalchemy_url(url, "postgresql+psycopg2"))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("drop table if exists public.bench_pandas")
        with psycopg.connect(url, autocommit=True) as conn:
            _clean_start(conn)
        started = time.perf_counter()
        frame = pd.read_csv(path, nrows=rows)
        frame.to_sql("bench_pandas", engine, schema="public", index=False, method=method,
                     chunksize=1000 if method == "multi" else None)
        return time.perf_counter() - started
    finally:
        engine.dispose()


# Other ways to load the same file, measured once each after the rounds (each right after
# its own reference COPY): name -> (loader, rows it loads: None = all, module it needs).
# Optional: the `bench` extra installs them; a missing one is reported as not installed.
PEERS = {
    "dlt (Arrow table, csv jobs via COPY)": (_dlt_load, None, "dlt"),
    "pandas to_sql, COPY method": (lambda u, p, n: _pandas_load(u, p, n, _copy_method), None, "sqlalchemy"),
    "pandas to_sql, method='multi'": (lambda u, p, n: _pandas_load(u, p, n, "multi"), 20_000, "sqlalchemy"),
}


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None and importlib.util.find_spec("psycopg2") is not None


@contextlib.contextmanager
def scratch_database(name: str):
    """A new database ``name`` on the warehouse's server, migrated; its URL, dropped afterwards."""
    from salesops import warehouse
    from salesops.setup_warehouse import prepare

    base = warehouse.ensure_running()
    admin = psycopg.conninfo.make_conninfo(base, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"drop database if exists {name} with (force)")
        conn.execute(f"create database {name}")
    url = psycopg.conninfo.make_conninfo(base, dbname=name)
    try:
        prepare(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")


def run_ingest_benchmark(rows: int, output: Path | None, echo: Callable = print,
                         rounds: int = 3, peers: bool = True) -> dict:
    peer_results: dict[str, dict | None] = {}
    with scratch_database(BENCH_DB) as url:
        with psycopg.connect(url, autocommit=True) as conn:
            # No background ANALYZE of one side's table while the other side is timed.
            conn.execute("alter table raw.ad_leads set (autovacuum_enabled = false)")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "ad_leads_benchmark.csv"
            started = time.perf_counter()
            write_leads_csv(path, rows)
            echo(f"generated {rows:,} leads ({path.stat().st_size / 1e6:.0f} MB) "
                 f"in {time.perf_counter() - started:.1f}s")
            columns = pacsv.read_csv(path, read_options=pacsv.ReadOptions(skip_rows_after_names=rows)
                                     ).column_names
            ref_times, our_times, result = [], [], None
            for attempt in range(1, rounds + 1):
                ref_times.append(_reference_copy(url, path, columns))
                seconds, result = _salesops_load(url, path)
                our_times.append(seconds)
                echo(f"round {attempt}: raw COPY {ref_times[-1]:.2f}s, salesops {our_times[-1]:.2f}s, "
                     f"ratio {ref_times[-1] / our_times[-1]:.2f}")
            for name, (load, limit, module) in PEERS.items() if peers else ():
                if not _installed(module):
                    peer_results[name] = None
                    echo(f"{name}: not installed (pip install -e '.[bench]')")
                    continue
                n = min(rows, limit or rows)
                reference = _reference_copy(url, path, columns)
                seconds = load(url, path, n)
                peer_results[name] = {"rows": n, "rows_per_s": n / seconds,
                                      "ratio": (n / seconds) / (rows / reference)}
                echo(f"{name}: {n:,} rows in {seconds:.2f}s, {n / seconds:,.0f} rows/s, "
                     f"{peer_results[name]['ratio']:.3f}x raw COPY ({rows / reference:,.0f} rows/s)")
    ref, ours = statistics.median(ref_times), statistics.median(our_times)
    ratios = [r / o for r, o in zip(ref_times, our_times, strict=True)]
    outcome = {
        "rows": rows, "raw_copy_s": ref, "salesops_s": ours, "round_ratios": ratios,
        "raw_copy_rows_per_s": rows / ref, "salesops_rows_per_s": rows / ours,
        "ratio": statistics.median(ratios),
        "rows_loaded": result.rows_loaded, "rows_rejected": result.rows_rejected, "peers": peer_results,
    }
    echo(f"median of {rounds} rounds: raw COPY {outcome['raw_copy_rows_per_s']:,.0f} rows/s; salesops "
         f"{outcome['salesops_rows_per_s']:,.0f} rows/s ({result.rows_loaded:,} loaded, "
         f"{result.rows_rejected:,} rejected); ratio {outcome['ratio']:.2f}x raw COPY (target >= 0.8x)")
    if output:
        _write_markdown(output, outcome)
    return outcome


def append_rows(output: Path, mark: str, header: str, rows: list[str]) -> None:
    """Markdown table ``rows`` into ``output`` just above the comment line ``mark`` (the table's
    end); a file without it gets ``header``, the rows and the mark appended."""
    text = output.read_text(encoding="utf-8") if output.exists() else ""
    body = "".join(row + "\n" for row in rows)
    if mark in text:
        text = text.replace(mark, body + mark, 1)
    else:
        text += f"\n{header}\n{body}{mark}\n"
    output.write_text(text, encoding="utf-8")


RESULTS_MARK = "<!-- ingest results: salesops benchmark ingest --output inserts runs above this line -->"


def _write_markdown(output: Path, o: dict) -> None:
    """One table per run: raw COPY, salesops and the peers side by side."""
    machine = f"{platform.machine()} {os.cpu_count()} cores"
    rounds = ", ".join(f"{r:.2f}" for r in o["round_ratios"])
    lines = [
        f"Run of {datetime.now(UTC):%Y-%m-%d} on {machine}, {o['rows']:,} rows "
        f"(salesops rounds: {rounds}):",
        "",
        "| loader | rows | rows/s | x raw COPY |",
        "|---|---:|---:|---:|",
        f"| raw COPY (text columns, median) | {o['rows']:,} | {o['raw_copy_rows_per_s']:,.0f} | 1.00 |",
        f"| salesops (median of rounds) | {o['rows']:,} | {o['salesops_rows_per_s']:,.0f} | "
        f"{o['ratio']:.2f} |",
    ]
    for name, peer in o["peers"].items():
        lines.append(f"| {name} | not installed | | |" if peer is None else
                     f"| {name} | {peer['rows']:,} | {peer['rows_per_s']:,.0f} | {peer['ratio']:.3f} |")
    block = "\n".join(lines) + "\n\n"
    text = output.read_text(encoding="utf-8") if output.exists() else ""
    if RESULTS_MARK in text:
        text = text.replace(RESULTS_MARK, block + RESULTS_MARK, 1)
    else:
        text += ("\n" if text else "") + block
    output.write_text(text, encoding="utf-8")
