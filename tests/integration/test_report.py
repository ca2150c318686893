"""The monthly report on the demo warehouse: its figures equal an independent reading of the
marts' sources, the quota and what is missing are shown, both languages and the PDF are written,
Chromium draws every chart with Chinese glyphs, and the editions keep to their roles."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from salesops.cli import main
from salesops.report import ReportError
from salesops.report.build import write_report
from tests.browser import look_at
from tests.conftest import copy_of, query

MONTH = date(2017, 9, 1)  # 2017-Q3 has a company target in docs/examples/targets.csv
TARGETS = Path(__file__).resolve().parents[2] / "docs" / "examples" / "targets.csv"
QUOTA_MARTS = ["company_kpis_monthly", "rep_performance_monthly", "team_performance_monthly"]


@pytest.fixture(scope="module")
def report_db(server_url, demo_build, tmp_path_factory):
    """A copy of the demo warehouse with the example targets loaded as quotas, and a home."""
    from salesops.access import apply_grants
    from salesops.dbt_project import run_dbt
    from salesops.transform import ensure_manifest, pii_columns

    home = tmp_path_factory.mktemp("report-home")
    with copy_of(server_url, demo_build[0]) as url, pytest.MonkeyPatch.context() as patch:
        patch.setenv("SALESOPS_WAREHOUSE_URL", url)
        with psycopg.connect(url, autocommit=True) as conn:
            apply_grants(conn, pii_columns(ensure_manifest()))
        result = CliRunner().invoke(main, ["quotas", "load", str(TARGETS)])
        assert result.exit_code == 0, result.output
        run_dbt(["build", "--select", *QUOTA_MARTS], url)
        with psycopg.connect(url, autocommit=True) as conn:  # the rebuilt marts carry no grants
            apply_grants(conn, pii_columns(ensure_manifest()))
        yield url, home


def figures(path: Path) -> dict:
    html = path.read_text(encoding="utf-8")
    found = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S)
    return json.loads(found.group(1).replace("<\\/", "</"))


def card(html: str, kpi: str) -> str:
    return re.search(rf'data-kpi="{kpi}">.*?<div class="value">(.*?)</div>', html, re.S).group(1)


def expected_headline(url: str, month: date) -> dict[str, Decimal | int | None]:
    """The month's headline computed from fct_opportunities, the staged orders and surveys and
    finance.quotas directly (not from company_kpis_monthly)."""
    start, end = month, date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    [(won, deals_won, deals_lost, days, with_days)] = query(url, """
        select coalesce(sum(amount_usd) filter (where is_won), 0), count(*) filter (where is_won),
               count(*) filter (where is_closed and not is_won),
               sum(days_to_close) filter (where is_won), count(days_to_close) filter (where is_won)
        from marts.fct_opportunities where closed_date >= %s and closed_date < %s""", (start, end))
    [(orders,)] = query(url, "select count(*) from staging.stg_orders__orders where order_date >= %s"
                             " and order_date < %s and status not in ('cancelled', 'refunded')", (start, end))
    scores = query(url, "select survey_type, score from staging.stg_surveys__responses"
                        " where responded_at >= %s and responded_at < %s", (start, end))
    csat = [Decimal(s) for t, s in scores if t == "csat" and 1 <= s <= 5]
    nps = [s for t, s in scores if t == "nps" and 0 <= s <= 10]
    [(quota,)] = query(url, "select sum(quota) from finance.quotas where date_trunc('month', month) = %s",
                       (start,))
    cents, ratio = Decimal("0.01"), Decimal("0.0001")
    return {
        "won_revenue": Decimal(won), "deals_won": deals_won, "deals_lost": deals_lost, "orders": orders,
        "win_rate": (Decimal(deals_won) / (deals_won + deals_lost)).quantize(ratio, ROUND_HALF_EVEN),
        "avg_deal_size": (Decimal(won) / deals_won).quantize(cents, ROUND_HALF_EVEN),
        "avg_days_to_close": (Decimal(days) / with_days).quantize(cents, ROUND_HALF_EVEN),
        "avg_csat": (sum(csat) / len(csat)).quantize(cents, ROUND_HALF_EVEN),
        "nps": (Decimal(100) * (sum(s >= 9 for s in nps) - sum(s <= 6 for s in nps)) / len(nps)).quantize(
            cents, ROUND_HALF_EVEN),
        "attainment": (Decimal(won) / quota).quantize(ratio, ROUND_HALF_EVEN),
    }


def test_the_sales_report_shows_the_marts_figures_for_the_month(report_db):
    url, home = report_db
    path, seconds = write_report(MONTH, "en", "sales", "html", owner_url=url, home=home)
    assert path == home / "reports" / "2017-09" / "report-sales-en.html"
    assert seconds < 20
    assert oct(path.stat().st_mode & 0o777) == "0o600" and oct(path.parent.stat().st_mode & 0o777) == "0o700"
    shown, html = figures(path), path.read_text(encoding="utf-8")
    headline = shown["headline"]["2017-09"]
    for name, value in expected_headline(url, MONTH).items():
        assert Decimal(str(headline[name])) == value, name
    assert card(html, "won_revenue") == f"USD {int(Decimal(headline['won_revenue'])):,}"
    assert card(html, "win_rate") == f"{Decimal(headline['win_rate']) * 100:.1f}%"
    # previous month and a year ago are there to compare with (a year ago: before the data)
    assert set(shown["headline"]) >= {"2017-09", "2017-08"}
    # the leaderboard: reps ranked by their won revenue of the month, computed independently
    by_rep = query(url, """select rep_name, sum(amount_usd) from marts.fct_opportunities where is_won
                           and closed_date >= '2017-09-01' and closed_date < '2017-10-01'
                           and rep_name is not null group by 1 order by 2 desc, 1""")
    assert [(r["rep_name"], Decimal(r["won_revenue"])) for r in shown["reps"][:5]] == by_rep[:5]
    assert [r["rank"] for r in shown["reps"][:3]] == [1, 2, 3]
    teams = {r["manager_name"]: Decimal(r["won_revenue"]) for r in shown["teams"]}
    assert sum(teams.values()) == Decimal(headline["won_revenue"])
    # loss reasons add up to the deals lost; the lead channels to fct_leads of the month
    assert sum(r["deals_lost"] for r in shown["losses"]) == headline["deals_lost"]
    [(leads,)] = query(url, "select count(*) from marts.fct_leads where created_month = '2017-09-01'")
    assert sum(r["leads"] for r in shown["responses"]) == leads > 0
    industries = sum(Decimal(r["won_revenue"]) for r in shown["industries"])
    assert industries == Decimal(headline["won_revenue"])
    # quotas were loaded: the trend draws them; no forecast was made: the section says so
    assert "quota" not in shown["missing"] and "forecast" in shown["missing"]
    assert "Not available: no revenue forecast as of 2017-09 or earlier" in html
    assert ">Quota<" in html  # the quota line's legend in the trend chart
    drawn = set(re.findall(r'data-chart="([^"]+)"', html))
    assert drawn >= {"trend", "funnel", "conversion", "losses", "teams", "reps"}
    # offline: nothing to fetch (the only URLs are the SVG namespaces)
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) == {"http://www.w3.org/2000/svg",
                                                            "http://www.w3.org/1999/xlink"}


def test_the_chinese_report_renders_with_cjk_glyphs_and_every_chart_drawn(report_db, tmp_path):
    url, home = report_db
    path, _ = write_report(MONTH, "zh", "sales", "html", owner_url=url, home=home)
    html = path.read_text(encoding="utf-8")
    assert "<h1>销售月报</h1>" in html and "2017年9月" in html
    won = Decimal(figures(path)["headline"]["2017-09"]["won_revenue"])
    assert card(html, "won_revenue") == f"US${won / 10000:,.1f}万"
    seen = look_at(path, tmp_path, han_selectors=("h1", "#headline .card .label", "figure.chart svg text"),
                   sort_table="reps-table")
    assert seen.problems == []
    assert {u.split(":")[0] for u in seen.requests} == {"file"}  # nothing fetched from a network
    assert set(seen.charts) >= {"trend", "funnel", "conversion", "losses", "teams", "reps"}
    for name, inked in seen.charts.items():
        width, height = seen.chart_sizes[name]
        assert width > 200 and height > 100 and inked > 0.01, (name, width, height, inked)
    for selector, fonts in seen.han_fonts.items():
        cjk = sum(n for family, n in fonts.items() if "CJK" in family or "Hei" in family or "Han" in family)
        assert seen.han_chars[selector] > 0 and cjk >= seen.han_chars[selector], (selector, fonts)
    assert seen.sorted_column == sorted(seen.sorted_column) and len(seen.sorted_column) > 5
    assert Image_size(seen.screenshot)[1] > 3000  # the whole page, every section


def Image_size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as image:
        return image.size


def test_the_pdf_is_printed_by_chromium_on_a4_pages(report_db):
    url, home = report_db
    html, _ = write_report(MONTH, "zh", "sales", "html", owner_url=url, home=home)
    path, _ = write_report(MONTH, "zh", "sales", "pdf", owner_url=url, home=home)
    body = path.read_bytes()
    assert path.suffix == ".pdf" and body.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page\b", body)) >= 5
    assert b"/MediaBox [0 0 594.95996 841.91998]" in body  # A4
    # the HTML report of the same edition and language is still there, and the page Chromium
    # printed is gone
    assert html == path.with_suffix(".html")
    assert html.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(".")) == []


def test_the_editions_keep_to_their_roles(report_db, tmp_path, monkeypatch):
    """A login that may act as bi_reader gets the sales edition; the finance edition is refused.
    (Its own home: a home that keeps finance_reader's password has finance access.)"""
    url, home = report_db
    monkeypatch.setenv("SALESOPS_HOME", str(tmp_path / "bi-home"))
    name = "t_report_bi"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"drop role if exists {name}")
        conn.execute(f"create role {name} login password 'report-secret' in role bi_reader")
    try:
        bi_login = psycopg.conninfo.make_conninfo(url, user=name, password="report-secret")
        path, _ = write_report(MONTH, "en", "sales", "html", owner_url=bi_login, home=home)
        assert figures(path)["edition"] == "sales"
        refused = "the finance edition reads as finance_reader and this warehouse login may not act as it"
        with pytest.raises(ReportError, match=refused):
            write_report(MONTH, "en", "finance", "html", owner_url=bi_login, home=home)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"drop role if exists {name}")
    # bi_reader itself cannot read what the finance edition needs
    with psycopg.connect(url) as conn:
        conn.execute("set role bi_reader")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select 1 from finance.payout_statements")


def test_the_cli_writes_the_report_and_refuses_a_month_without_data(report_db, monkeypatch):
    url, home = report_db
    monkeypatch.setenv("SALESOPS_WAREHOUSE_URL", url)
    monkeypatch.setenv("SALESOPS_HOME", str(home))
    result = CliRunner().invoke(main, ["report", "--month", "2017-09", "--edition", "finance"])
    assert result.exit_code == 0, result.output
    written = home / "reports" / "2017-09" / "report-finance-en.html"
    assert result.output.strip().endswith(str(written))
    shown = figures(written)
    assert shown["edition"] == "finance" and "payouts" in shown["missing"]  # no payout run on this copy
    assert "Not available: no payout run for 2017-09" in written.read_text(encoding="utf-8")
    result = CliRunner().invoke(main, ["report", "--month", "2015-01"])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: no closed deals in 2015-01: the marts cover 2017-03 to 2017-12"
