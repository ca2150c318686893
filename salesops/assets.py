"""The Assets that chain the DAGs (data-aware scheduling): one per channel's raw landing."""

from __future__ import annotations

from airflow.sdk import Asset

from ingestion.contracts import channels

RAW_ASSETS = {channel: Asset(name=f"raw_{channel}", uri=f"salesops://raw/{channel}")
              for channel in channels()}
