"""What people layer on the models (migration V014; docs/forecasting.md): a manager's adjustment
of a revenue forecast, a deal's forecast category override. Both append-only, written as the
ML role; the marts ``forecast_adjusted`` and ``pipeline_forecast`` show them after a build."""

from __future__ import annotations

import getpass

from ml.forecast.money import parse_amount
from salesops.reference import parse_month


class AdjustmentError(ValueError):
    """An adjustment or override that cannot be recorded; one line for a person."""


def _reason(reason: str) -> str:
    if not reason.strip():
        raise AdjustmentError("--reason is empty: say why (it is kept with the change)")
    return reason.strip()


def adjust(
    url: str, level: str, key: str, month: str, amount: str, reason: str, by: str | None = None
) -> int:
    """Record ``amount`` (USD, may be negative) on top of the forecast of ``level``/``key`` for
    ``month``; returns the adjustment's id. The forecast must exist (a scored series and month)."""
    import psycopg

    from salesops.warehouse import role_url

    day = parse_month(month)
    if day is None:
        raise AdjustmentError(f"--month {month!r} is not a month (2018-01)")
    value = parse_amount(amount)
    if value is None:
        raise AdjustmentError(f"--amount {amount!r} is not an amount in USD with at most two decimals")
    reason = _reason(reason)
    with psycopg.connect(role_url(url, "ml")) as conn:
        found = conn.execute(
            "select 1 from ml.revenue_forecasts where level = %s and series_key = %s and period = %s limit 1",
            (level, key, day),
        ).fetchone()
        if found is None:
            raise AdjustmentError(
                f"no {level} {key!r} forecast for {day:%Y-%m} in ml.revenue_forecasts: "
                "adjust a series and month the forecast covers "
                "(`salesops forecast score`)"
            )
        return conn.execute(
            "insert into finance.forecast_adjustments (level, series_key, month, amount,"
            " reason, adjusted_by) values (%s, %s, %s, %s, %s, %s) returning adjustment_id",
            (level, key, day, value, reason, by or getpass.getuser()),
        ).fetchone()[0]


def override_category(
    url: str, opportunity_id: str, category: str, reason: str, by: str | None = None
) -> int:
    """Put an open deal in ``category`` whatever its probability band; returns the override's id."""
    import psycopg

    from salesops.warehouse import role_url

    reason = _reason(reason)
    with psycopg.connect(role_url(url, "ml")) as conn:
        found = conn.execute(
            "select 1 from ml.opportunity_scores where opportunity_id = %s limit 1", (opportunity_id,)
        ).fetchone()
        if found is None:
            raise AdjustmentError(
                f"opportunity {opportunity_id!r} has no win probability in "
                "ml.opportunity_scores: only scored open deals have a forecast category"
            )
        return conn.execute(
            "insert into finance.forecast_category_overrides (opportunity_id,"
            " forecast_category, reason, overridden_by) values (%s, %s, %s, %s)"
            " returning override_id",
            (opportunity_id, category, reason, by or getpass.getuser()),
        ).fetchone()[0]
