"""Public CRM exports nobody here wrote (tests/data/realworld/*/SOURCE.md) load as they are.

Each source folder is ingested with no flags; every file must load, and every record must be
accounted for against an independent reading of the file with pandas.
"""

from __future__ import annotations

import csv
from decimal import Decimal
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


# --- the marts built from all the real sources reconcile with an independent reading -------------

def _amount(text: str) -> Decimal | None:
    cleaned = text.replace("$", "").replace(",", "").strip()
    return Decimal(cleaned) if cleaned else None


def _hubspot(folder: Path) -> pd.DataFrame:
    """Deals as the last delivery (files load in name order) says; a deal's state from the export's
    'Is Deal Closed?' where the file has it (the stage tells won from lost), else the stage label."""
    frames = []
    for order, path in enumerate(sorted(folder.glob("*.csv"))):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        frame["order"] = order
        frames.append(frame)
    deals = pd.concat(frames).drop_duplicates("Record ID", keep="last")
    label = {"Closed: won": "won", "Closed: lost": "lost", "Closed: abandoned": "lost"}

    def state(row) -> str:
        closed = row.get("Is Deal Closed?", "")
        if closed == "false":
            return "open"
        if closed == "true":
            return "won" if row["Deal Stage"] == "Closed: won" else "lost"
        return label.get(row["Deal Stage"], "open")

    return pd.DataFrame({"id": deals["Record ID"], "state": deals.apply(state, axis=1),
                         "amount": deals["Amount"].map(_amount), "currency": "USD"})


def _expected_deals() -> dict[str, pd.DataFrame]:
    """Per source: id, won/lost/open as a person reads the export, amount and currency."""
    sf = pd.read_csv(REALWORLD / "salesforce_data_export_latam" / "Opportunity.csv", dtype=str,
                     keep_default_na=False, encoding="latin-1")
    sf_state = ["won" if w == "1" else "lost" if c == "1" else "open"
                for w, c in zip(sf.IsWon, sf.IsClosed, strict=True)]
    air = pd.read_csv(REALWORLD / "salesforce_airsprint_excel_resaved" / "Opportunity.csv", dtype=str,
                      keep_default_na=False, encoding="utf-8-sig").drop_duplicates("Id", keep="last")
    zoho = pd.read_csv(REALWORLD / "zoho_crm_module_export" / "Potentials.csv", dtype=str,
                       keep_default_na=False).drop_duplicates()  # no id column: a record is its content
    fx = pd.read_csv(REALWORLD / "fxiaoke_newopportunity_constructed" / "NewOpportunityObj_list_export.csv",
                     dtype=str, keep_default_na=False, encoding="utf-8-sig").drop_duplicates()
    return {
        "salesforce_data_export_latam": pd.DataFrame({
            "id": sf.Id, "state": sf_state, "amount": sf.Amount.map(_amount),
            "currency": sf.CurrencyIsoCode}),
        "salesforce_airsprint_excel_resaved": pd.DataFrame({
            "id": air.Id, "state": ["won" if w == "1" else "open" for w in air.IsWon], "amount": None,
            "currency": "USD"}),
        "hubspot_markstringer_deals": _hubspot(REALWORLD / "hubspot_markstringer_deals"),
        "zoho_crm_module_export": pd.DataFrame({
            "id": range(len(zoho)),
            "state": zoho.Stage.map({"Closed Won": "won", "Closed Lost": "lost"}).fillna("open"),
            "amount": zoho.Amount.map(_amount), "currency": "USD"}),
        "fxiaoke_newopportunity_constructed": pd.DataFrame({
            "id": range(len(fx)),
            "state": fx["階段狀態"].map({"赢单": "won", "输单": "lost"}).fillna("open"),
            "amount": fx["商机金额"].map(_amount), "currency": "CNY"}),
    }


def _sums(frame: pd.DataFrame, state: str) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for row in frame[frame.state == state].itertuples(index=False):
        if row.amount is not None and not pd.isna(row.amount):
            out[row.currency] = out.get(row.currency, Decimal(0)) + row.amount
    return out


@pytest.fixture(scope="module")
def realworld_marts(server_url):
    from salesops.dbt_project import run_dbt
    from tests.conftest import scratch_database

    with scratch_database(server_url) as url:
        for source in sorted(SOURCES):
            results = ingest_path(url, "crm_export", str(REALWORLD / source))
            assert {r.status for r in results} == {"loaded"}, [r.message for r in results]
        result = run_dbt(["build"], url)
        yield url, result


