"""What the command line says when something fails: one line naming the problem and what to do.

``describe(exc)`` turns an exception into that line. Known failures (a refused file, an
unreachable warehouse, a folder that cannot be written, a missing storage package) say
what was wrong and what to do; anything else names the exception's type and message and
points at ``--debug`` for the traceback.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

from ingestion.errors import printable

# Errors whose message was written for a person (the type adds nothing).
_KNOWN = (
    "IngestionError",  # ingestion.errors
    "PresetError",  # ingestion.contracts
    "ReferenceFileError",  # salesops.reference
    "WarehouseError",  # salesops.warehouse
    "MigrationError",  # salesops.migrate
    "QualityGateError",  # salesops.quality.gates
    "HomeError",  # salesops.config
    "ExportError",  # salesops.export
    "ForecastInputError",  # ml.forecast.series
    "QuotaFileError",  # ml.forecast.quotas
    "AdjustmentError",  # ml.forecast.adjustments
    "PlanError",  # ml.incentives.plans
    "PayoutInputError",  # ml.incentives.engine
    "PayoutError",  # ml.incentives.runs
    "ReportError",  # salesops.report
)
DEBUG_HINT = "run with --debug for the traceback"


def one_line(text: object) -> str:
    """Whitespace (newlines too) collapsed and control characters escaped: safe for a terminal."""
    return printable(" ".join(str(text).split()))


def describe(exc: BaseException) -> str:
    """One line for a person: what went wrong and, where known, what to do."""
    import psycopg

    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & set(_KNOWN) or type(exc) is RuntimeError:  # plain RuntimeErrors here are ours
        return one_line(exc)
    if isinstance(exc, psycopg.OperationalError):
        return one_line(f"cannot reach the warehouse: {exc}; check SALESOPS_WAREHOUSE_URL, or see "
                        "`salesops warehouse status`")
    if isinstance(exc, psycopg.ProgrammingError) and exc.sqlstate is None:  # libpq refused the URL itself
        detail = _no_password(str(exc).strip())
        return one_line(f"the warehouse URL is not valid ({detail}); SALESOPS_WAREHOUSE_URL takes "
                        "postgresql://USER:PASSWORD@HOST:PORT/DATABASE")
    if isinstance(exc, psycopg.Error):
        detail = exc.diag.message_primary or str(exc)
        return one_line(f"the warehouse refused a statement: {detail}")
    if isinstance(exc, ImportError):
        return one_line(_missing_package(exc))
    if isinstance(exc, OSError):
        return one_line(_os_error(exc))
    if isinstance(exc, ValueError) and str(exc).startswith("Protocol not known"):
        return one_line(f"{exc}: a landing location is a folder or an fsspec URI such as "
                        "s3://bucket/landing (SALESOPS_LANDING_URI)")
    return one_line(f"unexpected {type(exc).__name__}: {exc or '(no message)'} ({DEBUG_HINT})")


def _no_password(text: str) -> str:
    return re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)


def _missing_package(exc: ImportError) -> str:
    text = str(exc)
    # fsspec: "Install s3fs to access S3", "Please install gcsfs to access Google Storage"
    words = text.replace("Please install", "Install").split()
    if len(words) >= 2 and words[0] == "Install":
        return f"{text}: `pip install {words[1]}` (needed for the URI in SALESOPS_LANDING_URI or PATH)"
    package = exc.name or "the package named above"
    return f"a Python package is missing ({text}): `pip install {package}`"


def _os_error(exc: OSError) -> str:
    from salesops.config import settings

    path = exc.filename
    reason = (exc.strerror or str(exc)).lower()
    if path is None:
        return f"{reason} ({type(exc).__name__})"
    path = Path(os.fsdecode(path))
    what = "choose a folder you can write, or fix its permissions"
    if exc.errno in (errno.EEXIST, errno.ENOTDIR):
        blocker = _plain_file_on(path)
        if blocker is not None:
            path, reason, what = blocker, "is a file, not a folder", "give a folder, or move the file away"
    elif exc.errno == errno.EROFS:
        what = "choose a folder on a writable file system"
    elif exc.errno == errno.ENOSPC:
        reason, what = "no space left on the device", "free some space"
    elif exc.errno == errno.ENOENT:
        what = "check the path"
    home = settings().home
    if path == home or home in path.parents:
        what = f"set SALESOPS_HOME to a folder you can write (it is {home})"
    return f"{path}: {reason}; {what}"


def _plain_file_on(path: Path) -> Path | None:
    """The path itself or the nearest folder above it that exists as a file (what blocked a mkdir)."""
    for candidate in (path, *path.parents):
        if candidate.exists() or candidate.is_symlink():
            return None if candidate.is_dir() else candidate
    return None
