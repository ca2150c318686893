"""The Great Expectations gates against a real warehouse database (no mocks).

Raw batches come from the real loader; broken rows are written the way a loader bug or a
manual fix would write them (straight into raw), since the loader itself refuses them.
"""

from __future__ import annotations

import psycopg
import pytest

from salesops import transform
from salesops.quality.gates import QualityGateError, run_marts_gate, run_raw_gate
from tests.conftest import query

ORDERS = (
    "order_id,order_date,amount,currency,status\n"
    "Q1,2017-03-15,120.00,USD,paid\n"
    "Q2,2017-03-16,\u00a58800,,paid\n"
    "Q3,2017-03-17,(12.00),EUR,refunded\n"
)


def _load_orders(url: str, tmp_path, name: str = "orders.csv", content: str = ORDERS):
    from ingestion.loader import ingest_file

    path = tmp_path / name
    path.write_text(content)
    result = ingest_file(url, "orders", str(path))
    assert result.status == "loaded", result.message
    return result


def _fake_batch(conn, table: str, rows_in: int, rows_loaded: int) -> int:
    """Book a batch as the loader would, for rows a test then writes into raw itself."""
    return conn.execute(
        "insert into ops.ingestion_batches (channel, entity, raw_table, source_file, file_sha256,"
        " file_bytes, rows_in, rows_loaded, rows_rejected, status, finished_at)"
        " values ('orders', 'orders', %s, '/landing/orders/fixed_by_hand.csv', md5(random()::text),"
        " 1, %s, %s, %s, 'loaded', now()) returning batch_id",
        (table, rows_in, rows_loaded, rows_in - rows_loaded)).fetchone()[0]


def _raw_order(conn, batch_id: int, order_id: str, amount, currency) -> None:
    conn.execute(
        "insert into raw.orders (order_id, order_date, amount, currency, _batch_id,"
        " _row_number, _record_hash) values (%s, '2017-05-01', %s, %s, %s, 1, 1)",
        (order_id, amount, currency, batch_id))


def test_raw_gate_passes_on_loaded_batches_and_warns_on_negative_amounts(db_url, tmp_path):
    loaded = _load_orders(db_url, tmp_path)

    result = run_raw_gate(db_url)

    assert (result["since"], result["upto"]) == (0, loaded.batch_id)
    summary = result["summary"]
    assert summary["passed"] and summary["checks"] >= 8
    assert summary["failed_critical"] == []
    # The refund "(12.00)" is a negative amount: worth a look, not a stop.
    assert any("raw.orders.amount" in w and "-12" in w for w in summary["warnings"])
    booked = query(db_url, "select status, summary->'summary'->>'checks' from ops.pipeline_runs"
                           " where command = 'quality_raw'")
    assert booked == [("passed", str(summary["checks"]))]


def test_raw_gate_fails_on_an_invalid_currency_and_names_it(db_url, tmp_path):
    _load_orders(db_url, tmp_path)
    with psycopg.connect(db_url, autocommit=True) as conn:
        batch = _fake_batch(conn, "raw.orders", 1, 1)
        _raw_order(conn, batch, "BAD1", 10, "usd")

    with pytest.raises(QualityGateError) as failure:
        run_raw_gate(db_url)

    message = str(failure.value)
    assert "quality gate 'raw' failed: 1 critical expectation(s) failed" in message
    assert "raw.orders.currency" in message and "expect_column_values_to_match_regex" in message
    assert "'usd'" in message and "1 unexpected" in message
    assert f"batches 1..{batch}" in message
    booked = query(db_url, "select status from ops.pipeline_runs where command = 'quality_raw'")
    assert booked == [("failed",)]


