"""Lay the month's figures out as the report and write it (HTML, or PDF printed by Chromium).

The HTML is one file: the stylesheet, the charts (inline SVG), a small table-sorting script
and the figures as JSON (``<script id="report-data">``, what tests and scripts read) are all
inside it; it loads nothing from anywhere. The PDF is that page printed by headless Chromium
(A4, a table's header repeated on every page, no chart or table row cut in two).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
from jinja2 import Environment, PackageLoader, select_autoescape

from salesops.export import write_atomic
from salesops.report import ReportError, charts
from salesops.report.data import HEADLINE, ReportData, last_closed_month, load, months_available, total
from salesops.report.i18n import CHANNELS, METRICS, PRIORITY, RFM, STAGES, TRAINING_ZH, Words

EDITIONS = {"sales": "bi_reader", "finance": "finance_reader"}
FORMATS = ("html", "pdf")
CHROMIUM = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
RATIO_KPIS = {"win_rate", "attainment"}
MONEY_KPIS = {"won_revenue", "avg_deal_size", "order_revenue"}


@dataclass
class Cell:
    text: str
    sort: object = None  # what the column sorts by (a number), else the text

    @property
    def key(self) -> str:
        return self.text if self.sort is None else str(self.sort)


@dataclass
class Table:
    columns: list[tuple[str, bool]]  # (label, numeric)
    rows: list[list[Cell]]
    total: list[Cell] | None = None


def _num(value) -> float:
    return 0.0 if value is None else float(value)


class Report:
    """One report: its data, its words and what the template shows."""

    def __init__(self, data: ReportData, lang: str):
        self.data = data
        self.w = Words(lang)
        self.missing: dict[str, str] = {}
        for section, key in data.missing.items():
            self.missing[section] = self.w("missing", what=self.w(key, month=f"{data.month:%Y-%m}"))

    # --- headline -------------------------------------------------------------------------
    def kpi(self, name: str, value) -> str:
        w = self.w
        if name in MONEY_KPIS:
            return w.money(value)
        if name in RATIO_KPIS:
            return w.percent(value)
        if name in ("avg_days_to_close", "avg_csat", "nps"):
            return w.number(value, 1 if name == "avg_days_to_close" else 2)
        return w.number(value)

    def headline(self) -> tuple[list[dict], Table]:
        d, w = self.data, self.w
        now, prev, year = (d.kpis.get(m, {}) for m in (d.month, d.prev_month, d.year_ago))
        cards, rows = [], []
        for name in HEADLINE:
            ratio = name in RATIO_KPIS
            vs_prev = w.change(now.get(name), prev.get(name), ratio)
            vs_year = w.change(now.get(name), year.get(name), ratio)
            cards.append(
                {
                    "name": name,
                    "label": w(name),
                    "value": self.kpi(name, now.get(name)),
                    "vs_prev": vs_prev,
                    "vs_year": vs_year,
                    "up": _direction(now.get(name), prev.get(name), name),
                }
            )
            rows.append(
                [
                    Cell(w(name)),
                    *(Cell(self.kpi(name, r.get(name)), _sortable(r.get(name))) for r in (now, prev, year)),
                    Cell(vs_prev),
                    Cell(vs_year),
                ]
            )
        table = Table(
            [
                (w("metric"), False),
                (w.month(d.month), True),
                (w.month(d.prev_month), True),
                (w.month(d.year_ago), True),
                (w("vs_prev"), True),
                (w("vs_year"), True),
            ],
            rows,
        )
        return cards, table

    # --- charts and tables ------------------------------------------------------------------
    def short_money(self, value: float) -> str:
        return self.w.money(Decimal(str(round(value))))

    def trend_chart(self) -> str:
        d, w = self.data, self.w
        forecast = None
        if d.forecast:
            forecast = {
                "months": [w.short_month(r["forecast_month"]) for r in d.forecast],
                **{
                    k: [_num(r[k]) for r in d.forecast]
                    for k in ("forecast", "lower_80", "upper_80", "lower_95", "upper_95")
                },
            }
        labels = {k: w(k) for k in ("actual", "quota", "forecast", "interval_80", "interval_95")}
        return charts.trend(
            [w.short_month(r["month"]) for r in d.trend],
            [_num(r["won_revenue"]) for r in d.trend],
            [None if r["quota"] is None else float(r["quota"]) for r in d.trend],
            forecast,
            labels,
            self.short_money,
        )

    def forecast_note(self) -> str | None:
        run = self.data.forecast_run
        if not run:
            return None
        return self.w(
            "forecast_note",
            month=self.w.month(run["as_of_month"]),
            model=run["model"],
            version=run["model_version"],
        )

    def funnel(self) -> tuple[str | None, str | None, Table]:
        d, w = self.data, self.w
        lead_channels = {r["channel"] for r in d.funnel if r["stage"] == "lead"}
        stages = sorted({(r["stage_order"], r["stage"]) for r in d.funnel})
        counts = [
            sum(r["entered"] for r in d.funnel if r["stage"] == s and r["channel"] in lead_channels)
            for _, s in stages
        ]
        rates = [""] + [
            w.percent(Decimal(c) / Decimal(p)) if p else "" for p, c in zip(counts, counts[1:], strict=False)
        ]
        funnel_svg = charts.funnel([w.word(STAGES, s) for _, s in stages], counts, rates) if counts else None
        channels = sorted({r["channel"] for r in d.funnel})
        cells = {(r["channel"], r["stage"]): r["conversion_rate"] for r in d.funnel}
        from_stages = [s for _, s in stages][:-1]
        heat = None
        if channels and from_stages:
            heat = charts.heatmap(
                "conversion",
                [w.word(CHANNELS, c) for c in channels],
                [w.word(STAGES, s) for s in from_stages],
                [
                    [None if cells.get((c, s)) is None else float(cells[(c, s)]) for s in from_stages]
                    for c in channels
                ],
                lambda v: w.percent(Decimal(str(v))),
            )
        rows = [
            [
                Cell(w.word(CHANNELS, r["channel"])),
                Cell(w.number(r["leads"]), r["leads"]),
                Cell(w.number(r["responded"]), r["responded"]),
                Cell(
                    w.percent(Decimal(r["responded"]) / r["leads"]) if r["leads"] else "—",
                    _ratio(r["responded"], r["leads"]),
                ),
                Cell(w.number(r["converted"]), r["converted"]),
                Cell(w.number(r["median_response_hours"], 1), _sortable(r["median_response_hours"])),
            ]
            for r in d.responses
        ]
        table = Table(
            [
                (w("channel"), False),
                (w("leads"), True),
                (w("responded"), True),
                (w("responded") + " %", True),
                (w("converted"), True),
                (w("median_response_hours"), True),
            ],
            rows,
        )
        return funnel_svg, heat, table

    def losses(self) -> tuple[str | None, Table]:
        d, w = self.data, self.w
        svg = None
        if d.losses:
            svg = charts.bars(
                "losses",
                [r["loss_reason"] for r in d.losses],
                [r["deals_lost"] for r in d.losses],
                lambda v: w.number(Decimal(round(v))),
                color=charts.PALETTE[3],
            )
        rows = [
            [
                Cell(r["loss_reason"]),
                Cell(w.number(r["deals_lost"]), r["deals_lost"]),
                Cell(w.money(r["lost_value"]), _sortable(r["lost_value"])),
            ]
            for r in d.losses
        ]
        return svg, Table(
            [(w("loss_reason"), False), (w("deals_lost"), True), (w("lost_value"), True)],
            rows,
            [
                Cell(w("total")),
                Cell(w.number(total(d.losses, "deals_lost"))),
                Cell(w.money(total(d.losses, "lost_value"))),
            ]
            if d.losses
            else None,
        )

    def segments(self) -> list[tuple[str, str | None, Table]]:
        d, w = self.data, self.w
        out = []
        for key, rows, label in (
            ("revenue_by_industry", d.industries, "industry"),
            ("revenue_by_region", d.regions, "region"),
        ):
            svg = (
                charts.bars(
                    key,
                    [r["segment"] for r in rows],
                    [_num(r["won_revenue"]) for r in rows],
                    self.short_money,
                )
                if rows
                else None
            )
            table = Table(
                [(w(label), False), (w("customers"), True), (w("deals_won"), True), (w("won_revenue"), True)],
                [
                    [
                        Cell(r["segment"]),
                        Cell(w.number(r["customers"]), r["customers"]),
                        Cell(w.number(r["deals_won"]), r["deals_won"]),
                        Cell(w.money(r["won_revenue"]), _sortable(r["won_revenue"])),
                    ]
                    for r in rows
                ],
            )
            out.append((w(key), svg, table))
        rfm = d.rfm
        svg = (
            charts.bars(
                "rfm",
                [w.word(RFM, r["rfm_segment"]) for r in rfm],
                [r["customers"] for r in rfm],
                lambda v: w.number(Decimal(round(v))),
                color=charts.PALETTE[4],
            )
            if rfm
            else None
        )
        table = Table(
            [(w("rfm"), False), (w("customers"), True), (w("lifetime_revenue"), True)],
            [
                [
                    Cell(w.word(RFM, r["rfm_segment"])),
                    Cell(w.number(r["customers"]), r["customers"]),
                    Cell(w.money(r["lifetime_revenue"]), _sortable(r["lifetime_revenue"])),
                ]
                for r in rfm
            ],
        )
        out.append((w("customers_by_rfm"), svg, table))
        return out

    def leaderboard(self) -> tuple[str | None, str | None, Table, Table]:
        d, w = self.data, self.w
        team_svg = None
        if d.teams:
            team_svg = charts.bars(
                "teams",
                [r["manager_name"] for r in d.teams],
                [_num(r["won_revenue"]) for r in d.teams],
                self.short_money,
                marks=[None if r["quota"] is None else float(r["quota"]) for r in d.teams],
                mark_label=w("quota"),
            )
        heat = None
        if d.rep_months:
            reps = sorted({r["rep_name"] for r in d.rep_months})
            months = sorted({r["month"] for r in d.rep_months})
            value = {(r["rep_name"], r["month"]): _num(r["won_revenue"]) for r in d.rep_months}
            heat = charts.heatmap(
                "reps",
                reps,
                [w.short_month(m) for m in months],
                [[value.get((rep, m)) for m in months] for rep in reps],
                self.short_money,
                cmap="Greens",
            )
        teams = Table(
            [
                (w("team"), False),
                (w("region"), False),
                (w("reps"), True),
                (w("won_revenue"), True),
                (w("vs_prev"), True),
                (w("win_rate"), True),
                (w("quota"), True),
                (w("attainment"), True),
            ],
            [
                [
                    Cell(r["manager_name"]),
                    Cell(r["region"]),
                    Cell(w.number(r["reps"]), r["reps"]),
                    Cell(w.money(r["won_revenue"]), _sortable(r["won_revenue"])),
                    Cell(
                        _arrow(r["won_revenue"], r["won_revenue_prev_month"])
                        + " "
                        + w.change(r["won_revenue"], r["won_revenue_prev_month"]),
                        _sortable(r["won_revenue_mom_pct"]),
                    ),
                    Cell(w.percent(r["win_rate"]), _sortable(r["win_rate"])),
                    Cell(w.money(r["quota"]), _sortable(r["quota"])),
                    Cell(w.percent(r["attainment"]), _sortable(r["attainment"])),
                ]
                for r in d.teams
            ],
        )
        reps = Table(
            [
                (w("rank"), True),
                (w("rank_change"), True),
                (w("rep"), False),
                (w("team"), False),
                (w("won_revenue"), True),
                (w("trend_arrow"), True),
                (w("deals_won"), True),
                (w("win_rate"), True),
                (w("quota"), True),
                (w("attainment"), True),
            ],
            [
                [
                    Cell(str(r["rank"]), r["rank"]),
                    _rank_change(r["rank"], r["prev_rank"], w),
                    Cell(r["rep_name"]),
                    Cell(r["manager_name"] or "—"),
                    Cell(w.money(r["won_revenue"]), _sortable(r["won_revenue"])),
                    Cell(
                        _arrow(r["won_revenue"], r["prev_won_revenue"])
                        + " "
                        + w.change(r["won_revenue"], r["prev_won_revenue"]),
                        _sortable(_delta(r["won_revenue"], r["prev_won_revenue"])),
                    ),
                    Cell(w.number(r["deals_won"]), r["deals_won"]),
                    Cell(w.percent(r["win_rate"]), _sortable(r["win_rate"])),
                    Cell(w.money(r["quota"]), _sortable(r["quota"])),
                    Cell(w.percent(r["attainment"]), _sortable(r["attainment"])),
                ]
                for r in d.reps
            ],
        )
        return team_svg, heat, teams, reps

    def training(self) -> Table:
        d, w = self.data, self.w
        rows = []
        for r in d.training:
            digits = 0 if r["metric"] == "activities_per_month" else 1
            ratio = r["metric"].endswith("_rate")
            show = (lambda v: w.percent(v)) if ratio else (lambda v, n=digits: w.number(v, n))
            rows.append(
                [
                    Cell(w.word(PRIORITY, r["priority"])),
                    Cell(r["rep_name"]),
                    Cell(r["manager_name"] or "—"),
                    Cell(w.word(METRICS, r["metric"])),
                    Cell(show(r["rep_value"]), _sortable(r["rep_value"])),
                    Cell(show(r["peer_baseline"]), _sortable(r["peer_baseline"])),
                    Cell(w.percent(r["gap_pct"]), _sortable(r["gap_pct"])),
                    Cell(w.number(r["volume"]), r["volume"]),
                    Cell(
                        TRAINING_ZH.get(r["metric"], r["suggested_training"])
                        if w.lang == "zh"
                        else r["suggested_training"]
                    ),
                ]
            )
        return Table(
            [
                (w("priority"), False),
                (w("rep"), False),
                (w("team"), False),
                (w("measure"), False),
                (w("rep_value"), True),
                (w("peer_baseline"), True),
                (w("gap"), True),
                ("n", True),
                (w("suggested_training"), False),
            ],
            rows,
        )

    def payouts(self) -> dict | None:
        d, w = self.data, self.w
        if d.edition != "finance" or d.payout_run is None:
            return None
        run = d.payout_run
        money = ("earned", "draws", "recoveries", "adjustments", "clawbacks", "payable")
        table = Table(
            [(w("team"), False), (w("reps"), True), *((w(k), True) for k in money)],
            [
                [
                    Cell(r["team"]),
                    Cell(w.number(r["reps"]), r["reps"]),
                    *(Cell(w.money(r[k], cents=True), _sortable(r[k])) for k in money),
                ]
                for r in d.payouts
            ],
            [
                Cell(w("total")),
                Cell(w.number(total(d.payouts, "reps"))),
                *(Cell(w.money(total(d.payouts, k), cents=True)) for k in money),
            ],
        )
        svg = charts.bars(
            "payouts",
            [r["team"] for r in d.payouts],
            [_num(r["payable"]) for r in d.payouts],
            self.short_money,
            color=charts.PALETTE[2],
        )
        accruals = Table(
            [
                (w("period"), False),
                (w("reps"), True),
                (w("open_deals"), True),
                (w("expected_bookings"), True),
                (w("expected_commission"), True),
            ],
            [
                [
                    Cell(w.month(r["period"])),
                    Cell(w.number(r["reps"]), r["reps"]),
                    Cell(w.number(r["open_deals"]), r["open_deals"]),
                    Cell(w.money(r["expected_bookings"], cents=True), _sortable(r["expected_bookings"])),
                    Cell(w.money(r["expected_commission"], cents=True), _sortable(r["expected_commission"])),
                ]
                for r in d.accruals
            ],
        )
        adjustments = Table(
            [(w("rep"), False), (w("amount"), True), (w("reason"), False), (w("approved_by"), False)],
            [
                [
                    Cell(r["rep_name"]),
                    Cell(w.money(r["amount"], cents=True), _sortable(r["amount"])),
                    Cell(r["reason"]),
                    Cell(r["approved_by"]),
                ]
                for r in d.adjustments
            ],
        )
        status = w("locked") if run["locked"] else w("open")
        return {
            "note": w("payout_run", run=run["run_id"], month=w.month(run["period"]), status=status),
            "svg": svg,
            "table": table,
            "accruals": accruals,
            "adjustments": adjustments,
        }

    def figures(self) -> dict:
        """The report's figures as JSON values (exact decimals as strings), for scripts and tests."""
        d = self.data

        def plain(rows):
            return [{k: (str(v) if isinstance(v, Decimal | date) else v) for k, v in r.items()} for r in rows]

        return {
            "month": f"{d.month:%Y-%m}",
            "edition": d.edition,
            "lang": self.w.lang,
            "headline": {
                f"{m:%Y-%m}": plain([{k: d.kpis[m][k] for k in (*HEADLINE, "order_revenue")}])[0]
                for m in (d.month, d.prev_month, d.year_ago)
                if m in d.kpis
            },
            "forecast": plain(d.forecast),
            "funnel": plain(d.funnel),
            "responses": plain(d.responses),
            "losses": plain(d.losses),
            "industries": plain(d.industries),
            "regions": plain(d.regions),
            "rfm": plain(d.rfm),
            "teams": plain(d.teams),
            "reps": plain(d.reps),
            "training": plain(d.training),
            "payout_run": plain([d.payout_run])[0] if d.payout_run else None,
            "payouts": plain(d.payouts),
            "accruals": plain(d.accruals),
            "adjustments": plain(d.adjustments),
            "missing": sorted(d.missing),
        }


