"""Reader roles against a real warehouse database: what bi_reader and finance_reader may see.

The mart tables are created here the way dbt creates them (``create table ... as``, and
on a rebuild: new table, rename, drop the old one with cascade), so the test covers the
grants surviving, or rather being re-applied after, a dbt rebuild.
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors

from salesops import migrate
from salesops.access import apply_grants, masking_function

CONTACTS = """
create table marts.contacts as
select * from (values
    ('K1', 'Jane', 'Doe', 'jane.doe@example.com', '+86 151 6476 9901', true),
    ('K2', 'Wei', 'Wang', 'wang@x.cn', '12345', false),
    ('K3', 'Sam', 'Lee', null, null, false)
) as t(contact_id, first_name, last_name, email, phone, has_email)
"""


def _setup(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(CONTACTS)
        conn.execute("create table marts.fct_opportunities as select 'O1' as opportunity_id, 100.0 as amount")
        # Emails hidden inside other values: a natural key, a list of source record ids.
        conn.execute("create table marts.fct_leads as select * from (values"
                     " ('L1', 'EV7:ann.lee@acme.com', array['crm:1', 'events:EV7:ann.lee@acme.com'], 3),"
                     " ('L2', 'W-22', array['web:W-22'], 1)) as t(lead_id, lead_key, source_ids, touches)")
        conn.execute("create table finance.payouts as select 'Ann' as rep_name, 250.0 as payout")
        conn.execute("insert into raw.orders (order_id, order_date, amount, _batch_id,"
                     " _row_number, _record_hash) values ('R1', '2017-01-01', 1, 1, 1, 1)")
        apply_grants(conn)


def _as(url: str, role: str) -> psycopg.Connection:
    from salesops.access_admin import login_url

    return psycopg.connect(login_url(url, role), autocommit=True)


def _denied(conn: psycopg.Connection, statement: str) -> bool:
    try:
        conn.execute(statement).fetchall()
    except errors.InsufficientPrivilege:
        return True
    return False


def test_bi_reader_reads_marts_only_with_personal_data_masked(db_url):
    _setup(db_url)
    with _as(db_url, "bi_reader") as bi:
        for statement in ("select * from raw.orders", "select * from ops.ingestion_batches",
                          "select * from finance.payouts", "select * from ops.rejected_rows"):
            assert _denied(bi, statement), statement
        assert bi.execute("select * from marts.fct_opportunities").fetchall() == [("O1", 100)]
        assert _denied(bi, "select lead_key from marts.fct_leads")
        assert _denied(bi, "select source_ids from marts.fct_leads")
        assert bi.execute("select lead_id, touches from marts.fct_leads order by 1").fetchall() == [
            ("L1", 3), ("L2", 1)]
        leads = bi.execute("select lead_key, source_ids from marts.fct_leads_masked order by lead_id")
        assert leads.fetchall() == [
            ("EV7:a***@acme.com", ["crm:1", "events:EV7:a***@acme.com"]), ("W-22", ["web:W-22"])]
        # The personal columns of the table itself are out of reach; the others are not.
        assert _denied(bi, "select * from marts.contacts")
        assert _denied(bi, "select email from marts.contacts")
        assert _denied(bi, "select phone from marts.contacts")
        assert bi.execute("select contact_id, first_name, has_email from marts.contacts"
                          " order by contact_id").fetchall()[0] == ("K1", "Jane", True)
        masked = bi.execute("select contact_id, email, phone, last_name from marts.contacts_masked"
                            " order by contact_id").fetchall()
    assert masked == [
        ("K1", "j***@example.com", "***9901", "Doe"),
        ("K2", "w***@x.cn", "***", "Wang"),
        ("K3", None, None, "Lee"),
    ]


def test_columns_the_dbt_project_tags_as_pii_are_masked_too(db_url):
    _setup(db_url)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("alter table marts.fct_opportunities"
                     " add column contact_birthday date default '1980-02-01'")
        done = apply_grants(conn, {"contacts": {"first_name", "last_name"},
                                   "fct_opportunities": {"contact_birthday"}})
    assert any("fct_opportunities_masked" in line for line in done)
    with _as(db_url, "bi_reader") as bi:
        assert _denied(bi, "select first_name from marts.contacts")
        assert _denied(bi, "select contact_birthday from marts.fct_opportunities")
        names = bi.execute("select first_name, last_name, email from marts.contacts_masked"
                           " where contact_id = 'K2'").fetchone()
        assert names == ("W***", "W***", "w***@x.cn")
        assert bi.execute("select opportunity_id, amount, contact_birthday"
                          " from marts.fct_opportunities_masked").fetchall() == [("O1", 100, None)]


def test_finance_reader_reads_finance_and_marts_but_not_raw(db_url):
    _setup(db_url)
    with _as(db_url, "finance_reader") as fin:
        assert fin.execute("select * from finance.payouts").fetchall() == [("Ann", 250)]
        assert fin.execute("select email from marts.contacts where contact_id = 'K1'").fetchall() == [
            ("jane.doe@example.com",)]
        assert fin.execute("select count(*) from marts.fct_opportunities").fetchone() == (1,)
        assert _denied(fin, "select * from raw.orders")
        assert _denied(fin, "select * from ops.ingestion_batches")


def test_a_dbt_rebuild_locks_bi_out_until_grants_are_re_applied(db_url):
    _setup(db_url)
    with psycopg.connect(db_url, autocommit=True) as conn:
        # What dbt-postgres does to rebuild a table model.
        conn.execute(CONTACTS.replace("marts.contacts", "marts.contacts__dbt_tmp"))
        conn.execute("alter table marts.contacts rename to contacts__dbt_backup")
        conn.execute("alter table marts.contacts__dbt_tmp rename to contacts")
        conn.execute("drop table marts.contacts__dbt_backup cascade")  # takes the masked view along
        view = conn.execute("select to_regclass('marts.contacts_masked')").fetchone()[0]
        assert view is None
    with _as(db_url, "bi_reader") as bi:
        assert _denied(bi, "select contact_id from marts.contacts")  # fails closed

    with psycopg.connect(db_url, autocommit=True) as conn:
        done = apply_grants(conn)
        assert apply_grants(conn) == done  # idempotent
    assert any(line.startswith("marts.contacts: ") and "masked in marts.contacts_masked" in line
               for line in done)
    with _as(db_url, "bi_reader") as bi:
        assert bi.execute("select count(*) from marts.contacts_masked").fetchone() == (3,)
        assert bi.execute("select contact_id from marts.contacts order by 1 limit 1").fetchone() == ("K1",)


def test_finance_reader_reads_finance_tables_created_later(db_url):
    """Default privileges: a new finance table is readable without waiting for apply_grants."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("create table finance.statements as select 1 as statement_id")
    with _as(db_url, "finance_reader") as fin:
        assert fin.execute("select * from finance.statements").fetchall() == [(1,)]
    with _as(db_url, "bi_reader") as bi:
        assert _denied(bi, "select * from finance.statements")


