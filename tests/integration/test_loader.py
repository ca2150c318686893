"""The loader against a real Postgres: every channel, good and bad files, accounting, idempotency."""

from __future__ import annotations

import json

import pytest

from ingestion.errors import IngestionError
from ingestion.loader import ingest_file, ingest_path
from tests.conftest import query
from tests.samples import GOOD, INJECTION, WRONG


def _write(tmp_path, sample):
    path = tmp_path / sample.channel / sample.name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(sample.content)
    return path


@pytest.mark.parametrize("sample", GOOD, ids=lambda s: f"{s.channel}-{s.name}")
def test_good_file_loads_and_accounts_for_every_row(db_url, tmp_path, sample):
    path = _write(tmp_path, sample)
    result = ingest_file(db_url, sample.channel, str(path))

    assert result.status == "loaded"
    assert result.rows_in == sample.rows_in
    assert result.rows_rejected == sample.rows_rejected
    assert result.rows_loaded == sample.rows_in - sample.rows_rejected
    (landed,) = query(db_url, f"select count(*) from {result.raw_table} where _batch_id = %s",
                      (result.batch_id,))[0]
    assert landed == result.rows_loaded
    batch = query(db_url, "select rows_in, rows_loaded, rows_rejected, status from"
                          " ops.ingestion_batches where batch_id = %s", (result.batch_id,))
    assert batch == [(sample.rows_in, result.rows_loaded, sample.rows_rejected, "loaded")]
    rejects = query(db_url, "select row_number, reason, raw_record from ops.rejected_rows"
                            " where batch_id = %s order by row_number", (result.batch_id,))
    assert len(rejects) == sample.rows_rejected
    assert all(reason and raw for _, reason, raw in rejects)
    # Row numbers of kept and rejected rows together are exactly 1..rows_in.
    kept = query(db_url, f"select _row_number from {result.raw_table} where _batch_id = %s",
                 (result.batch_id,))
    numbers = sorted([r[0] for r in kept] + [r[0] for r in rejects])
    assert numbers == list(range(1, sample.rows_in + 1))


@pytest.mark.parametrize("sample", WRONG, ids=lambda s: f"{s.channel}-{s.name}")
def test_wrong_file_fails_clearly_loads_nothing_and_is_booked(db_url, tmp_path, sample):
    path = _write(tmp_path, sample)
    with pytest.raises(IngestionError) as caught:
        ingest_file(db_url, sample.channel, str(path))

    assert str(path) in str(caught.value)
    batches = query(db_url, "select status, rows_in, rows_loaded, rows_rejected, error"
                            " from ops.ingestion_batches")
    assert len(batches) == 1
    status, rows_in, loaded, rejected, error = batches[0]
    assert (status, rows_in, loaded, rejected) == ("failed", sample.rows_in, 0, sample.rows_rejected)
    assert str(path) in error
    raw_rows = query(db_url, "select sum(n_live_tup) from pg_stat_user_tables where schemaname = 'raw'")
    landed = sum(query(db_url, f"select count(*) from raw.{t}")[0][0] for (t,) in query(
        db_url, "select tablename from pg_tables where schemaname = 'raw'"))
    assert landed == 0, raw_rows
    (kept,) = query(db_url, "select count(*) from ops.rejected_rows")[0]
    assert kept == sample.rows_rejected


