"""Forecasts written back to the warehouse (migration V011), as the ML role, append-only.

One transaction per scoring run: the run's row in ``ml.forecast_runs`` and its forecast rows
in ``ml.revenue_forecasts``. Rows whose (level, series, as-of month, period) are already there
are kept as they were (``on conflict do nothing``): scoring the same as-of month twice adds a
run row but no forecast rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

COLUMNS = (
    "level",
    "series_key",
    "as_of_month",
    "period",
    "horizon",
    "forecast",
    "lower_80",
    "upper_80",
    "lower_95",
    "upper_95",
    "model",
    "reconciliation",
    "model_version",
    "run_id",
)


@dataclass(frozen=True)
class Written:
    run_id: str
    as_of_month: pd.Period
    rows: int  # forecast rows new in the warehouse
    already_there: int  # rows of this as-of month scored before, kept as they were


def write(
    url: str, forecasts: pd.DataFrame, as_of: pd.Period, run_id: str, model_name: str, model_version: str
) -> Written:
    import psycopg

    from salesops.warehouse import role_url

    as_of_date = as_of.to_timestamp().date()
    rows = [
        (
            r.level,
            r.series_key,
            as_of_date,
            r.period.to_timestamp().date(),
            int(r.horizon),
            r.forecast,
            r.lower_80,
            r.upper_80,
            r.lower_95,
            r.upper_95,
            r.model,
            r.reconciliation,
            model_version,
            run_id,
        )
        for r in forecasts.itertuples(index=False)
    ]
    with psycopg.connect(role_url(url, "ml")) as conn, conn.transaction():
        conn.execute("create temporary table incoming (like ml.revenue_forecasts) on commit drop")
        with conn.cursor().copy(f"copy incoming ({', '.join(COLUMNS)}) from stdin") as copy:
            for row in rows:
                copy.write_row(row)
        written = conn.execute(
            f"insert into ml.revenue_forecasts ({', '.join(COLUMNS)})"
            f" select {', '.join(COLUMNS)} from incoming on conflict do nothing"
        ).rowcount
        # the run's row comes last, with its count (the foreign key is checked at commit)
        conn.execute(
            "insert into ml.forecast_runs (run_id, as_of_month, horizon, model_name, model_version,"
            " series, rows_written) values (%s, %s, %s, %s, %s, %s, %s)",
            (
                run_id,
                as_of_date,
                int(forecasts["horizon"].max()),
                model_name,
                model_version,
                forecasts[["level", "series_key"]].drop_duplicates().shape[0],
                written,
            ),
        )
    return Written(run_id, as_of, written, len(rows) - written)


SCORE_COLUMNS = (
    "opportunity_id",
    "as_of_date",
    "probability",
    "expected_revenue",
    "is_amount_from_list_price",
    "stage_at",
    "top_factors",
    "model_version",
    "run_id",
)


def write_scores(url: str, scores: pd.DataFrame, as_of, run_id: str, model_version: str) -> int:
    """Append win probabilities to ml.opportunity_scores; an (opportunity, as-of date) already
    there keeps its row. Returns the rows new in the warehouse."""
    import psycopg
    from psycopg.types.json import Jsonb

    from ml.forecast.money import cents, decimal
    from salesops.warehouse import role_url

    if scores.empty:
        return 0
    day = pd.Timestamp(as_of).date()
    with psycopg.connect(role_url(url, "ml")) as conn, conn.transaction():
        conn.execute(
            "create temporary table incoming (like ml.opportunity_scores including defaults) on commit drop"
        )
        with conn.cursor().copy(f"copy incoming ({', '.join(SCORE_COLUMNS)}) from stdin") as copy:
            for r in scores.itertuples(index=False):
                probability = Decimal(f"{float(r.probability):.6f}")  # as stored; revenue from it
                copy.write_row(
                    (
                        r.opportunity_id,
                        day,
                        probability,
                        cents(decimal(r.deal_value_usd) * probability),
                        bool(r.is_amount_from_list_price),
                        r.stage_at,
                        Jsonb(r.factors),
                        model_version,
                        run_id,
                    )
                )
        columns = ", ".join(SCORE_COLUMNS)
        return conn.execute(
            f"insert into ml.opportunity_scores ({columns})"
            f" select {columns} from incoming on conflict do nothing"
        ).rowcount
