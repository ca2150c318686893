"""Deliberately invalid rows, so the loader's reject path gets exercised.

Invalid rows are *extra* rows broken in exactly one way: copies of random valid rows
inserted at random positions (activities, which nothing references, simply generate the
extra rows). Adding rows instead of breaking real ones keeps the data coherent: every Maven
opportunity keeps its lead, every won deal keeps invoices that sum to its value.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .config import INVALID_ROW_RATE
from .rand import pick
from .writers import n_rows

Defect = Callable[[dict, np.ndarray, np.random.Generator], None]

BAD_DATES = ("not a date", "2017-02-30", "32.13.2017", "TBD", "00/00/0000", "yesterday")
BAD_SCORES = ("11", "-1", "42", "100")
BAD_DURATIONS = ("-5", "-15", "-30")
BAD_ACTIVITY_TYPES = ("sms", "visit", "wechat", "fax")
BAD_AMOUNTS = ("N/A",)


def invalid_count(n: int) -> int:
    """round(INVALID_ROW_RATE * n), but never above 1% (so files under 100 rows get none)."""
    return min(round(INVALID_ROW_RATE * n), n // 100)


def add_invalid_rows(cols: dict, rng: np.random.Generator) -> tuple[dict, np.ndarray]:
    """Insert invalid_count(n) copies; return new columns and the copies' rows."""
    n = n_rows(cols)
    k = invalid_count(n)
    src = rng.integers(0, max(n, 1), k)
    keys = np.concatenate([np.arange(n, dtype=float), rng.random(k) * n])
    order = np.argsort(keys, kind="stable")
    take = np.concatenate([np.arange(n), src])[order]
    is_bad = np.concatenate([np.zeros(n, dtype=bool), np.ones(k, dtype=bool)])[order]
    # object dtype: a numpy str array would turn an assigned None into the text "None"
    return ({c: np.asarray(v, dtype=object)[take] for c, v in cols.items()},
            np.flatnonzero(is_bad))


def apply_defects(cols: dict, bad: np.ndarray, rng: np.random.Generator,
                  defects: dict[str, Defect]) -> None:
    """Break each bad row in one way; kinds are spread evenly over the bad rows."""
    kinds = rng.permutation(np.arange(len(bad)) % len(defects))
    for j, fn in enumerate(defects.values()):
        fn(cols, bad[kinds == j], rng)


def make_invalid(cols: dict, rng: np.random.Generator, id_col: str,
                 new_ids: Callable[[int], np.ndarray] | None, defects: dict[str, Defect]) -> dict:
    """add_invalid_rows, give the copies fresh row ids (never reuse a real one; new_ids=None
    when id_col is not a row id, e.g. event_id), then break each copy once."""
    cols, bad = add_invalid_rows(cols, rng)
    if new_ids is not None:
        cols[id_col][bad] = new_ids(len(bad))
    apply_defects(cols, bad, rng, {"missing_id": set_none(id_col), **defects})
    return cols


def _assign(cols: dict, column: str, idx: np.ndarray, values: np.ndarray | None) -> None:
    """cols[column][idx] = values (None: empty), for object arrays and Arrow arrays alike.
    idx must be ascending (Arrow's replace_with_mask fills in mask order)."""
    col = cols[column]
    if not isinstance(col, pa.Array):
        col[idx] = values
        return
    mask = np.zeros(len(col), dtype=bool)
    mask[idx] = True
    if values is None:
        cols[column] = pc.if_else(pa.array(mask), pa.scalar(None, col.type), col)
    else:
        cols[column] = pc.replace_with_mask(col, pa.array(mask), pa.array(values, col.type))


def set_none(*columns: str) -> Defect:
    def fn(cols: dict, idx: np.ndarray, rng: np.random.Generator) -> None:
        for c in columns:
            _assign(cols, c, idx, None)
    return fn


def set_choice(column: str, choices: tuple[str, ...]) -> Defect:
    def fn(cols: dict, idx: np.ndarray, rng: np.random.Generator) -> None:
        _assign(cols, column, idx, pick(rng, choices, len(idx)))
    return fn


def bad_date(column: str) -> Defect:
    return set_choice(column, BAD_DATES)
