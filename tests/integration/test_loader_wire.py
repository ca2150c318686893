"""What the loader's COPY stream carries: typed values in binary, load metadata with every row."""

from __future__ import annotations

import psycopg

from ingestion.contracts import contract
from ingestion.loader import ingest_file
from ingestion.mapping import match
from ingestion.readers import read_records
from ingestion.schema import ensure_raw_tables
from ingestion.validate import record_hash
from salesops import migrate
from tests.conftest import query

SURVEYS = (
    "id,submitted_at,type,rating,account,note\r\n"
    "S1,2017-03-15T14:05:00Z,CSAT,4,Acme,fine\r\n"
    "S2,2017-03-16 09:30,nps,10,,\r\n"
    "S3,not a date,nps,7,Acme,\r\n"
)


def test_binary_rows_keep_types_hashes_extra_and_metadata(db_url, tmp_path):
    path = tmp_path / "nps.csv"
    path.write_text(SURVEYS, encoding="utf-8")

    result = ingest_file(db_url, "surveys", str(path))

    assert (result.rows_in, result.rows_loaded, result.rows_rejected) == (3, 2, 1)
    rows = query(db_url, "select response_id, responded_at::text, survey_type, score, _extra::text,"
                         " b.source_file, _row_number, _record_hash from raw.survey_responses"
                         " join ops.ingestion_batches b on b.batch_id = _batch_id order by _row_number")
    records = read_records(path.read_bytes(), str(path))
    hashes = record_hash(records.table).to_pylist()
    assert rows == [
        ("S1", "2017-03-15 14:05:00+00", "csat", 4, '{"note": "fine"}', str(path), 1, hashes[0]),
        ("S2", "2017-03-16 09:30:00+00", "nps", 10, "{}", str(path), 2, hashes[1]),
    ]
    # _loaded_at is the loading transaction's time, the same for every row of the batch.
    stamps = query(db_url, "select count(distinct r._loaded_at), bool_and(r._loaded_at between"
                           " b.started_at and b.finished_at) from raw.survey_responses r"
                           " join ops.ingestion_batches b on b.batch_id = r._batch_id")
    assert stamps == [(1, True)]
    assert match(contract("surveys"), records.column_names, str(path)).unmapped == ("note",)


def test_raw_tables_of_an_older_warehouse_lose_the_per_row_source_file(db_url):
    """V010: the file is the batch's; an older warehouse's raw tables (the column, with the default
    an even older version gave it) lose the column, and preparing the warehouse again is a no-op."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("alter table raw.ad_leads add column _source_file text not null"
                     " default current_setting('salesops.source_file', true)")
        conn.execute("alter table raw.orders add column _source_file text")
        conn.execute("delete from ops.schema_migrations where version = 10")
        migrate.migrate(conn)
        ensure_raw_tables(conn)
        migrate.migrate(conn)
        ensure_raw_tables(conn)
    left = query(db_url, "select table_name from information_schema.columns"
                         " where table_schema = 'raw' and column_name = '_source_file'")
    assert left == []
    defaults = query(db_url, "select column_name, column_default from information_schema.columns"
                             " where table_schema = 'raw' and table_name = 'ad_leads'"
                             " and column_default is not null")
    assert defaults == [("_loaded_at", "now()")]
