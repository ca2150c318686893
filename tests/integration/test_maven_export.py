"""The real Maven CRM export: every row of the four data files accounted for and reconciled."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from ingestion.loader import ingest_path
from tests.conftest import query

FILES = {"accounts.csv": "raw.crm_accounts", "products.csv": "raw.crm_products",
         "sales_teams.csv": "raw.crm_sales_reps", "sales_pipeline.csv": "raw.crm_opportunities"}


def test_maven_export_loads_with_no_flag_and_reconciles(db_url, maven_dir):
    results = {r.source_file.rsplit("/", 1)[-1]: r for r in ingest_path(db_url, "crm_export", str(maven_dir))}

    # The data dictionary is documentation (declared by the maven preset), not data.
    assert set(results) == set(FILES)
    for name, table in FILES.items():
        source = pd.read_csv(maven_dir / name, dtype=str, keep_default_na=False)
        result = results[name]
        assert result.status == "loaded" and result.raw_table == table
        assert result.rows_in == len(source) == result.rows_loaded + result.rows_rejected
        assert query(db_url, f"select count(*) from {table}") == [(result.rows_loaded,)]
    assert results["sales_pipeline.csv"].rows_rejected == 0

    pipeline = pd.read_csv(maven_dir / "sales_pipeline.csv", dtype=str, keep_default_na=False)
    won = pipeline[pipeline.deal_stage == "Won"]
    expected_total = sum(Decimal(v) for v in won.close_value)
    assert query(db_url, "select sum(amount) from raw.crm_opportunities where stage = 'Won'") == [
        (expected_total,)]
    by_stage = dict(query(db_url, "select stage, count(*) from raw.crm_opportunities group by stage"))
    assert by_stage == pipeline.deal_stage.value_counts().to_dict()
    # Open deals have no close date or value in the export: kept as NULL, not as 0 or ''.
    open_deals = query(db_url, "select count(*) from raw.crm_opportunities"
                               " where stage in ('Engaging', 'Prospecting') and closed_date is null"
                               " and amount is null")
    assert open_deals == [((pipeline.deal_stage.isin(["Engaging", "Prospecting"])).sum(),)]
    assert query(db_url, "select count(*) from raw.crm_opportunities where account_name is null") == [
        ((pipeline.account == "").sum(),)]
    assert query(db_url, "select distinct currency from raw.crm_opportunities") == [("USD",)]
    by_rep = dict(query(db_url, "select rep_name, sum(amount) from raw.crm_opportunities"
                                " where stage = 'Won' group by rep_name"))
    expected_by_rep = won.groupby("sales_agent").close_value.apply(lambda s: sum(map(Decimal, s)))
    assert by_rep == expected_by_rep.to_dict()
    # Real defects travel to raw unchanged (dbt fixes them visibly): "GTXPro", "technolgy".
    assert query(db_url, "select count(*) from raw.crm_opportunities where product_name = 'GTXPro'") == [
        ((pipeline["product"] == "GTXPro").sum(),)]
