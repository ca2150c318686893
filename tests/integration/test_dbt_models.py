"""The dbt project against a real Postgres: a Maven-only warehouse and a small demo warehouse.

Each warehouse is built once per module (a fresh database on the session's server) and
then examined by several tests: every dbt test passes (warnings only for the documented
Maven defects), the marts reconcile with an independent pandas reading of the Maven CSV
files (Decimal), the Maven defects are fixed or flagged as docs/data_quality.md says,
identity resolution and routing hold on messy multi-channel data, and an incremental run
after a delta batch equals a full refresh.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from ingestion.loader import ingest_path
from salesops.dbt_project import run_dbt
from tests.conftest import copy_of, query, scratch_database

# Warnings dbt may raise: the documented data defects (docs/data_quality.md), nothing else.
DOCUMENTED_WARNINGS = {
    "not_null_stg_crm_export__opportunities_account_name",  # 1,425 deals without account
    "not_null_fct_opportunities_account_name",
    # 5 sales agents without opportunities
    "relationships_stg_crm_export__sales_reps_rep_name__rep_name__ref_stg_crm_export__opportunities_",
}
# The fixes docs/data_quality.md documents, applied here independently of the seeds.
PRODUCT_FIXES = {"GTXPro": "GTX Pro"}
ACCOUNT_FIXES = {"dambase": "Dambase"}
MARTS = ["customer_360", "contacts", "fct_leads", "fct_opportunities", "funnel_conversion",
         "loss_reasons", "rep_performance_monthly", "team_performance_monthly", "training_needs"]


def _statuses(result) -> dict[str, str]:
    return {r.node.name: str(r.status) for r in result.result.results}


def _assert_build_clean(result, allowed_warnings=DOCUMENTED_WARNINGS) -> None:
    statuses = _statuses(result)
    bad = {name: s for name, s in statuses.items() if s not in ("success", "pass", "warn")}
    assert not bad, f"dbt nodes failed: {bad}"
    warned = {name for name, s in statuses.items() if s == "warn"}
    assert warned <= allowed_warnings, f"undocumented warnings: {warned - allowed_warnings}"
    kinds = Counter(r.node.resource_type for r in result.result.results)
    assert kinds["model"] >= 30 and kinds["test"] >= 250 and kinds["unit_test"] >= 7
    assert kinds["snapshot"] == 2 and kinds["seed"] >= 9


@pytest.fixture(scope="module")
def maven_warehouse(server_url, maven_dir):
    """A warehouse where only the Maven export was ingested, built with dbt."""
    with scratch_database(server_url) as url:
        loaded = ingest_path(url, "crm_export", str(maven_dir))
        assert {r.status for r in loaded} == {"loaded"}
        result = run_dbt(["build"], url)
        yield url, result


@pytest.fixture(scope="module")
def maven_csv(maven_dir):
    """The Maven export read independently (pandas, Decimal amounts, documented fixes)."""
    def read(name):
        return pd.read_csv(maven_dir / name, dtype=str, keep_default_na=False)

    pipeline = read("sales_pipeline.csv").merge(read("sales_teams.csv"), on="sales_agent", how="left")
    pipeline["product"] = pipeline["product"].replace(PRODUCT_FIXES)
    pipeline["account"] = pipeline["account"].replace(ACCOUNT_FIXES)
    pipeline["value"] = [Decimal(v) if v else None for v in pipeline.close_value]
    pipeline["month"] = [pd.Timestamp(d).date().replace(day=1) if d else None
                         for d in pipeline.close_date]
    return {"pipeline": pipeline, "accounts": read("accounts.csv"),
            "teams": read("sales_teams.csv"), "products": read("products.csv")}


def _won_by(pipeline: pd.DataFrame, *keys: str) -> dict:
    won = pipeline[pipeline.deal_stage == "Won"]
    totals: dict = {}
    for row in won.itertuples(index=False):
        key = tuple(getattr(row, k) for k in keys)
        totals[key] = totals.get(key, Decimal(0)) + row.value
    return totals


# ---------------------------------------------------------------- Maven-only warehouse

def test_maven_only_build_passes_every_test(maven_warehouse):
    url, result = maven_warehouse
    _assert_build_clean(result)
    statuses = _statuses(result)
    # the documented defects do show up as warnings
    assert statuses["not_null_fct_opportunities_account_name"] == "warn"
    for mart in MARTS:
        assert statuses[mart] == "success"
    # lead/activity/order/survey raw tables exist but are empty: the marts still build
    assert query(url, "select count(*) from raw.activities") == [(0,)]
    assert query(url, "select count(*) from marts.fct_leads") == [(0,)]
    assert query(url, "select count(*) from marts.contacts") == [(0,)]


def test_fct_opportunities_reconciles_with_the_csv(maven_warehouse, maven_csv):
    url, _ = maven_warehouse
    pipeline = maven_csv["pipeline"]
    assert query(url, "select count(*), count(distinct opportunity_id) from marts.fct_opportunities") == [
        (8800, 8800)]
    by_stage = dict(query(url, "select stage, count(*) from marts.fct_opportunities group by 1"))
    assert by_stage == pipeline.deal_stage.value_counts().to_dict()

    by_product = {(p,): v for p, v in query(
        url, "select product_name, sum(amount) from marts.fct_opportunities where is_won group by 1")}
    assert by_product == _won_by(pipeline, "product")

    by_rep_month = {(r, m): v for r, m, v in query(
        url, "select rep_name, month, won_revenue from marts.rep_performance_monthly"
             " where won_revenue <> 0")}
    assert by_rep_month == _won_by(pipeline, "sales_agent", "month")

    by_manager_month = {(r, m): v for r, m, v in query(
        url, "select manager_name, month, won_revenue from marts.team_performance_monthly"
             " where won_revenue <> 0")}
    assert by_manager_month == _won_by(pipeline, "manager", "month")

    deals = {(r, m): (w, lost) for r, m, w, lost in query(
        url, "select rep_name, month, deals_won, deals_lost from marts.rep_performance_monthly"
             " where deals_won + deals_lost > 0")}
    closed = pipeline[pipeline.deal_stage.isin(["Won", "Lost"])]
    expected = closed.groupby(["sales_agent", "month"]).deal_stage.agg(
        lambda s: ((s == "Won").sum(), (s == "Lost").sum()))
    assert deals == {k: (int(w), int(lost)) for k, (w, lost) in expected.items()}

    total = sum(v for v in pipeline.value[pipeline.deal_stage == "Won"])
    assert query(url, "select sum(lifetime_revenue) from marts.customer_360") == [(total,)]
    assert query(url, "select sum(deals_lost) from marts.loss_reasons") == [
        (int((pipeline.deal_stage == "Lost").sum()),)]
    # the funnel counts every opportunity once
    assert query(url, "select sum(entered) from marts.funnel_conversion where stage = 'prospecting'") == [
        (8800,)]


def test_maven_defects_are_fixed_or_flagged(maven_warehouse, maven_csv):
    url, _ = maven_warehouse
    pipeline, accounts = maven_csv["pipeline"], maven_csv["accounts"]

    # 1. GTXPro -> GTX Pro, flagged
    assert query(url, "select count(*) from marts.fct_opportunities where product_name = 'GTXPro'") == [(0,)]
    assert query(url, "select count(*) from marts.fct_opportunities where has_fixed_product_name"
                      " and product_name = 'GTX Pro' and product_name_raw = 'GTXPro'") == [(1480,)]
    assert query(url, "select count(*) from marts.fct_opportunities where has_unknown_product") == [(0,)]
    # 2-5. sector typo, country typos, lower-case account name
    industries = dict(query(url, "select industry, count(*) from marts.customer_360 group by 1"))
    assert "technolgy" not in industries
    assert industries["technology"] == (accounts.sector == "technolgy").sum() == 12
    countries = {c for (c,) in query(url, "select distinct country from marts.customer_360")}
    assert {"Philippines", "South Korea"} <= countries and not {"Philipines", "Korea"} & countries
    assert query(url, "select count(*) from marts.customer_360 where has_fixed_country") == [(2,)]
    assert query(url, "select count(*) from marts.fct_opportunities where account_name = 'Dambase'") == [
        (int((pipeline.account == "Dambase").sum()),)]
    assert query(url, "select count(*) from marts.customer_360 where customer_name = 'dambase'") == [(0,)]
    assert query(url, "select region, count(*) from marts.customer_360 group by 1 order by 1") == [
        ("APAC", 4), ("Americas", 73), ("EMEA", 8)]
    # 6. deals without account: kept and flagged, never closed
    assert query(url, "select count(*), bool_or(is_closed) from marts.fct_opportunities"
                      " where has_unknown_account and account_name is null") == [(1425, False)]
    # 7-8. open deals: no close date / amount, flagged; list price stands in
    open_deals = int(pipeline.deal_stage.isin(["Engaging", "Prospecting"]).sum())
    assert query(url, "select count(*) from marts.fct_opportunities where is_missing_close_date"
                      " and is_missing_amount and amount is null and open_pipeline_value_usd > 0") == [
        (open_deals,)]
    # 10-11. lost deals: 0 is no amount, the value is the list price, reason unspecified
    lost = int((pipeline.deal_stage == "Lost").sum())
    assert query(url, "select count(*) from marts.fct_opportunities where stage = 'Lost'"
                      " and amount is null and amount_raw = 0 and list_price > 0"
                      " and loss_reason = 'unspecified'") == [(lost,)]
    # 12. reps without opportunities: kept with zeros
    idle = set(maven_csv["teams"].sales_agent) - set(pipeline.sales_agent)
    assert len(idle) == 5
    zero = {r for (r,) in query(url, "select rep_name from marts.rep_performance_monthly group by 1"
                                     " having sum(deals_won + deals_lost + deals_engaged) = 0")}
    assert zero == idle
    # 13. subsidiaries point at their parent customer
    subsidiaries = accounts[accounts.subsidiary_of != ""]
    rows = query(url, "select c.customer_name, p.customer_name from marts.customer_360 as c"
                      " join marts.customer_360 as p on c.parent_customer_id = p.customer_id")
    expected = {(ACCOUNT_FIXES.get(a, a), ACCOUNT_FIXES.get(s, s))
                for a, s in zip(subsidiaries.account, subsidiaries.subsidiary_of, strict=True)}
    assert set(rows) == expected and len(rows) == 15
    # 15. won deals keep their close value; the variance to list price is exposed
    assert query(url, "select count(*), count(price_variance_pct), min(price_variance_pct) < 0,"
                      " max(price_variance_pct) > 0 from marts.fct_opportunities where is_won") == [
        (int((pipeline.deal_stage == "Won").sum()), int((pipeline.deal_stage == "Won").sum()), True, True)]
    assert query(url, "select count(*) from marts.fct_opportunities where is_won and"
                      " (amount is null or days_to_close < 0)") == [(0,)]


def test_maven_only_marts_have_the_bi_contract(maven_warehouse):
    url, _ = maven_warehouse
    assert query(url, "select count(*), count(distinct customer_id) from marts.customer_360") == [(85, 85)]
    row = query(url, "select tags, first_channel, first_seen_date is not null, size_band"
                     " from marts.customer_360 where customer_name = 'Hottechi'")[0]
    assert row[0][:3] == ["industry:technology", "region:APAC", "size:enterprise"]
    assert row[0][3].startswith("rfm:") and row[1:] == ("crm_export", True, "enterprise")
    # every rep x every month of the data, months as first days, quota guarded to null
    assert query(url, "select count(*), count(distinct rep_name), count(distinct month),"
                      " bool_and(extract(day from month) = 1), count(quota), count(attainment)"
                      " from marts.rep_performance_monthly") == [(35 * 15, 35, 15, True, 0, 0)]
    assert query(url, "select count(*) from marts.loss_reasons where loss_reason <> 'unspecified'") == [
        (0,)]
    assert query(url, "select count(*) > 0, bool_and(gap_pct >= 0.10) from marts.training_needs") == [
        (True, True)]
    for schema_table in ("snapshots.opportunities_snapshot", "snapshots.customers_snapshot"):
        assert query(url, f"select count(*) > 0, count(*) = count(dbt_valid_from) from {schema_table}") == [
            (True, True)]
    types = dict(query(url, "select column_name, data_type from information_schema.columns"
                            " where table_schema = 'marts' and table_name = 'fct_opportunities'"))
    assert types["amount"] == types["list_price"] == "numeric"  # money is never float


# ---------------------------------------------------------------- demo warehouse

def _write_delta(folder: Path, resent_activity_id: str, bridge: dict[str, str]) -> None:
    """A later delivery: a re-sent (changed) activity, new activities and new leads, one of
    them (``bridge``: an email of one person, the phone of another) merging two people."""
    (folder / "activities").mkdir(parents=True)
    (folder / "web_forms").mkdir(parents=True)
    with open(folder / "activities" / "delta_activities.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["activity_id", "activity_type", "occurred_at", "rep_name", "lead_id",
                         "contact_email", "opportunity_id", "direction", "subject", "outcome",
                         "duration_minutes"])
        writer.writerow([resent_activity_id, "call", "2016-10-03 10:00:00", "Anna Snelling", "",
                         "delta.person@example.com", "", "outbound", "Intro call", "connected", "9"])
        writer.writerow(["ACT-900000001", "meeting", "2017-12-30 11:00:00", "Moses Frase", "",
                         "", "1C1I7A6R", "", "QBR", "held", "60"])
        writer.writerow(["ACT-900000002", "call", "2017-12-30 12:00:00", "Moses Frase", "",
                         "delta.person@example.com", "", "outbound", "Intro call", "connected", "5"])
    with open(folder / "web_forms" / "delta.jsonl", "w") as fh:
        for record in [
            {"submission_id": "delta-1", "submitted_at": "2017-12-30T10:00:00Z",
             "email": "Delta.Person@Example.com", "phone": "+1 415 555 0000",
             "company": "Cancity Inc.", "country": "USA"},
            {"submission_id": "delta-2", "submitted_at": "2017-12-30T11:00:00Z",
             "email": "other.delta@example.com", "company": "Cnacity", "country": "United States"},
            {"submission_id": "delta-3", "submitted_at": "2017-12-30T12:00:00Z", **bridge},
        ]:
            fh.write(json.dumps(record) + "\n")


def _rows_to_test(url: str, model: str, *args: str) -> int:
    """Rows of a staging view that an incremental build's data tests would check now."""
    inline = f"select count(*) as n from {{{{ ref('{model}') }}}} where {{{{ new_batches_filter() }}}}"
    result = run_dbt(["show", "--inline", inline, *args], url)
    return int(result.result.results[0].agate_table.rows[0][0])


