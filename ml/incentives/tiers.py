"""Rate tables, exactly: a tier table is a piecewise-linear payout function of a basis, evaluated
on whole vectors of basis values in integers (no floats, no rounding until the cent).

Every supported table is, inside tier ``j``, ``F(x) = k_j + r_j * x`` with rational ``k_j`` and
``r_j`` (x in cents of the basis, F in cents of payout):

- ``step`` (marginal): each band of the basis at its own rate — ``F`` is the sum over the bands
  below ``x`` plus ``x``'s part of its own band;
- ``flat``: the whole basis at the rate of the tier it reached (``F = r_j * x``), or a fixed
  amount per tier (``F = a_j``);
- ``interpolated`` (Oracle-style amounts per full tier): each full tier below ``x`` pays its
  amount, ``x``'s tier pays its amount in proportion to how much of it ``x`` covers.

A basis of quota attainment is a table in cents of bookings too: an attainment edge ``e`` is
``e * quota``, a multiplier ``m`` of the target incentive per 100% of quota is a rate of
``m * incentive / quota`` per cent booked.

``boundary`` decides the tier of a value exactly on an edge: ``lower`` (the tier ending there)
or ``higher`` (the tier starting there); it changes the payout of ``flat`` tables only.

Values are evaluated as ``F(x) * D`` in Python integers (numpy object arrays; D is the common
denominator of the table), then rounded to the cent half to even by integer division.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

METHODS = ("step", "flat", "interpolated")
BOUNDARIES = ("lower", "higher")


@dataclass(frozen=True)
class Tier:
    start: Fraction  # basis units (cents, or attainment as a fraction of quota)
    end: Fraction | None  # None: open
    rate: Fraction | None = None  # payout per basis unit (a percentage as a fraction)
    amount: Fraction | None = None  # payout in cents (flat amount, or interpolated per full tier)


@dataclass(frozen=True)
class Linear:
    """A table made concrete in cents: tier j covers [edges[j], edges[j+1]) and pays
    (K[j] + R[j] * x) / D cents at x cents of basis."""

    edges: np.ndarray  # object array of Fraction starts, len n
    ends: np.ndarray  # object array of Fraction ends (last: None → infinite)
    K: list[int]
    R: list[int]
    D: int
    boundary: str

    def tier_of(self, x: np.ndarray) -> np.ndarray:
        """Tier index of each basis value (cents); values below the first tier get 0."""
        starts = self.edges[1:]
        side = "left" if self.boundary == "lower" else "right"
        return np.searchsorted(starts, x, side=side) if len(starts) else np.zeros(len(x), dtype=np.intp)

    def scaled(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(F(x) * D as Python ints, tier index) for an array of integer cents."""
        j = self.tier_of(x)
        K = np.array(self.K, dtype=object)[j]
        R = np.array(self.R, dtype=object)[j]
        return K + R * x.astype(object), j


def linear(
    tiers: list[Tier],
    method: str,
    boundary: str,
    scale: Fraction = Fraction(1),
    rate_scale: Fraction = Fraction(1),
) -> Linear:
    """The tier table in cents: edges multiplied by ``scale`` (a quota in cents for attainment,
    1 for amounts), rates by ``rate_scale`` (incentive / quota for attainment multipliers)."""
    starts = [t.start * scale for t in tiers]
    ends = [None if t.end is None else t.end * scale for t in tiers]
    ks: list[Fraction] = []
    rs: list[Fraction] = []
    below = Fraction(0)  # F at the start of the tier (step, interpolated)
    for t, s, e in zip(tiers, starts, ends, strict=True):
        if method == "step":
            r = (t.rate or 0) * rate_scale
            ks.append(below - r * s)
            rs.append(r)
            below += r * (e - s) if e is not None else 0
        elif method == "interpolated":
            width = (e - s) if e is not None else None
            r = (t.amount / width) if width else Fraction(0)
            ks.append(below - r * s)
            rs.append(r)
            below += t.amount if width else 0
        elif t.amount is not None:  # flat amount
            ks.append(t.amount)
            rs.append(Fraction(0))
        else:  # flat rate
            ks.append(Fraction(0))
            rs.append((t.rate or 0) * rate_scale)
    if ends[-1] is not None:  # above a closed last tier the payout stays at its value at the top
        top = ends[-1]
        starts.append(top)
        ends.append(None)
        ks.append(ks[-1] + rs[-1] * top)
        rs.append(Fraction(0))
    d = math.lcm(*(f.denominator for f in ks + rs))
    return Linear(
        np.array(starts, dtype=object),
        np.array(ends, dtype=object),
        [int(k * d) for k in ks],
        [int(r * d) for r in rs],
        d,
        boundary,
    )


def round_half_even(scaled: np.ndarray, d: int | np.ndarray) -> np.ndarray:
    """Integers ``scaled / d`` rounded half to even (object arrays of Python ints)."""
    q = scaled // d
    twice = (scaled - q * d) * 2
    up = (twice > d) | ((twice == d) & (q % 2 == 1))
    return q + up.astype(object)


def cents(table: Linear, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(F(x) in whole cents, tier index) for integer cents ``x``."""
    scaled, j = table.scaled(x)
    return round_half_even(scaled, table.D), j
