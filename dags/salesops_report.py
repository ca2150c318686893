"""Reports: the monthly sales report of the last closed month, after every refresh of its inputs.

Scheduled on the marts, forecasts and payouts Assets (whichever is updated: the report then
shows it). Writes the sales edition (read as bi_reader) and the finance edition (read as
finance_reader) in English and Chinese (``SALESOPS_REPORT_LANGS``) as self-contained HTML under
``$SALESOPS_HOME/reports/<month>/``. Wiring only: the report lives in ``salesops.report``.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from salesops.assets import FORECASTS_ASSET, MARTS_ASSET, PAYOUTS_ASSET


@dag(
    dag_id="salesops_report",
    schedule=(MARTS_ASSET | FORECASTS_ASSET | PAYOUTS_ASSET),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["salesops", "reports"],
    doc_md=__doc__,
)
def salesops_report():
    @task
    def write_reports() -> dict:
        """Write the last closed month's reports (both editions, every language)."""
        from salesops.report.build import write_monthly

        return write_monthly()

    write_reports()


salesops_report()
