"""A small CRM export with what real exports bring: the build succeeds, the figures are right.

tests/data/crm_fidelity/ (see its README): custom stages (a user stage map, the label rule in
Spanish and Chinese, the export's own is_won / is_closed and forecast category, one stage no
rule knows), won deals without amount or close date, PEN (a user monthly rate) and MXN (no rate
anywhere), two same-name accounts with distinct ids, Salesforce's all-zero empty id, a rep
given by id only and national phone numbers. The won count, won amount per currency and open
amount per currency are computed independently from the CSV files with pandas and Decimal.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from click.testing import CliRunner

from ingestion.loader import ingest_path
from salesops.dbt_project import run_dbt
from salesops.reference import load_rates, load_stage_map
from tests.conftest import query, scratch_database

DATA = Path(__file__).parents[1] / "data" / "crm_fidelity"
# What each stage of the file means, as a person reads it (the test's own truth, not the SQL's).
MEANING = {"Closed Won": "won", "Ganado": "won", "Cerrado perdido": "lost", "Demo booked": "open",
           "Verhandlung": "open", "赢单": "won", "Prospecting": "open", "Signed contract": "won",
           "Parked": "lost", "已成交": "won", "Closed Lost": "lost"}
LIST_PRICE = (Decimal("100.00"), "USD")  # Widget, the only product
WARNINGS_EXPECTED = {"warn_fct_opportunities_unknown_stages", "warn_fct_opportunities_missing_rates",
                     "warn_stg_crm_export__opportunities_unknown_stages"}


@pytest.fixture(scope="module")
def fidelity_warehouse(server_url):
    with scratch_database(server_url) as url:
        loaded = ingest_path(url, "crm_export", str(DATA / "export"))
        assert {r.status for r in loaded} == {"loaded"}, [r.message for r in loaded]
        assert sum(r.rows_rejected for r in loaded) == 0
        load_stage_map(url, DATA / "reference" / "stage_map.csv")
        load_rates(url, DATA / "reference" / "rates.csv")
        result = run_dbt(["build"], url)
        yield url, result


@pytest.fixture(scope="module")
def expected():
    deals = pd.read_csv(DATA / "export" / "opportunities.csv", dtype=str, keep_default_na=False)
    deals["meaning"] = deals.stage.map(MEANING)
    assert deals.meaning.notna().all()
    deals["value"] = [Decimal(v) if v else None for v in deals.amount]
    won = deals[deals.meaning == "won"]
    won_amount: dict[str, Decimal] = defaultdict(Decimal)
    for row in won.itertuples(index=False):
        if row.value is not None:
            won_amount[row.currency] += row.value
    open_amount: dict[str, Decimal] = defaultdict(Decimal)
    for row in deals[deals.meaning == "open"].itertuples(index=False):
        if row.value is not None:
            open_amount[row.currency] += row.value
        elif row.product_name:
            open_amount[LIST_PRICE[1]] += LIST_PRICE[0]
    return {"deals": deals, "won_count": len(won), "won_amount": dict(won_amount),
            "open_amount": dict(open_amount)}


def _statuses(result) -> dict[str, str]:
    return {r.node.name: str(r.status) for r in result.result.results}


def test_the_build_succeeds_and_warns_only_about_flagged_rows(fidelity_warehouse):
    _, result = fidelity_warehouse
    statuses = _statuses(result)
    assert not {n: s for n, s in statuses.items() if s not in ("success", "pass", "warn")}
    warned = {n for n, s in statuses.items() if s == "warn"}
    assert warned >= WARNINGS_EXPECTED
    counts = {r.node.name: r.failures for r in result.result.results if str(r.status) == "warn"}
    assert counts["warn_fct_opportunities_unknown_stages"] == 1  # Verhandlung
    assert counts["warn_fct_opportunities_missing_rates"] == 2  # the MXN deals
    assert counts["not_null_fct_opportunities_amount"] == 1  # F-06 won without amount
    assert counts["not_null_fct_opportunities_closed_date"] == 1  # F-07 won without date
    assert counts["not_null_fct_opportunities_rep_name"] == 1  # F-12 has no owner


def test_won_and_open_figures_equal_an_independent_reading(fidelity_warehouse, expected):
    url, _ = fidelity_warehouse
    assert query(url, "select count(*) from marts.fct_opportunities") == [(len(expected["deals"]),)]
    assert query(url, "select count(*) from marts.fct_opportunities where is_won") == [
        (expected["won_count"],)]
    won = dict(query(url, "select currency, sum(amount) from marts.fct_opportunities"
                          " where is_won and amount is not null group by 1"))
    assert won == expected["won_amount"]
    open_ = dict(query(url, "select open_amount_currency, sum(open_amount) from marts.fct_opportunities"
                            " where not is_closed and open_amount is not null group by 1"))
    assert open_ == expected["open_amount"]
    by_stage = dict(query(url, "select stage_raw, stage_semantics_source from marts.fct_opportunities"))
    assert by_stage == {"Closed Won": "seed", "Ganado": "label_rule", "Cerrado perdido": "label_rule",
                        "Demo booked": "stage_map", "Verhandlung": "unknown", "赢单": "seed",
                        "Prospecting": "seed", "Signed contract": "export", "Parked": "forecast_category",
                        "已成交": "label_rule", "Closed Lost": "seed"}


def test_flags_rates_and_durations(fidelity_warehouse):
    url, _ = fidelity_warehouse
    rows = {r[0]: r[1:] for r in query(
        url, "select opportunity_id, stage, stage_order, has_unknown_stage, is_missing_amount,"
             " is_closed_without_date, is_missing_rate, amount_usd, rate_source, days_to_close,"
             " is_open_amount_from_list_price, open_amount_usd from marts.fct_opportunities")}
    assert rows["F-04"][:2] == ("Prospecting", 1)  # the user's stage map
    assert rows["F-05"][:3] == ("Engaging", 2, True)  # unknown: open, in progress, flagged
    assert rows["F-05"][9:] == (True, Decimal("100.00"))  # valued at list price, flagged
    assert rows["F-06"][3] is True and rows["F-06"][6] is None  # won, no amount: no revenue
    assert rows["F-07"][4] is True  # won without date
    assert rows["F-02"][6:9] == (Decimal("1500.0000"), "user_month", 42)  # PEN 2017-03 at 0.30; from created
    assert rows["F-08"][5] is True and rows["F-09"][5:7] == (True, None)  # MXN: no rate, flagged
    assert rows["F-11"][7] == "seed_average"
    # the ownerless deal is credited to '(no rep)'
    assert query(url, "select sum(deals_lost) from marts.rep_performance_monthly"
                      " where rep_name = '(no rep)'") == [(1,)]
    # monthly revenue leaves out the undated won deal and the unpriced MXN one
    revenue = query(url, "select sum(won_revenue) from marts.rep_performance_monthly")[0][0]
    assert revenue == query(url, "select sum(amount_usd) from marts.fct_opportunities"
                                 " where is_won and closed_date is not null")[0][0]


def test_accounts_reps_and_ids(fidelity_warehouse):
    url, _ = fidelity_warehouse
    customers = dict(query(url, "select opportunity_id, customer_id from marts.fct_opportunities"))
    # same normalised name, distinct ids: two customers, each deal with its own
    assert customers["F-01"] != customers["F-02"] and customers["F-02"] == customers["F-03"]
    names = query(url, "select customer_name, industry, country, deals_won from marts.customer_360"
                       " where is_crm_account and customer_name like 'Acme%' order by 1")
    assert names == [("Acme", "technology", "United States", 3), ("Acme Inc.", "retail", "Peru", 1)]
    # a mention of the shared name without an id (F-11, contact C-2) is neither of them
    unattributed = query(url, "select count(*) from marts.customer_360 where not is_crm_account"
                              " and customer_id = %s", (customers["F-11"],))
    assert unattributed == [(1,)]
    # the all-zero Salesforce id is no reference: F-04 reaches Globex by name
    assert query(url, "select account_id, account_name, is_account_matched_by_id"
                      " from marts.fct_opportunities where opportunity_id = 'F-04'") == [
        (None, "Globex", False)]
    assert customers["F-04"] == customers["F-05"]
    # a rep given by id only
    assert query(url, "select rep_name, manager_name, is_rep_matched_by_id from marts.fct_opportunities"
                      " where opportunity_id = 'F-02'") == [("Bo Chen", "Max Power", True)]


def test_contacts_phones_in_e164_with_their_country(fidelity_warehouse):
    url, _ = fidelity_warehouse
    assert query(url, "select contact_id, phone, account_id, country_code"
                      " from staging.stg_crm_export__contacts order by 1") == [
        ("C-1", "+61412345678", "001000000000003AAA", "AU"), ("C-2", "+5115551234", None, "PE")]


def test_cli_loads_reference_files_idempotently_and_refuses_bad_ones(server_url, tmp_path):
    from salesops.cli import main

    runner = CliRunner()
    try:
        first = runner.invoke(main, ["stages", "load", str(DATA / "reference" / "stage_map.csv")])
        assert first.exit_code == 0, first.output
        again = runner.invoke(main, ["stages", "load", str(DATA / "reference" / "stage_map.csv")])
        assert "0 new, 0 changed, 1 unchanged" in again.output
        rates = runner.invoke(main, ["rates", "load", str(DATA / "reference" / "rates.csv")])
        assert rates.exit_code == 0 and "1 new" in rates.output
        bad = tmp_path / "rates.csv"
        bad.write_text("currency,month,usd_per_unit\nPEN,2017-04,0.3\nPEN,March,0.3\n")
        refused = runner.invoke(main, ["rates", "load", str(bad)])
        assert refused.exit_code == 1 and "Traceback" not in refused.output
        assert f"{bad}, line 3, column month: 'March' is not a month" in refused.output
        assert query(server_url, "select count(*) from reference.currency_rates") == [(1,)]
    finally:  # the session's warehouse is shared: leave no reference data behind
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute("delete from reference.stage_map")
            conn.execute("delete from reference.currency_rates")