def _sortable(value):
    return None if value is None else float(value)


def _ratio(part, whole):
    return None if not whole else float(part) / float(whole)


def _delta(now, before):
    return None if now is None or before is None else float(now) - float(before)


def _direction(now, before, name: str) -> str:
    if now is None or before is None or now == before:
        return "flat"
    better = now < before if name in ("avg_days_to_close", "deals_lost") else now > before
    return "good" if better else "bad"


def _arrow(now, before) -> str:
    if now is None or before is None or now == before:
        return "→"
    return "▲" if now > before else "▼"


def _rank_change(rank, prev_rank, w: Words) -> Cell:
    if prev_rank is None:
        return Cell(w("rank_new"), 0)
    moved = prev_rank - rank
    return Cell(("▲" + str(moved)) if moved > 0 else ("▼" + str(-moved)) if moved < 0 else "=", moved)


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("salesops.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(data: ReportData, lang: str) -> str:
    """The report as one self-contained HTML page."""
    if lang == "zh":
        charts.require_cjk_font()
    report = Report(data, lang)
    cards, headline = report.headline()
    funnel_svg, conversion_svg, responses = report.funnel()
    losses_svg, losses = report.losses()
    team_svg, rep_heat, teams, reps = report.leaderboard()
    w = report.w
    page = (
        _environment()
        .get_template("report.html.j2")
        .render(
            w=w,
            lang=lang,
            html_lang="zh-CN" if lang == "zh" else "en",
            data=data,
            title=w("title_finance" if data.edition == "finance" else "title_sales"),
            month=w.month(data.month),
            generated=w("generated", at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
            edition_note=w("finance_note" if data.edition == "finance" else "masked_note"),
            missing=report.missing,
            cards=cards,
            headline=headline,
            trend_svg=report.trend_chart(),
            forecast_note=report.forecast_note(),
            funnel_svg=funnel_svg,
            conversion_svg=conversion_svg,
            responses=responses,
            losses_svg=losses_svg,
            losses=losses,
            segments=report.segments(),
            team_svg=team_svg,
            rep_heat=rep_heat,
            teams=teams,
            reps=reps,
            training=report.training(),
            payouts=report.payouts(),
            cjk_font=charts.cjk_font() or "",
            figures=json.dumps(report.figures(), ensure_ascii=False).replace("</", "<\\/"),
        )
    )
    return page


def chromium() -> str:
    """The Chromium (or Chrome) executable: ``SALESOPS_CHROMIUM``, else the first on PATH."""
    named = os.environ.get("SALESOPS_CHROMIUM")
    found = shutil.which(named) if named else next(filter(None, map(shutil.which, CHROMIUM)), None)
    if not found:
        raise ReportError(
            "the PDF is printed by Chromium and none was found: install it (Debian: `apt-get "
            "install chromium`), point SALESOPS_CHROMIUM at it, or use --format html"
        )
    return found


def chromium_args(profile: str) -> list[str]:
    """Headless, sandboxed unless running as root, and nothing that reaches the network."""
    args = [
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--mute-audio",
        f"--user-data-dir={profile}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to start as root with its sandbox
    return args


def print_pdf(html: Path, pdf: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="salesops-chromium-") as profile:
        done = subprocess.run(
            [
                chromium(),
                *chromium_args(profile),
                "--no-pdf-header-footer",
                f"--print-to-pdf={pdf}",
                html.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    if done.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ReportError(f"Chromium could not print {html} to PDF (exit {done.returncode}): {last}")


def report_path(home: Path, month: date, edition: str, lang: str, fmt: str) -> Path:
    return home / "reports" / f"{month:%Y-%m}" / f"report-{edition}-{lang}.{fmt}"


def write_report(
    month: date | None,
    lang: str = "en",
    edition: str = "sales",
    fmt: str = "html",
    owner_url: str | None = None,
    home: Path | None = None,
) -> tuple[Path, float]:
    """Write the report for ``month`` (default: the last closed month) and return (path, seconds)."""
    from salesops.config import ensure_home
    from salesops.warehouse import ensure_running, role_url

    started = time.perf_counter()
    if edition not in EDITIONS:
        raise ReportError(f"edition {edition!r}: choose sales or finance")
    if fmt not in FORMATS:
        raise ReportError(f"format {fmt!r}: choose html or pdf")
    url = role_url(owner_url, EDITIONS[edition]) if owner_url else ensure_running(role=EDITIONS[edition])
    try:
        with psycopg.connect(url) as conn:
            month = _month(conn, month)
            data = load(conn, month, edition)
    except psycopg.errors.InsufficientPrivilege as exc:
        raise ReportError(
            f"the {edition} edition reads as {EDITIONS[edition]} and this connection may not: "
            f"{str(exc).splitlines()[0]}"
        ) from exc
    except psycopg.OperationalError as exc:
        if "permission denied to set role" not in str(exc):
            raise
        raise ReportError(
            f"the {edition} edition reads as {EDITIONS[edition]} and this warehouse login may not act "
            f"as it (the {edition} edition needs {EDITIONS[edition]} access)"
        ) from exc
    except psycopg.errors.UndefinedTable as exc:
        raise ReportError(
            f"the marts are not built yet ({str(exc).splitlines()[0]}): run `salesops run` "
            "or `salesops build` first"
        ) from exc
    html = render_html(data, lang)
    target = report_path(home or ensure_home(), month, edition, lang, fmt)
    for folder in (target.parent.parent, target.parent):  # private, like the rest of the home
        folder.mkdir(exist_ok=True, mode=0o700)
    if fmt == "html":
        write_atomic(target, lambda path: path.write_text(html, encoding="utf-8"))
        return target, time.perf_counter() - started
    page = target.with_name(f".{target.stem}.print.html")  # what Chromium prints; never the HTML report
    write_atomic(page, lambda path: path.write_text(html, encoding="utf-8"))
    try:
        write_atomic(target, lambda path: print_pdf(page, path))
    finally:
        page.unlink(missing_ok=True)
    return target, time.perf_counter() - started


def _month(conn: psycopg.Connection, month: date | None) -> date:
    """The month asked for (checked against the marts), or the last closed month of the marts."""
    first, last = months_available(conn)
    if last is None:
        raise ReportError("the marts hold no closed deals yet: load data and run `salesops run` first")
    if month is None:
        return last_closed_month(conn)
    if not first <= month <= last:
        raise ReportError(f"no closed deals in {month:%Y-%m}: the marts cover {first:%Y-%m} to {last:%Y-%m}")
    return month


def pipeline_langs() -> list[str]:
    """The languages the pipeline writes: ``SALESOPS_REPORT_LANGS`` (comma-separated), default en,zh."""
    asked = [x.strip() for x in os.environ.get("SALESOPS_REPORT_LANGS", "en,zh").split(",") if x.strip()]
    unknown = sorted(set(asked) - {"en", "zh"})
    if unknown or not asked:
        raise ReportError(
            f"SALESOPS_REPORT_LANGS={os.environ.get('SALESOPS_REPORT_LANGS')!r}: use en, zh or en,zh"
        )
    return asked


def write_monthly(owner_url: str | None = None, log=print) -> dict:
    """The pipeline's reports for the last closed month: both editions in every language of
    ``pipeline_langs`` (Chinese is left out, with a note, on a machine without a CJK font)."""
    written, notes = [], []
    for lang in pipeline_langs():
        if lang == "zh" and charts.cjk_font() is None:
            notes.append(
                "Chinese report not written: no CJK font on this machine (Debian: apt-get install "
                "fonts-noto-cjk)"
            )
            continue
        for edition in EDITIONS:
            path, seconds = write_report(None, lang, edition, "html", owner_url=owner_url)
            log(f"report {len(written) + 1}: {edition} edition, {lang}: {path} ({seconds:.1f}s)")
            written.append(str(path))
    for note in notes:
        log(note)
    return {"month": Path(written[0]).parent.name if written else None, "reports": written, "notes": notes}
