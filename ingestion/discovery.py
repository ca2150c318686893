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


def new_files(url: str, landing_uri: str) -> list[dict]:
    """[{channel, path}] for every file not seen yet, channel by channel, in name order."""
    from salesops.warehouse import role_url

    with psycopg.connect(role_url(url, "loader")) as conn:
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
