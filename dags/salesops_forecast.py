"""Forecast: (re)train the revenue forecast when due, score every level, write it back.

Scheduled on the ``salesops://marts`` Asset (the transform DAG emits it after the marts
passed their quality gate). Training runs when there is no champion model yet, when the
champion is older than ``SALESOPS_FORECAST_RETRAIN_DAYS`` (default 30) or when the run's
conf says ``{"retrain": true}``; scoring appends to ``ml.revenue_forecasts`` and
``ml.opportunity_scores`` with the champions and emits ``salesops://forecasts``; finance's new
target files in ``<landing>/targets/`` become rep quotas; then the marts that read them are
rebuilt. Wiring only: the models live in ``ml.forecast``.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from salesops.assets import FORECASTS_ASSET, MARTS_ASSET


@dag(
    dag_id="salesops_forecast",
    schedule=MARTS_ASSET,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["salesops", "ml", "forecast"],
    params={"retrain": False},
    doc_md=__doc__,
)
def salesops_forecast():
    @task
    def train_if_due(params: dict | None = None) -> dict:
        """Train, track and register when due; the champion moves only if the new model is better."""
        from ml.forecast import registry

        return registry.train_if_due(force=bool((params or {}).get("retrain")))

    @task(outlets=[FORECASTS_ASSET])
    def score(trained: dict, *, outlet_events=None) -> dict:
        """Forecast every level with the champion and append the rows to ml.revenue_forecasts."""
        from ml.forecast import registry

        written = registry.score_latest()
        outlet_events[FORECASTS_ASSET].extra = written
        return {**written, "trained": trained}

    @task
    def load_targets() -> dict:
        """Finance's new target files in the landing zone's targets/ folder, split into rep quotas."""
        from ml.forecast import quotas

        return quotas.load_landing_targets()

    @task
    def refresh_forecast_marts(targets: dict) -> dict:
        """Rebuild the marts that read the forecasts, scores and quotas, then the reader grants;
        then fail if a targets file was refused (its reason in the error)."""
        from ml.forecast import quotas
        from salesops import transform

        refreshed = transform.refresh_forecast_marts(quotas_changed=bool(targets["loaded"]))
        quotas.refused_targets(targets)
        return refreshed

    targets = load_targets()
    score(train_if_due()) >> refresh_forecast_marts(targets)


salesops_forecast()