def test_the_marts_build_on_every_real_source(realworld_marts):
    _, result = realworld_marts
    failed = {r.node.name: (str(r.status), r.message) for r in result.result.results
              if str(r.status) not in ("success", "pass", "warn")}
    assert not failed


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_real_deals_reconcile_with_an_independent_reading(realworld_marts, source):
    url, _ = realworld_marts
    expected = _expected_deals()[source]
    where = ("from marts.fct_opportunities o join ops.ingestion_batches b using (batch_id)"
             " where b.source_file like %s")
    like = f"%/realworld/{source}/%"
    (deals, won), = query(url, f"select count(*), count(*) filter (where o.is_won) {where}", (like,))
    assert (deals, won) == (len(expected), int((expected.state == "won").sum()))
    lost = query(url, f"select count(*) {where} and o.is_closed and not o.is_won", (like,))[0][0]
    assert lost == int((expected.state == "lost").sum())
    won_amount = dict(query(url, f"select o.currency, sum(o.amount) {where} and o.is_won"
                                 " and o.amount is not null group by 1", (like,)))
    assert won_amount == _sums(expected, "won")
    open_amount = dict(query(url, f"select o.open_amount_currency, sum(o.open_amount) {where}"
                                  " and not o.is_closed and o.open_amount is not null group by 1", (like,)))
    assert open_amount == _sums(expected, "open")


REAL_PLAN = """\
plan: real
version: 1
title: 5% of every won deal
effective_from: 2000-01-01
currency: USD
rounding: half_even
boundary: higher
pay_period: month
commission_base: booked
components:
  - {name: commission, kind: rate_table, basis: amount, accumulate: transaction, method: step,
     tiers: [{from: 0, rate: 5%}]}
"""


def test_payouts_on_real_exports(realworld_marts, tmp_path, monkeypatch):
    """Real exports carry currencies the rate seed lacks: a payout run names them and writes
    nothing; once finance loads their rates, every rep with a won deal gets a statement and each
    deal pays 5% of its USD amount, to the cent (reckoned here from the marts)."""
    import psycopg
    from click.testing import CliRunner

    from salesops.access import apply_grants
    from salesops.cli import main
    from salesops.dbt_project import run_dbt
    from salesops.reference import load_rates
    from salesops.transform import ensure_manifest, pii_columns

    url, _ = realworld_marts
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "real.yaml").write_text(REAL_PLAN)
    for name, value in (("SALESOPS_WAREHOUSE_URL", url), ("SALESOPS_PLANS_DIR", str(plans))):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)

    def grants():
        with psycopg.connect(url, autocommit=True) as conn:
            apply_grants(conn, pii_columns(ensure_manifest()))

    grants()
    won = ("from marts.fct_opportunities where is_won and rep_name is not null and closed_date is not null"
           " and amount is not null")
    [(last,)] = query(url, f"select to_char(max(closed_date), 'YYYY-MM') {won}")
    missing = query(
        url, f"select distinct currency, to_char(closed_date, 'YYYY-MM') {won} and amount_usd is null"
    )
    assert missing, "the real exports carry currencies the rate seed lacks"
    result = CliRunner().invoke(main, ["payouts", "run", "--period", last])
    assert result.exit_code == 1 and "have no USD amount (a currency without a rate)" in result.output
    assert query(url, "select count(*) from finance.deal_credits") == [(0,)]

    rates = tmp_path / "rates.csv"
    rates.write_text("currency,month,usd_per_unit\n" + "".join(f"{c},{m},0.25\n" for c, m in missing))
    load_rates(url, rates)
    run_dbt(["build"], url)  # the next build converts them
    grants()
    result = CliRunner().invoke(main, ["payouts", "run", "--period", last])
    assert result.exit_code == 0, result.output
    [(no_amount,)] = query(url, "select count(*) from marts.fct_opportunities where is_won and amount is null"
                                " and rep_name is not null and closed_date is not null")
    assert no_amount > 0 and f"note: {no_amount:,} won deal(s) have no amount" in result.output
    reps = {r for (r,) in query(url, f"select distinct rep_name {won}")}
    assert {r for (r,) in query(url, "select rep_name from finance.payout_statements")} == reps
    expected: dict[str, Decimal] = {}
    for rep, amount in query(
        url, f"select rep_name, amount_usd {won} and to_char(closed_date, 'YYYY-MM') = %s", (last,)
    ):
        expected[rep] = expected.get(rep, Decimal(0)) + (amount * Decimal("0.05")).quantize(
            Decimal("0.01"), "ROUND_HALF_EVEN"
        )
    got = dict(
        query(url, "select rep_name, sum(amount) from finance.payout_lines where kind = 'earned' group by 1")
    )
    assert got == expected and got


