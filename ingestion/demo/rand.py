"""Seeded random streams: one independent generator per component, keyed by name.

Names are hashed with crc32 (stable across runs, unlike hash()), so adding a component or
changing the draw order in one module does not shift the data of another.
"""

from __future__ import annotations

import zlib

import numpy as np


def rng_for(seed: int, *keys: str | int) -> np.random.Generator:
    parts = [zlib.crc32(k.encode()) if isinstance(k, str) else int(k) for k in keys]
    return np.random.default_rng([int(seed), *parts])


def exact_mask(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    """Boolean mask with exactly round(share * n) True values (stable shares per file)."""
    mask = np.zeros(n, dtype=bool)
    k = int(round(share * n))
    if k:
        mask[rng.choice(n, size=k, replace=False)] = True
    return mask


def pick(rng: np.random.Generator, options: tuple | list, n: int, p=None) -> np.ndarray:
    """n draws from options as an object array."""
    arr = np.empty(len(options), dtype=object)
    arr[:] = list(options)
    return arr[rng.choice(len(options), size=n, p=p)]


def seq_ids(prefix: str, start: int, n: int, width: int = 7) -> np.ndarray:
    """prefix + zero-padded running number, as most exports number their rows."""
    out = np.empty(n, dtype=object)
    out[:] = [f"{prefix}{start + i:0{width}d}" for i in range(n)]
    return out


def uuids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Version-4 style UUID strings from the seeded stream (uuid4() would not be seeded)."""
    raw = np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = raw[:, 6] & 0x0F | 0x40
    raw[:, 8] = raw[:, 8] & 0x3F | 0x80
    out = np.empty(n, dtype=object)
    out[:] = [f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}" for h in
              (row.tobytes().hex() for row in raw)]
    return out
