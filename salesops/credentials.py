"""The warehouse's secrets: one generated password per role, kept in ``$SALESOPS_HOME``.

``$SALESOPS_HOME/credentials.json`` (mode 0600, in a 0700 home) holds the password of
the embedded server's superuser and of every salesops role that logs in (the loader,
the transformer, the ML role, and the readers once ``salesops access rotate`` gave them
one). Every salesops component reads it; nothing else needs it. Passwords are created on
first use with :mod:`secrets`, written atomically under a lock, never printed except in
the URL that ``salesops warehouse url`` gives the owner.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

from salesops.config import settings

FILE_NAME = "credentials.json"


def path(home: Path | None = None) -> Path:
    return (home or settings().home) / FILE_NAME


def ensure_private_home(home: Path) -> None:
    """Create ``home`` (0700) if missing; a home that others can enter is narrowed.

    The group-execute bit is kept: with an ACL it is the mask that lets the server's
    account pass through (salesops.acl), and it lets nobody list or read anything."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = home.stat()
    if info.st_mode & 0o067 and info.st_uid == os.geteuid():
        home.chmod(info.st_mode & 0o710)


@contextlib.contextmanager
def home_lock(home: Path, name: str, wait: bool = True) -> Iterator[int]:
    """An exclusive lock held by one process at a time on ``home/.<name>.lock`` (0600); yields
    the file's descriptor. ``wait=False``: BlockingIOError at once when another process holds it."""
    ensure_private_home(home)
    fd = os.open(home / f".{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield fd
    finally:
        os.close(fd)


def _locked(home: Path):
    return home_lock(home, "credentials")


def _read(file: Path) -> dict[str, str]:
    try:
        return json.loads(file.read_text())
    except FileNotFoundError:
        return {}


def _write(file: Path, values: dict[str, str]) -> None:
    tmp = file.with_name(file.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(values, out, indent=2, sort_keys=True)
    os.replace(tmp, file)


def known(role: str, home: Path | None = None) -> str | None:
    """The stored password of ``role``, or None."""
    return _read(path(home)).get(role)


def password(role: str, home: Path | None = None) -> str:
    """The password of ``role``, generated and stored on first use."""
    home = home or settings().home
    found = known(role, home)
    if found:
        return found
    with _locked(home):
        values = _read(path(home))
        if role not in values:
            values[role] = secrets.token_urlsafe(24)
            _write(path(home), values)
        return values[role]


def rotate(role: str, apply: Callable[[str], None], home: Path | None = None) -> None:
    """A new password for ``role``: ``apply(new)`` sets it on the server, then it is stored."""
    home = home or settings().home
    with _locked(home):
        new = secrets.token_urlsafe(24)
        apply(new)
        values = _read(path(home))
        values[role] = new
        _write(path(home), values)


def forget(role: str, home: Path | None = None) -> None:
    home = home or settings().home
    with _locked(home):
        values = _read(path(home))
        if values.pop(role, None) is not None:
            _write(path(home), values)
