"""The Assets that chain the DAGs (data-aware scheduling): one per channel's raw landing."""

from __future__ import annotations

from airflow.sdk import Asset

from ingestion.contracts import channels

RAW_ASSETS = {channel: Asset(name=f"raw_{channel}", uri=f"salesops://raw/{channel}")
              for channel in channels()}

# The marts the transform DAG has built and passed through its quality gate; the forecast
# and payout DAGs are scheduled on it. Its event extra carries row counts per mart.
MARTS_ASSET = Asset(name="marts", uri="salesops://marts")

# Forecasts appended to ml.revenue_forecasts by the forecast DAG (extra: as-of month, rows).
FORECASTS_ASSET = Asset(name="forecasts", uri="salesops://forecasts")

# A month's payout run and its statements (extra: period, run id, statements, payable).
PAYOUTS_ASSET = Asset(name="payouts", uri="salesops://payouts")
