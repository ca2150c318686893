"""Public CRM exports nobody here wrote (tests/data/realworld/*/SOURCE.md) load as they are.

Each source folder is ingested with no flags; every file must load, and every record must be
accounted for against an independent reading of the file with pandas.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from ingestion.loader import ingest_path
from tests.conftest import query

REALWORLD = Path(__file__).resolve().parents[1] / "data" / "realworld"
# The encoding each source's SOURCE.md documents, for the independent reading.
SOURCES = {
    "salesforce_data_export_latam": "latin-1",
    "salesforce_airsprint_excel_resaved": "utf-8-sig",
    "hubspot_markstringer_deals": "utf-8-sig",
    "zoho_crm_module_export": "utf-8",
    "fxiaoke_newopportunity_constructed": "utf-8-sig",
}
DOCUMENTATION = {"NewOpportunityObj_fields.csv"}  # the vendor's field list, not data


def independent_rows(path: Path, encoding: str) -> int:
    csv.field_size_limit(2**31 - 1)
    frame = pd.read_csv(path, encoding=encoding, dtype=str, keep_default_na=False, engine="python")
    return len(frame)


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_every_real_source_loads_with_no_flags_and_every_record_is_accounted_for(db_url, source):
    folder = REALWORLD / source
    results = {Path(r.source_file).name: r for r in ingest_path(db_url, "crm_export", str(folder))}
    files = {p.name for p in folder.glob("*.csv")} - DOCUMENTATION
    assert set(results) == files
    for name, result in results.items():
        assert result.status == "loaded", f"{name}: {result.message}"
        assert result.rows_in == independent_rows(folder / name, SOURCES[source]), name
        assert result.rows_in == result.rows_loaded + result.rows_rejected
        raw = query(db_url, f"select count(*) from {result.raw_table} where _batch_id = %s",
                    (result.batch_id,))[0][0]
        rejected = query(db_url, "select count(*) from ops.rejected_rows where batch_id = %s",
                         (result.batch_id,))[0][0]
        assert (raw, rejected) == (result.rows_loaded, result.rows_rejected), name
        assert result.rows_rejected == 0, f"{name}: {result.rows_rejected} rejected"


def test_salesforce_dump_entities_encodings_and_nul_bytes(db_url):
    folder = REALWORLD / "salesforce_data_export_latam"
    results = {Path(r.source_file).name: r for r in ingest_path(db_url, "crm_export", str(folder))}
    assert {n: r.entity for n, r in results.items()} == {
        "Account.csv": "accounts", "Contact.csv": "contacts", "Lead.csv": "leads",
        "Opportunity.csv": "opportunities", "User.csv": "sales_reps"}
    batches = dict(query(db_url, "select source_file, encoding from ops.ingestion_batches"))
    assert batches[str(folder / "Opportunity.csv")] == "cp1252"
    assert batches[str(folder / "Account.csv")] == "utf-8+cp1252"  # Latin-1 with UTF-8 sequences
    nul_note = "NUL bytes removed from column 'ClosingPlan__c' in 46 record(s)"
    assert nul_note in results["Opportunity.csv"].message
    stages = dict(query(db_url, "select stage, count(*) from raw.crm_opportunities group by 1"))
    assert stages["Negociación"] == 28 and stages["Diseño Propuesta"] == 8  # decoded, not mojibake
    flags = query(db_url, "select is_won, is_closed, count(*) from raw.crm_opportunities group by 1, 2"
                          " order by 1, 2")
    assert flags == [(False, False, 86), (False, True, 184), (True, True, 100)]
    reps = query(db_url, "select count(*), count(rep_name), count(rep_id) from raw.crm_sales_reps")
    assert reps == [(45, 45, 45)]  # FirstName + LastName joined
