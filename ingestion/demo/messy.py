"""Field-level mess: email/phone variants, full-width text, typos, blanks, injection strings.

Each function takes an object array and returns a modified copy; randomness comes from the
caller's generator so every file's mess is reproducible.
"""

from __future__ import annotations

import numpy as np

from . import config as C
from .names import INJECTION_STRINGS

_FULLWIDTH = {i: i + 0xFEE0 for i in range(0x21, 0x7F)} | {0x20: 0x3000}
_HOMOPHONES = str.maketrans("王李张伟娜明静军杰华", "汪黎章玮那鸣婧君洁桦")
_SUFFIXES = ("Inc.", "LLC", "Ltd", "GmbH", "Group", "Holdings", "Corp.", "Solutions", "Company")

# National digits -> display; several per country so one person differs across files.
PHONE_FORMATS = {
    "CN": (
        lambda d: f"+86 {d[:3]} {d[3:7]} {d[7:]}",  # +86 138 0013 8000
        lambda d: d,  # 13800138000
        lambda d: f"+86-{d}",
        lambda d: f"{d[:3]}-{d[3:7]}-{d[7:]}",
        lambda d: f"0086{d}",
        lambda d: f"(+86){d}",
    ),
    "US": (
        lambda d: f"({d[:3]}) {d[3:6]}-{d[6:]}",  # (415) 555-0123
        lambda d: f"+1-{d[:3]}-{d[3:6]}-{d[6:]}",  # +1-415-555-0123
        lambda d: f"{d[:3]}.{d[3:6]}.{d[6:]}",
        lambda d: d,
        lambda d: f"+1 {d[:3]} {d[3:6]} {d[6:]}",
    ),
    "GB": (
        lambda d: f"0044 {d[:2]} {d[2:6]} {d[6:]}",  # 0044 20 7946 0958
        lambda d: f"+44 {d[:2]} {d[2:6]} {d[6:]}",
        lambda d: f"0{d[:2]} {d[2:6]} {d[6:]}",
        lambda d: f"+44{d}",
    ),
    "DE": (
        lambda d: f"+49 {d[:2]} {d[2:]}",
        lambda d: f"0{d[:2]} {d[2:]}",
        lambda d: f"0049 {d[:2]}/{d[2:]}",
    ),
    "SG": (
        lambda d: f"+65 {d[:4]} {d[4:]}",
        lambda d: f"{d[:4]} {d[4:]}",
        lambda d: f"+65{d}",
    ),
}


def fullwidth(s: str) -> str:
    return s.translate(_FULLWIDTH)


def _subset(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    return np.flatnonzero(rng.random(n) < rate)


def blank(values: np.ndarray, rng: np.random.Generator, rate: float) -> np.ndarray:
    out = values.copy()
    out[_subset(rng, len(out), rate)] = None
    return out


def typo(s: str, kind: int, pos: float) -> str:
    if not s.isascii():
        return s.translate(_HOMOPHONES)
    if len(s) < 4:
        return s
    j = 1 + int(pos * (len(s) - 3))  # never the first character
    if kind == 0:
        return s[:j] + s[j + 1] + s[j] + s[j + 2:]  # swap neighbours
    if kind == 1:
        return s[:j] + s[j + 1:]  # drop one
    return s[:j] + s[j] + s[j:]  # double one


def typos(values: np.ndarray, rng: np.random.Generator, rate: float) -> np.ndarray:
    out = values.copy()
    idx = _subset(rng, len(out), rate)
    kinds, pos = rng.integers(0, 3, len(idx)), rng.random(len(idx))
    for i, k, p in zip(idx, kinds, pos, strict=True):
        if isinstance(out[i], str):
            out[i] = typo(out[i], int(k), float(p))
    return out


def messy_emails(emails: np.ndarray, rng: np.random.Generator, fw_rate: float) -> np.ndarray:
    """Case changes, stray whitespace and full-width forms of the canonical address."""
    out = emails.copy()
    u, kind = rng.random(len(out)), rng.integers(0, 4, len(out))
    b1, b2 = C.EMAIL_CASE_RATE, C.EMAIL_CASE_RATE + C.EMAIL_WHITESPACE_RATE
    for i in np.flatnonzero(u < b2 + fw_rate):
        e, k = out[i], kind[i]
        if u[i] < b1:
            local, _, dom = e.partition("@")
            out[i] = (e.upper(), e.title(), f"{local}@{dom.upper()}", e.capitalize())[k]
        elif u[i] < b2:
            out[i] = (f" {e}", f"{e} ", f"  {e} ", f"{e}\t")[k]
        else:
            out[i] = fullwidth(e)
    return out


def format_phones(countries: np.ndarray, digits: np.ndarray, rng: np.random.Generator,
                  fw_rate: float) -> np.ndarray:
    """Render national digits in a random per-row format of the person's country."""
    fmt = rng.integers(0, 60, len(digits))  # 60 is divisible by every format count
    out = np.array(
        [PHONE_FORMATS[c][f % len(PHONE_FORMATS[c])](d)
         for c, d, f in zip(countries, digits, fmt, strict=True)],
        dtype=object,
    )
    for i in _subset(rng, len(out), fw_rate):
        out[i] = fullwidth(out[i])
    return out


def messy_companies(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = typos(values, rng, C.COMPANY_TYPO_RATE)
    idx = _subset(rng, len(out), C.COMPANY_VARIANT_RATE)
    kinds = rng.integers(0, 3, len(idx))
    for i, k in zip(idx, kinds, strict=True):
        s = out[i]
        if not isinstance(s, str) or not s.isascii():
            continue
        head, _, last = s.rpartition(" ")
        if k == 0:
            out[i] = s.upper()
        elif k == 1 and head and last in _SUFFIXES:
            out[i] = head  # "Contoso Ltd" -> "Contoso"
        else:
            out[i] = f"{s} Inc" if last not in _SUFFIXES else f"{head}, {last}"
    return out


def inject(cols: dict, rng: np.random.Generator, columns: tuple[str, ...]) -> None:
    """Put a few SQL/formula/script injection strings into free-text columns, in place."""
    n = len(cols[columns[0]])
    k = min(n, C.INJECTION_ROWS_PER_FILE)
    rows = rng.choice(n, size=k, replace=False)
    # Always the two classics (SQL, spreadsheet formula), then a random other one.
    strings = [*INJECTION_STRINGS[:2], INJECTION_STRINGS[rng.integers(2, len(INJECTION_STRINGS))]]
    for j, r in enumerate(rows):
        cols[columns[j % len(columns)]][r] = strings[j % len(strings)]
