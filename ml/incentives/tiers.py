"""Rate tables, exactly: a tier table is a piecewise-linear payout function of a basis, evaluated
on whole vectors of basis values in integers (no floats, no rounding until the cent).

Every supported table is, inside tier ``j``, ``G(u) = k_j + r_j * u`` with rational ``k_j`` and
``r_j``, ``u`` the basis:

- ``step`` (marginal): each band of the basis at its own rate — ``G`` is the sum over the bands
  below ``u`` plus ``u``'s part of its own band;
- ``flat``: the whole basis at the rate of the tier it reached (``G = r_j * u``), or a fixed
  amount per tier (``G = a_j``);
- ``interpolated`` (Oracle-style amounts per full tier): each full tier below ``u`` pays its
  amount, ``u``'s tier pays its amount in proportion to how much of it ``u`` covers.

For an amount basis ``u`` is the bookings in cents and ``G`` the payout in cents. For quota
attainment ``u = x / quota`` (x: bookings in cents) and the payout is ``incentive * G(u)``, a
multiplier ``m`` paying ``m`` target incentives per 100% of quota.

``boundary`` decides the tier of a value exactly on an edge: ``lower`` (the tier ending there)
or ``higher`` (the tier starting there); it changes the payout of ``flat`` tables only. Above a
closed last tier the payout stays at its value at the top.

Evaluation is in integers: ``G * D`` (D: the common denominator of the table) times the
incentive, over ``D * quota``, rounded half to even by integer division; numpy int64 where the
largest possible value fits, Python integers (object arrays) where it might not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

_SAFE = 2**62


@dataclass(frozen=True)
class Tier:
    start: Fraction  # basis units (cents, or attainment as a fraction of quota)
    end: Fraction | None  # None: open
    rate: Fraction | None = None  # payout per basis unit (a percentage as a fraction, or a multiplier)
    amount: Fraction | None = None  # payout in cents (flat amount, or interpolated per full tier)


@dataclass(frozen=True)
class Table:
    """Tier j covers [starts[j], starts[j+1]) and pays G(u) = (K[j] + R[j] * u) / D."""

    starts: tuple[Fraction, ...]
    K: tuple[int, ...]
    R: tuple[int, ...]
    D: int
    boundary: str

    def tier_of(self, x: np.ndarray, q: np.ndarray | int = 1) -> np.ndarray:
        """Tier index of each basis value ``x / q`` (x, q: integer arrays or scalars)."""
        j = np.zeros(len(x), dtype=np.intp)
        x_max = int(np.max(np.abs(x))) if len(x) else 0
        q_max = int(np.max(np.abs(q))) if np.ndim(q) else abs(int(q))
        wide = any(
            x_max * s.denominator >= _SAFE or abs(s.numerator) * q_max >= _SAFE for s in self.starts[1:]
        )
        if wide:  # exact comparisons in Python integers
            x = np.asarray(x).astype(object)
            q = np.asarray(q).astype(object) if np.ndim(q) else int(q)
        for s in self.starts[1:]:
            left, right = x * s.denominator, s.numerator * q
            j += (left >= right) if self.boundary == "higher" else (left > right)
        return j

    def evaluate(
        self, x: np.ndarray, q: np.ndarray | int = 1, incentive: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        """(payout in whole cents, tier index) for integer ``x`` (cents); ``q`` the quota in cents
        for attainment (1 for an amount basis), ``incentive`` the target incentive in cents."""
        j = self.tier_of(x, q)
        x_max = int(np.max(np.abs(x))) if len(x) else 0
        q_max = int(np.max(q)) if np.ndim(q) else int(q)
        bound = incentive * (max(map(abs, self.K)) * q_max + max(map(abs, self.R)) * x_max)
        dtype = np.int64 if bound < _SAFE and self.D * q_max < _SAFE else object
        K = np.array(self.K, dtype=dtype)[j]
        R = np.array(self.R, dtype=dtype)[j]
        xs = x.astype(dtype)
        qs = np.asarray(q).astype(dtype) if np.ndim(q) else (q if dtype is object else np.int64(q))
        numerator = (K * qs + R * xs) * incentive
        out = round_half_even(numerator, qs * self.D)
        return (out.astype(np.int64) if dtype is object else out), j


def table(tiers: list[Tier], method: str, boundary: str) -> Table:
    starts = [t.start for t in tiers]
    ends = [t.end for t in tiers]
    ks: list[Fraction] = []
    rs: list[Fraction] = []
    below = Fraction(0)  # G at the start of the tier (step, interpolated)
    for t, s, e in zip(tiers, starts, ends, strict=True):
        if method == "step":
            r = t.rate or Fraction(0)
            ks.append(below - r * s)
            rs.append(r)
            below += r * (e - s) if e is not None else 0
        elif method == "interpolated":
            r = t.amount / (e - s) if e is not None else Fraction(0)
            ks.append(below - r * s)
            rs.append(r)
            below += t.amount if e is not None else 0
        elif t.amount is not None:  # flat amount
            ks.append(t.amount)
            rs.append(Fraction(0))
        else:  # flat rate
            ks.append(Fraction(0))
            rs.append(t.rate or Fraction(0))
    if ends[-1] is not None:  # above a closed last tier the payout stays at its value at the top
        top = ends[-1]
        starts.append(top)
        ks.append(ks[-1] + rs[-1] * top)
        rs.append(Fraction(0))
    d = math.lcm(*(f.denominator for f in ks + rs))
    return Table(tuple(starts), tuple(int(k * d) for k in ks), tuple(int(r * d) for r in rs), d, boundary)


def round_half_even(numerator: np.ndarray, denominator) -> np.ndarray:
    """``numerator / denominator`` rounded half to even, in integers (denominator > 0)."""
    q = numerator // denominator
    twice = (numerator - q * denominator) * 2
    up = (twice > denominator) | ((twice == denominator) & (q % 2 == 1))
    return q + up.astype(q.dtype if q.dtype != object else np.int64).astype(q.dtype)