def test_the_report_on_real_exports(realworld_marts, tmp_path):
    """After the payout run above: the monthly report of the real marts' last closed month, both
    editions, in Chinese and English; its headline equals the deals read from the marts directly,
    its payouts the run's statements."""
    import json
    import re

    from salesops.report.build import write_report

    url, _ = realworld_marts
    [(month, won, lost)] = query(url, """
        with last as (select max(closed_month) as month from marts.fct_opportunities
                      where is_closed and closed_month < date_trunc('month', current_date))
        select to_char(last.month, 'YYYY-MM'), coalesce(sum(o.amount_usd) filter (where o.is_won), 0),
               count(*) filter (where o.is_closed and not o.is_won)
        from last left join marts.fct_opportunities as o on o.closed_month = last.month
        group by last.month""")
    for edition in ("sales", "finance"):
        for lang in ("zh", "en"):
            path, seconds = write_report(None, lang, edition, "html", owner_url=url, home=tmp_path)
            assert path.parent.name == month and seconds < 20
            html = path.read_text(encoding="utf-8")
            shown = json.loads(re.search(r'id="report-data">(.*?)</script>', html, re.S).group(1))
            headline = shown["headline"][month]
            assert (Decimal(headline["won_revenue"]), headline["deals_lost"]) == (won, lost)
    payable = query(url, "select payable from finance.payout_runs where to_char(period, 'YYYY-MM') = %s"
                         " order by run_id desc limit 1", (month,))
    if payable:
        assert sum(Decimal(r["payable"]) for r in shown["payouts"]) == payable[0][0]
    else:
        assert "payouts" in shown["missing"]


def test_forecasts_and_win_probability_on_real_exports(realworld_marts):
    """The hierarchy's history, its open pipeline and a forecast of every level from the real
    exports' marts (reps, teams and products nobody here named; no list prices on most deals),
    reconciled to the cent; the win probability learns from their closed deals."""
    import numpy as np
    import psycopg

    from ml.forecast import hierarchy
    from ml.forecast import win_probability as wp
    from salesops.access import apply_grants
    from salesops.transform import ensure_manifest, pii_columns

    url, _ = realworld_marts
    with psycopg.connect(url, autocommit=True) as conn:
        apply_grants(conn, pii_columns(ensure_manifest()))
    history = hierarchy.load_history(url)
    series = hierarchy.all_series(history)
    months = len(series["company"][0].values)
    assert len(series["rep"]) > 10 and all(len(s.values) == months for s in series["rep"])
    matrices = [s.pipeline for level in series.values() for s in level]
    assert all(m is not None and m.shape[0] == months and np.isfinite(m).all() for m in matrices)
    forecasts, _ = hierarchy.forecast(history, 3)
    points = forecasts.set_index(["level", "series_key", "period"])["forecast"]
    for period in forecasts["period"].unique():
        company = points[("company", hierarchy.COMPANY, period)]
        assert sum(points.xs(("rep", period), level=("level", "period"))) == company
        assert sum(points.xs(("product", period), level=("level", "period"))) == company
    bounds = forecasts[["forecast", "lower_95", "upper_95"]].to_numpy(dtype=float)
    assert np.isfinite(bounds).all()
    assert (bounds[:, 1] <= bounds[:, 0]).all() and (bounds[:, 0] <= bounds[:, 2]).all()
    opportunities = wp.load_opportunities(url)
    rows = wp.training_rows(opportunities)
    closed = query(url, "select count(*) from marts.fct_opportunities where is_closed"
                        " and closed_date is not null")
    assert len(rows) == closed[0][0]
    scores = wp.score(wp.fit(rows), opportunities, wp.as_of_date(opportunities))
    assert len(scores) == int((~opportunities["is_closed"].astype(bool)).sum()) > 0
    assert scores["probability"].between(0, 1, inclusive="neither").all()
