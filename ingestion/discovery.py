"""Find files in the landing zone that have not been loaded yet.

The landing zone is ``<landing>/<channel>/...``: a local folder by default, any fsspec URI
(``s3://bucket/landing``) in production. A file is new unless a batch of the same channel
already has its path and size: loaded ones, and refused ones too, since a refused file
will not pass until it (or its contract or preset) changes; `salesops ingest` retries a
file by hand. The loader still checks content hashes, so a renamed copy of a loaded file
is recognised there.

The landing root is a boundary: a symbolic link (to a file or a folder, a channel's
folder included) is listed by its own name, never followed, so that loading refuses it;
the loader reads each file beneath the root (``ingest_file(..., root=landing_uri)``).
"""

from __future__ import annotations

from pathlib import Path

import psycopg

from ingestion.contracts import channels
from ingestion.loader import files_in


def _size(path: str) -> int:
    if "://" in path:
        import fsspec

        fs, root = fsspec.core.url_to_fs(path)
        return int(fs.size(root))
    return Path(path).lstat().st_size  # a link's own size: its target is never looked at


def landing_folder(landing_uri: str, channel: str) -> str:
    return f"{landing_uri.rstrip('/')}/{channel}"


def new_files(url: str | None = None, landing_uri: str | None = None) -> list[dict]:
    """[{channel, path}] for every file not seen yet, channel by channel, in name order
    (by default: in the configured landing zone, against the configured warehouse)."""
    from salesops import warehouse
    from salesops.config import settings

    url = url or warehouse.ensure_running()
    landing_uri = landing_uri or settings().landing_uri

    with psycopg.connect(warehouse.role_url(url, "loader")) as conn:
        loaded = set(
            conn.execute(
                "select channel, source_file, file_bytes from ops.ingestion_batches"
                " where status in ('loaded', 'failed', 'rejected')"
            ).fetchall()
        )
    found = []
    for channel in channels():
        folder = landing_folder(landing_uri, channel)
        if "://" not in folder and Path(folder).is_symlink():
            found.append({"channel": channel, "path": folder})  # refused by name when loaded
            continue
        if "://" not in folder and not Path(folder).is_dir():
            continue
        for path in files_in(channel, folder):
            if (channel, path, _size(path)) not in loaded:
                found.append({"channel": channel, "path": path})
    return found


def landing_is_empty(landing_uri: str) -> bool:
    for channel in channels():
        folder = landing_folder(landing_uri, channel)
        if "://" not in folder and Path(folder).is_symlink():
            return False  # something to refuse
        if "://" in folder or Path(folder).is_dir():
            try:
                if files_in(channel, folder):
                    return False
            except FileNotFoundError:
                continue
    return True


def load_landing_file(file: dict) -> dict:
    """Load one file that ``new_files`` found, read beneath the landing root (a link or ``..``
    that leaves it is refused); one line for the task log, the result as a dict.
    Raises ``IngestionError`` for a refused file (its batch is booked as failed)."""
    from ingestion.loader import ingest_file
    from salesops import warehouse
    from salesops.config import settings

    result = ingest_file(warehouse.ensure_running(), file["channel"], file["path"],
                         root=settings().landing_uri)
    print(f"{result.status}: {result.source_file} in={result.rows_in} "
          f"loaded={result.rows_loaded} rejected={result.rows_rejected} {result.message}")
    return result.as_dict()


def channel_summary(results, channel: str) -> dict | None:
    """What one channel loaded in a run, from the load results (None: nothing): the extra of
    the channel's raw Asset, which the transform DAG is scheduled on."""
    # Index, don't iterate: iterating Airflow's lazy XCom sequence probes past its end.
    rows = [results[i] for i in range(len(results))] if results else []
    mine = [r for r in rows if r and r["channel"] == channel and r["status"] == "loaded"]
    if not mine:
        return None
    return {
        "files": len(mine),
        "rows_loaded": sum(r["rows_loaded"] for r in mine),
        "rows_rejected": sum(r["rows_rejected"] for r in mine),
        "batch_ids": [r["batch_id"] for r in mine],
    }
