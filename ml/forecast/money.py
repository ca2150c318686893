"""Money in forecasts and quotas: cents, rounded half to even (the one rounding rule), and
splits of an amount that add up to it exactly (largest remainder)."""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, InvalidOperation

CENT = Decimal("0.01")


def decimal(value) -> Decimal:
    """A float, int or Decimal as a Decimal (a float through its shortest repr, not its binary)."""
    return value if isinstance(value, Decimal) else Decimal(repr(float(value)))


def cents(value) -> Decimal:
    return decimal(value).quantize(CENT, ROUND_HALF_EVEN)


def allocate(total: Decimal, weights: list) -> list[Decimal]:
    """``total`` (in cents) split in proportion to ``weights``, in cents that add up to it exactly:
    each part rounded down, the cents left over given to the largest remainders (ties: first)."""
    weights = [max(decimal(w), Decimal(0)) for w in weights]
    if sum(weights) == 0:
        weights = [Decimal(1)] * len(weights)
    units = int(total / CENT)
    whole = sum(weights)
    raw = [Decimal(units) * w / whole for w in weights]
    floors = [int(r.to_integral_value(ROUND_FLOOR)) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (raw[i] - floors[i], -i), reverse=True)
    for i in order[: units - sum(floors)]:
        floors[i] += 1
    return [Decimal(f) * CENT for f in floors]


def parse_amount(text: str) -> Decimal | None:
    """A written amount (``1,500,000.00``) as a Decimal with at most two decimals, else None."""
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() and value == value.quantize(CENT) else None