def _table_digests(url: str) -> dict[str, tuple]:
    """Row count + order-free digest of the incremental models and the marts. Left out: the
    bookkeeping of the run that derived a row (the replaced_* delivery, the *_at run times,
    previous_contact_id) and the activities = 0 rows the per-link, per-rep-month and
    per-opportunity-day aggregates keep for the keys and months they emptied."""
    tables = {
        "intermediate.int_activities_deduplicated": "intermediate.int_activities_deduplicated",
        "intermediate.int_activity_links_aggregated":
            "(select * from intermediate.int_activity_links_aggregated where activities > 0)",
        "intermediate.int_rep_activity_months_counted":
            "(select * from intermediate.int_rep_activity_months_counted where activities > 0)",
        "intermediate.int_leads_unioned": "intermediate.int_leads_unioned",
        "intermediate.int_contact_records_clustered": "intermediate.int_contact_records_clustered",
        "intermediate.int_contacts_resolved": "intermediate.int_contacts_resolved",
        "intermediate.int_leads_routed": "intermediate.int_leads_routed",
        "intermediate.int_leads_enriched": "intermediate.int_leads_enriched",
        "intermediate.int_activity_links_resolved": "intermediate.int_activity_links_resolved",
        "intermediate.int_company_customers_tracked": "intermediate.int_company_customers_tracked",
        "marts.fct_opportunity_activity_days":
            "(select * from marts.fct_opportunity_activity_days where activities > 0)",
        **{f"marts.{m}": f"marts.{m}" for m in MARTS},
    }
    bookkeeping = ["replaced_link_key", "replaced_rep_name", "replaced_occurred_month",
                   "replaced_activity_type", "merged_at", "merged_through", "last_merged_at", "aggregated_at",
                   "resolved_at", "previous_contact_id", "refreshed_at", "changed_at"]
    row = f"md5((to_jsonb(x) - array{bookkeeping!r})::text)"
    return {name: query(url, f"select count(*), md5(coalesce(string_agg({row}, '' order by {row}), ''))"
                             f" from {relation} as x")[0]
            for name, relation in tables.items()}