def test_access_migrations_are_idempotent(db_url):
    access = [m for m in migrate.available() if m.name.startswith("access")]
    assert [m.version for m in access] == [3, 4]
    with psycopg.connect(db_url, autocommit=True) as conn:
        for migration in access + access:
            conn.execute(migration.sql)
        assert conn.execute("select access.mask_email('ann@acme.com'), access.mask_phone('(021) 5555-0199'),"
                            " access.mask_email('nope')").fetchone() == ("a***@acme.com", "***0199", "***")


def test_a_mart_named_like_a_masking_view_is_not_dropped(db_url):
    _setup(db_url)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("create table marts.fct_opportunities_masked as select 1 as x")
        with pytest.raises(RuntimeError, match="fct_opportunities_masked exists and is not the masking"):
            apply_grants(conn)
        assert conn.execute("select count(*) from marts.fct_opportunities_masked").fetchone() == (1,)


@pytest.mark.parametrize(("column", "data_type", "expected"), [
    ("email", "text", "access.mask_email"),
    ("contact_email", "character varying", "access.mask_email"),
    ("phone_number", "text", "access.mask_phone"),
    ("mobile", "text", "access.mask_phone"),
    ("has_email", "boolean", None),
    ("emails_sent", "bigint", None),
    ("company", "text", None),
])
def test_personal_data_columns_are_recognised(column, data_type, expected):
    assert masking_function(column, data_type) == expected