def test_raw_gate_checks_the_accounting_of_every_batch(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        batch = _fake_batch(conn, "raw.orders", 3, 3)  # books 3 loaded rows ...
        _raw_order(conn, batch, "ONLY1", 5, "USD")  # ... but only one landed

    with pytest.raises(QualityGateError) as failure:
        run_raw_gate(db_url)

    message = str(failure.value)
    assert "ops.ingestion_batches.rows_loaded/rows_landed" in message
    assert "rows_loaded = rows found in the raw table for the batch" in message
    assert "rows_in = rows_loaded + rows_rejected" not in message  # that one holds


def test_raw_gate_only_looks_at_batches_after_the_last_successful_transform(db_url, tmp_path):
    with psycopg.connect(db_url, autocommit=True) as conn:
        old = _fake_batch(conn, "raw.orders", 1, 1)
        _raw_order(conn, old, "OLD", 1, "usd")  # bad, but already behind the watermark
        transform.record_transform(conn, "success", {"upto_batch_id": old})

    nothing_new = run_raw_gate(db_url)
    assert nothing_new["summary"]["passed"] and nothing_new["summary"]["checks"] == 0
    assert nothing_new["summary"]["skipped"] == [f"no batches loaded after batch {old}"]

    loaded = _load_orders(db_url, tmp_path)
    result = run_raw_gate(db_url)
    assert (result["since"], result["upto"]) == (old, loaded.batch_id)
    assert result["summary"]["passed"]


MARTS = """
create table marts.fct_opportunities as
select * from (values
    ('O1', 100.0, true, date '2017-03-01', true, false, 100.0, 'USD', false, false, 'Won'),
    ('O2', 50.0, false, null::date, false, false, 50.0, 'USD', false, false, 'Engaging'),
    ('O3', 0.0, false, date '2017-04-01', true, false, 0.0, 'USD', false, false, 'Lost'))
    as t(opportunity_id, amount, is_won, closed_date, is_closed, is_closed_without_date, amount_usd,
         currency, is_missing_rate, has_unknown_stage, stage_raw);
create table marts.customer_360 as select * from (values ('C1'), ('C2')) as t(customer_id);
create table marts.rep_performance_monthly as
select * from (values ('Ann', date '2017-03-01', 0.5), ('Bob', date '2017-03-01', 1.0))
    as t(rep_name, month, win_rate);
"""


@pytest.fixture()
def dbt_project(tmp_path, monkeypatch):
    """A dbt project folder that defines the key marts (the gate checks what dbt defines)."""
    project = tmp_path / "dbt"
    (project / "models" / "marts").mkdir(parents=True)
    for name in ("fct_opportunities", "customer_360", "rep_performance_monthly"):
        (project / "models" / "marts" / f"{name}.sql").write_text("select 1 as x\n")
    monkeypatch.setenv("SALESOPS_DBT_PROJECT_DIR", str(project))
    return project


def test_marts_gate_passes_on_sound_marts(db_url, dbt_project):
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("set role salesops_transformer")  # dbt's role owns the marts
        conn.execute(MARTS)

    result = run_marts_gate(db_url)

    summary = result["summary"]
    assert summary["passed"] and summary["failed_critical"] == [] and summary["skipped"] == []
    assert summary["checks"] == 13


def test_marts_gate_lets_flagged_rows_through_with_warnings(db_url, dbt_project):
    """A won deal without close date or amount, a PEN deal without rate, an unknown stage: flagged
    rows are warnings with their count, never a stopped pipeline."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("set role salesops_transformer")  # dbt's role owns the marts
        conn.execute(MARTS)
        conn.execute("insert into marts.fct_opportunities values"
                     " ('O4', null, true, null, true, true, null, 'USD', false, false, 'Ganado'),"
                     " ('O5', 70.0, true, date '2017-05-01', true, false, null, 'PEN', true, false, 'Won'),"
                     " ('O6', null, false, null, false, false, null, 'USD', false, true, 'Demo booked')")

    result = run_marts_gate(db_url)

    summary = result["summary"]
    assert summary["passed"] and summary["failed_critical"] == []
    text = "\n".join(summary["warnings"])
    assert len(summary["warnings"]) == 3
    assert "won opportunities have a closed_date" in text
    assert "is_missing_rate" in text and "has_unknown_stage" in text


def test_marts_gate_fails_naming_each_broken_expectation(db_url, dbt_project):
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("set role salesops_transformer")  # dbt's role owns the marts
        conn.execute(MARTS)
        conn.execute("insert into marts.fct_opportunities values"
                     " ('O1', -5, true, null, true, false, -5, 'USD', false, false, 'Won')")
        conn.execute("update marts.rep_performance_monthly set win_rate = 1.5 where rep_name = 'Bob'")

    with pytest.raises(QualityGateError) as failure:
        run_marts_gate(db_url)

    message = str(failure.value)
    assert "quality gate 'marts' failed: 4 critical expectation(s) failed" in message
    assert "marts.fct_opportunities.opportunity_id: opportunity_id is unique" in message
    assert "marts.fct_opportunities.amount: amount >= 0" in message and "-5" in message
    assert ("marts.fct_opportunities: closed opportunities without a closed_date are flagged"
            " is_closed_without_date") in message
    assert "won opportunities have a closed_date" not in message  # a warning only
    assert "marts.rep_performance_monthly.win_rate: win_rate >= 0 and <= 1" in message and "1.5" in message
    assert "customer_360" not in message


def test_marts_gate_skips_marts_the_project_does_not_define_and_fails_on_missing_ones(db_url, dbt_project):
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("set role salesops_transformer")  # dbt's role owns the marts
        conn.execute(MARTS)
        conn.execute("drop table marts.customer_360")
    (dbt_project / "models" / "marts" / "rep_performance_monthly.sql").unlink()
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("drop table marts.rep_performance_monthly")

    with pytest.raises(QualityGateError) as failure:
        run_marts_gate(db_url)

    message = str(failure.value)
    assert "dbt model customer_360 is defined but marts.customer_360 is missing" in message
    booked = query(db_url, "select summary->'summary'->'skipped' from ops.pipeline_runs"
                           " where command = 'quality_marts'")
    skipped = f"marts.rep_performance_monthly: no dbt model 'rep_performance_monthly' in {dbt_project}"
    assert booked == [([skipped],)]