@pytest.fixture(scope="module")
def demo_warehouse(server_url, demo_build, tmp_path_factory):
    """Small demo data (scale 0.1) around the real Maven export, every channel ingested and
    built (a copy of the session's demo build)."""
    url, result = demo_build
    with copy_of(server_url, url) as copy:
        yield copy, result, tmp_path_factory.mktemp("delta")


def test_demo_build_passes_every_test(demo_warehouse):
    url, result, _ = demo_warehouse
    _assert_build_clean(result)
    for mart in MARTS:
        assert query(url, f"select count(*) from marts.{mart}")[0][0] > 0, mart


def test_demo_marts_still_reconcile_with_the_csv(demo_warehouse, maven_csv):
    url, _, _ = demo_warehouse
    pipeline = maven_csv["pipeline"]
    assert query(url, "select count(*) from marts.fct_opportunities") == [(8800,)]
    by_rep_month = {(r, m): v for r, m, v in query(
        url, "select rep_name, month, won_revenue from marts.rep_performance_monthly"
             " where won_revenue <> 0")}
    assert by_rep_month == _won_by(pipeline, "sales_agent", "month")
    total = sum(v for v in pipeline.value[pipeline.deal_stage == "Won"])
    assert query(url, "select sum(lifetime_revenue) from marts.customer_360") == [(total,)]