def test_missing_column_error_names_file_and_expected_columns(db_url, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("order_id,amount\nO1,5\n")
    with pytest.raises(IngestionError, match=r"orders\.csv: not a complete orders file: .* lacks required "
                                             r"column\(s\): order_date \(accepted headers: "):
        ingest_file(db_url, "orders", str(path))


def test_reloading_the_same_content_changes_nothing(db_url, tmp_path):
    sample = next(s for s in GOOD if s.channel == "activities")
    path = _write(tmp_path, sample)
    first = ingest_file(db_url, "activities", str(path))
    copy = tmp_path / "renamed.csv"
    copy.write_bytes(sample.content)
    before = query(db_url, "select count(*), (select count(*) from ops.rejected_rows),"
                           " (select count(*) from ops.ingestion_batches) from raw.activities")
    again = ingest_file(db_url, "activities", str(path))
    renamed = ingest_file(db_url, "activities", str(copy))
    after = query(db_url, "select count(*), (select count(*) from ops.rejected_rows),"
                          " (select count(*) from ops.ingestion_batches) from raw.activities")

    assert (again.status, renamed.status) == ("skipped", "skipped")
    assert f"already loaded as batch {first.batch_id}" in again.message
    assert before == after


def test_injection_and_formula_strings_are_stored_as_data(db_url, tmp_path):
    sample = next(s for s in GOOD if s.name == "facebook.tsv")
    ingest_file(db_url, "ad_leads", str(_write(tmp_path, sample)))
    names = [r[0] for r in query(db_url, "select full_name from raw.ad_leads order by lead_id")]
    assert INJECTION in names
    assert query(db_url, "select to_regclass('raw.ad_leads') is not null") == [(True,)]


def test_values_are_converted_exactly(db_url, tmp_path):
    sample = next(s for s in GOOD if s.channel == "referrals")
    ingest_file(db_url, "referrals", str(_write(tmp_path, sample)))
    rows = query(db_url, "select referral_id, estimated_value::text, currency, referred_at::date::text"
                         " from raw.referrals order by referral_id")
    assert rows == [("R1", "12500.00", "USD", "2017-02-01"), ("R2", "8800", "CNY", "2017-02-02"),
                    ("R3", "1234.50", "EUR", "2017-02-03")]
    (reason,) = query(db_url, "select reason from ops.rejected_rows")[0]
    assert "'referrer_type': 'alien'" in reason and "'estimated_deal_value': 'N/A'" in reason


def test_unknown_columns_are_kept_in_extra(db_url, tmp_path):
    sample = next(s for s in GOOD if s.channel == "web_forms")
    ingest_file(db_url, "web_forms", str(_write(tmp_path, sample)))
    extra = query(db_url, "select _extra::text from raw.web_form_leads where submission_id = 'W1'")
    assert json.loads(extra[0][0]) == {"referrer": "x"}


def test_folder_ingest_reports_each_file_and_keeps_going(db_url, tmp_path):
    for sample in [s for s in GOOD + WRONG if s.channel == "crm_export"]:
        _write(tmp_path, sample)
    results = {r.source_file.rsplit("/", 1)[-1]: r for r in
               ingest_path(db_url, "crm_export", str(tmp_path / "crm_export"))}
    assert {k: v.status for k, v in results.items()} == {
        "salesforce_leads.csv": "loaded", "hubspot_deals.csv": "loaded", "unknown_crm.csv": "failed"}
    assert "not a crm_export file" in results["unknown_crm.csv"].message


def test_large_file_streams_and_falls_back_to_exact_reading_on_a_bad_record(db_url, tmp_path):
    """Big clean files load while they are parsed; one broken record late in the file still
    yields exact record numbers (the streamed attempt is rolled back and re-read)."""
    header = "activity_id,activity_type,occurred_at,lead_id,subject\n"
    lines = [f"A{i},call,2017-03-15 10:00,L{i},\"note, {i}\"\n" for i in range(1, 250_001)]
    lines[240_000] = "A240001,call,2017-03-15 10:00,L1,too,many,fields\n"
    path = tmp_path / "activities.csv"
    path.write_text(header + "".join(lines))
    assert path.stat().st_size > 8 << 20  # beyond one streaming block

    result = ingest_file(db_url, "activities", str(path))

    assert (result.rows_in, result.rows_loaded, result.rows_rejected) == (250_000, 249_999, 1)
    assert query(db_url, "select row_number, reason from ops.rejected_rows") == [
        (240_001, "record has 7 fields, the header has 5")]
    assert query(db_url, "select max(_row_number), count(*) from raw.activities") == [(250_000, 249_999)]

    clean = tmp_path / "clean.csv"
    clean.write_text(header + "".join(lines[:240_000]))
    streamed = ingest_file(db_url, "activities", str(clean))
    assert (streamed.rows_in, streamed.rows_loaded) == (240_000, 240_000)
