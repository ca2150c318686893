"""Let one system user traverse the folders above a path, without opening them to others.

The embedded Postgres runs as its own system user when salesops runs as root (Postgres
refuses root). It must reach its data directory under ``$SALESOPS_HOME`` and its binaries
in the virtual environment, which often sit below private folders (``/root`` is 0700).
``chmod o+x`` on every folder above them (what the server package does) opens them to
every local user. Instead each such folder gets one POSIX ACL entry, ``user:<uid>:--x``:
that user may pass through, nobody may list or read anything new, and the folder's mode
for "others" stays as it was.

Written through the kernel's ``system.posix_acl_access`` extended attribute (its binary
layout is the stable ABI of ``linux/posix_acl_xattr.h``) because neither ``setfacl`` nor a
wheel of ``pylibacl`` is available on a fresh machine.
"""

from __future__ import annotations

import errno
import os
import stat
import struct
from pathlib import Path

XATTR = "system.posix_acl_access"
VERSION = 2
USER_OBJ, USER, GROUP_OBJ, GROUP, MASK, OTHER = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
UNDEFINED_ID = 0xFFFFFFFF
EXECUTE = 0x1
_ENTRY = struct.Struct("<HHI")


class AclError(OSError):
    """The file system refused the ACL (e.g. mounted without ACL support)."""


def _entries(path: Path) -> list[tuple[int, int, int]]:
    try:
        raw = os.getxattr(path, XATTR, follow_symlinks=True)
    except OSError as exc:
        if exc.errno not in (errno.ENODATA, errno.ENOTSUP):
            raise
        mode = path.stat().st_mode
        return [(USER_OBJ, (mode >> 6) & 7, UNDEFINED_ID), (GROUP_OBJ, (mode >> 3) & 7, UNDEFINED_ID),
                (OTHER, mode & 7, UNDEFINED_ID)]
    (version,) = struct.unpack_from("<I", raw)
    if version != VERSION:
        raise AclError(errno.EINVAL, f"unknown ACL version {version}", str(path))
    return [_ENTRY.unpack_from(raw, offset) for offset in range(4, len(raw), _ENTRY.size)]


def can_traverse(path: Path, uid: int) -> bool:
    info = path.stat()
    if info.st_uid == uid:
        return bool(info.st_mode & stat.S_IXUSR)
    if info.st_mode & stat.S_IXOTH:
        return True
    entries = _entries(path)
    # A chmod after the ACL was set rewrites the mask: the entry counts only through it.
    mask = next((perm for tag, perm, _ in entries if tag == MASK), 7)
    return any(tag == USER and ident == uid and perm & mask & EXECUTE for tag, perm, ident in entries)


def grant_execute(path: Path, uid: int) -> None:
    """Add ``user:<uid>:--x`` (keeping every other entry) and widen the mask by x only."""
    entries = [e for e in _entries(path) if not (e[0] == USER and e[2] == uid)]
    previous = next((perm for tag, perm, ident in _entries(path) if tag == USER and ident == uid), 0)
    entries.append((USER, previous | EXECUTE, uid))
    group_class = [perm for tag, perm, _ in entries if tag in (USER, GROUP, GROUP_OBJ)]
    mask = 0
    for perm in group_class:
        mask |= perm
    old_mask = next((perm for tag, perm, _ in entries if tag == MASK), None)
    if old_mask is not None:
        # Keep the old mask's limits on the others; only add x for our entry.
        mask = old_mask | EXECUTE
    entries = [e for e in entries if e[0] != MASK] + [(MASK, mask, UNDEFINED_ID)]
    entries.sort(key=lambda e: (e[0], e[2]))
    blob = struct.pack("<I", VERSION) + b"".join(_ENTRY.pack(*e) for e in entries)
    try:
        os.setxattr(path, XATTR, blob, follow_symlinks=True)
    except OSError as exc:
        raise AclError(exc.errno, f"cannot give uid {uid} passage through {path} with an ACL "
                       f"({exc.strerror}); put SALESOPS_HOME under a folder that user can reach, "
                       "or run salesops as a non-root user", str(path)) from exc


def allow_traverse(target: Path, uid: int) -> list[Path]:
    """Give ``uid`` passage through every folder above ``target``; returns the folders changed."""
    changed = []
    for folder in reversed(Path(target).resolve().parents):
        if not can_traverse(folder, uid):
            grant_execute(folder, uid)
            changed.append(folder)
    return changed