def test_demo_identity_resolution_and_routing(demo_warehouse):
    url, _, _ = demo_warehouse
    leads, contacts, records = query(url, "select (select count(*) from marts.fct_leads),"
                                          " (select count(*) from marts.contacts),"
                                          " (select sum(source_records) from marts.contacts)")[0]
    # repeat appearances across channels merge: fewer people than records, none lost
    assert contacts < records and records >= leads
    # one normalised email belongs to one person; rules and confidence are carried
    assert query(url, "select count(*) from (select email_key from"
                      " intermediate.int_contact_records_clustered where email_key is not null"
                      " group by 1 having count(distinct contact_id) > 1) as x") == [(0,)]
    rules = {r for (r,) in query(url, "select distinct unnest(match_rules) from marts.contacts")}
    assert rules == {"anchor", "email", "phone"}
    assert query(url, "select count(*) from marts.contacts where email is not null"
                      " and email <> lower(email)") == [(0,)]
    assert query(url, "select count(*) from marts.contacts where phone !~ '^\\+[1-9][0-9]{6,14}$'") == [(0,)]
    fuzzy = query(url, "select count(*) from intermediate.int_company_names_matched"
                       " where match_rule = 'company_fuzzy'")[0][0]
    assert fuzzy > 0
    # every lead has a rep: its own, its person's, or routed by territory + round-robin
    methods = dict(query(url, "select assignment_method, count(*) from marts.fct_leads group by 1"))
    assert set(methods) == {"lead_owner", "contact_owner", "round_robin"} and sum(methods.values()) == leads
    # round-robin spreads routed leads evenly within an office (at most one apart)
    spread = query(url, "select assigned_regional_office, max(n) - min(n) from (select"
                        " assigned_regional_office, assigned_rep_name, count(*) as n from marts.fct_leads"
                        " where assignment_method = 'round_robin' group by 1, 2) as x group by 1")
    assert spread and all(gap <= 1 for _, gap in spread)
    assert query(url, "select count(*) from marts.fct_leads where first_response_at < created_at") == [(0,)]
    # keys carry no PII: attendee ids are event id + an md5 pseudonym, never the email/phone/name
    attendee_keys = [k for (k,) in query(url, "select lead_key from marts.fct_leads"
                                              " where channel = 'marketing_events'")]
    assert attendee_keys and all(re.fullmatch(r"marketing_events:[^:]+:([0-9a-f]{32}|row-[0-9]+)", k)
                                 for k in attendee_keys)
    people = {v.lower() for (v,) in query(url, "select unnest(array[email, phone, full_name])"
                                                " from intermediate.int_contact_records_unioned")
              if v and len(v) > 3}
    ids = {i for (i,) in query(url, "select unnest(source_record_ids) from marts.contacts")}
    ids |= {k for (k,) in query(url, "select lead_key from marts.fct_leads union select lead_id"
                                     " from marts.fct_leads")}
    leaked = {i for i in ids for part in i.lower().split(":") if part in people}
    assert not leaked, sorted(leaked)[:5]
    assert query(url, "select count(*) > 0 from marts.fct_leads where is_converted") == [(True,)]


