"""Payouts: close the marts' last month under the commission plans and write its statements.

Scheduled on the ``salesops://marts`` Asset (the transform DAG emits it after the marts passed
their quality gate). Records new credits in the ledger, computes the month's payout lines and
rep statements (plus adjustments and clawbacks for locked months whose figures changed), tracks
the run in MLflow, writes the statements and a payroll export under
``$SALESOPS_HOME/payouts/<month>`` and emits ``salesops://payouts``. Locking a month stays a
finance decision (``salesops payouts lock``). Wiring only: the engine lives in ``ml.incentives``.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from salesops.assets import MARTS_ASSET, PAYOUTS_ASSET


@dag(
    dag_id="salesops_payouts",
    schedule=MARTS_ASSET,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["salesops", "finance", "payouts"],
    doc_md=__doc__,
)
def salesops_payouts():
    @task(outlets=[PAYOUTS_ASSET])
    def close_month(*, outlet_events=None) -> dict:
        """Run the month's payouts and write its statements (csv) for finance."""
        from ml.incentives.runs import close_last_month

        closed = close_last_month()
        outlet_events[PAYOUTS_ASSET].extra = closed
        return closed

    close_month()


salesops_payouts()