def test_incremental_run_after_a_delta_equals_a_full_refresh(demo_warehouse):
    url, _, delta = demo_warehouse
    # re-sent without its opportunity: the deal's activity days lose it
    resent = query(url, "select min(activity_id) from intermediate.int_activities_deduplicated"
                        " where opportunity_id is not null")[0][0]
    # two people the delta's bridge lead merges: one known by a phone only its records hold
    # (one email, one name), the other by an email
    (phone, name, phone_contact), = query(
        url, "select c.phone_key, min(r.full_name), min(c.contact_id)"
             " from intermediate.int_contact_records_clustered as c"
             " join intermediate.int_contact_records_unioned as r using (record_key)"
             " where c.phone_key is not null group by 1 having count(distinct r.email) = 1"
             " and count(distinct r.full_name) = 1 and count(distinct c.contact_id) = 1 order by 1 limit 1")
    (email, email_contact), = query(
        url, "select email_key, contact_id from intermediate.int_contact_records_clustered"
             " where email_key is not null and contact_id <> %s order by 1 limit 1", (phone_contact,))
    _write_delta(delta, resent, {"email": email, "phone": phone, "full_name": name})
    # the first build booked what it tested: the staging tests will check the delta only
    assert query(url, "select count(*), bool_and(succeeded) from ops.transform_builds") == [(1, True)]
    assert _rows_to_test(url, "stg_activities__activities") == 0
    for channel in ("activities", "web_forms"):
        assert {r.status for r in ingest_path(url, channel, str(delta / channel))} == {"loaded"}
    assert _rows_to_test(url, "stg_activities__activities") == 3
    assert _rows_to_test(url, "stg_web_forms__leads") == 3
    before = query(url, "select count(*) from intermediate.int_activities_deduplicated")[0][0]

    # zero lookback: the incremental models read the newest batches only
    no_lookback = ("--vars", '{"incremental_lookback": "0 seconds"}')
    result = run_dbt(["build", *no_lookback], url)
    _assert_build_clean(result)
    by_name = {r.node.name: r for r in result.result.results}
    assert by_name["int_activities_deduplicated"].adapter_response["rows_affected"] < before / 2
    links = query(url, "select count(*) from intermediate.int_activity_links_aggregated")[0][0]
    assert by_name["int_activity_links_aggregated"].adapter_response["rows_affected"] < links / 2
    people = query(url, "select count(*) from intermediate.int_contact_records_clustered")[0][0]
    assert by_name["int_contact_records_clustered"].adapter_response["rows_affected"] < people / 2
    incremental = _table_digests(url)
    # the build booked the delta as tested
    assert _rows_to_test(url, "stg_activities__activities", *no_lookback) == 0
    # the re-sent activity replaced the old one, the new ones were added
    assert query(url, "select outcome, contact_email from intermediate.int_activities_deduplicated"
                      " where activity_id = %s", (resent,)) == [("connected", "delta.person@example.com")]
    assert query(url, "select count(*) from intermediate.int_activities_deduplicated") == [(before + 2,)]
    # every activity on a deal counted on its day, once; the re-sent one no longer on its deal
    per_day = "select {}, sum({}) from {} where {} group by 1, 2 order by 1, 2"
    deduplicated, days = "intermediate.int_activities_deduplicated", "marts.fct_opportunity_activity_days"
    assert query(url, per_day.format("opportunity_id, occurred_date", 1, deduplicated,
                                     "opportunity_id is not null")) == query(
        url, per_day.format("opportunity_id, activity_date", "activities", days, "activities > 0"))
    # the bridge lead merged the two people: one contact holds both, the other is gone
    merged = query(url, "select contact_id from marts.contacts where %s = any(source_record_ids)",
                   ("web_forms:delta-3",))
    assert len(merged) == 1 and merged[0][0] in {phone_contact, email_contact}
    gone = ({phone_contact, email_contact} - {merged[0][0]}).pop()
    for table in ("intermediate.int_contacts_resolved", "marts.contacts"):
        assert query(url, f"select count(*) from {table} where contact_id = %s", (gone,)) == [(0,)]
    assert query(url, "select count(distinct contact_id) from marts.fct_leads where lead_key = any("
                      "select unnest(source_record_ids) from marts.contacts where contact_id = %s)",
                 (merged[0][0],)) == [(1,)]
    # the new lead joins its person through the normalised email; Cnacity is Cancity
    assert query(url, "select c.customer_name from marts.fct_leads as l join marts.customer_360 as c"
                      " using (customer_id) where l.lead_key = 'web_forms:delta-2'") == [("Cancity",)]

    # with the default lookback, a run without new batches reads nothing: every batch
    # finished within the lookback is already held (keyed on ops.ingestion_batches)
    again = run_dbt(["run", "-s", "int_activities_deduplicated", "int_leads_unioned"], url)
    assert {r.node.name: r.adapter_response["rows_affected"] for r in again.result.results
            if r.node.resource_type == "model"} == {
        "int_activities_deduplicated": 0, "int_leads_unioned": 0}
    assert _table_digests(url) == incremental

    run_dbt(["build", "--full-refresh"], url)
    assert _table_digests(url) == incremental
