"""What people read of a payout run: ``explain`` (every line of a rep's month and why) and the
statements (one file per rep plus a payroll export; csv, xlsx or html), from the month's latest
run. Files for people neutralise spreadsheet formulas (salesops.export) and HTML is escaped."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pandas as pd

from ml.incentives.runs import PayoutError, _connect, _month

LINE_HEADER = [
    "component",
    "opportunity_id",
    "kind",
    "earned_period",
    "rule",
    "tier",
    "rate",
    "base",
    "amount",
    "reason",
]
PAYROLL_HEADER = [
    "rep_name",
    "period",
    "earned",
    "draws",
    "recoveries",
    "adjustments",
    "clawbacks",
    "payable",
    "run_id",
    "locked",
]


def _latest_run(conn, period: pd.Period) -> tuple[int, bool]:
    row = conn.execute(
        "select coalesce((select run_id from finance.period_locks where period = %s),"
        " (select max(run_id) from finance.payout_runs where period = %s)),"
        " exists (select 1 from finance.period_locks where period = %s)",
        (_month(period),) * 3,
    ).fetchone()
    if row[0] is None:
        raise PayoutError(f"{period} has no payout run; `salesops payouts run --period {period}` first")
    return row[0], row[1]


def _lines(conn, run_id: int, rep: str | None = None) -> list[tuple]:
    where = " and rep_name = %s" if rep else ""
    return conn.execute(
        "select rep_name, component, opportunity_id, kind, to_char(earned_period, 'YYYY-MM'), rule, tier,"
        " rate,"
        " base, amount, reason from finance.payout_lines where run_id = %s" + where + " order by line_no",
        (run_id, rep) if rep else (run_id,),
    ).fetchall()


def explain(url: str, rep: str, period: pd.Period) -> list[str]:
    with _connect(url) as conn:
        run_id, locked = _latest_run(conn, period)
        lines = _lines(conn, run_id, rep)
        statement = conn.execute(
            "select earned, draws, recoveries, adjustments, clawbacks, payable"
            " from finance.payout_statements where run_id = %s and rep_name = %s",
            (run_id, rep),
        ).fetchone()
    if statement is None:
        raise PayoutError(f"{rep!r} has no statement in {period} (payout run {run_id})")
    out = [f"{rep}, {period} (payout run {run_id}{', locked' if locked else ''}):"]
    for _, component, opp, kind, earned, _rule, _tier, _rate, _base, amount, reason in lines:
        deal = f" {opp}" if opp else ""
        later = f" [for {earned}]" if earned != str(period) else ""
        out.append(f"  {amount:>12,.2f}  {component}{deal}{later} ({kind}): {reason}")
    e, d, r, a, c, p = statement
    out.append(
        f"  earned {e:,.2f} + draws {d:,.2f} - recoveries {r:,.2f} + adjustments {a:,.2f} "
        f"- clawbacks {c:,.2f} = payable {p:,.2f}"
    )
    return out


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower() or "rep"


def write_statements(url: str, period: pd.Period, folder: Path, fmt: str) -> list[Path]:
    """One file per rep and ``payroll.<fmt>`` in ``folder`` (created owner-only); their paths."""
    from salesops.export import write_table

    with _connect(url) as conn:
        run_id, locked = _latest_run(conn, period)
        lines = _lines(conn, run_id)
        stmts = conn.execute(
            "select rep_name, to_char(period, 'YYYY-MM'), earned, draws, recoveries, adjustments,"
            " clawbacks, payable from finance.payout_statements where run_id = %s"
            " order by rep_name",
            (run_id,),
        ).fetchall()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    written = []
    by_rep: dict[str, list] = {}
    for row in lines:
        by_rep.setdefault(row[0], []).append(row[1:])
    for stmt in stmts:
        rep = stmt[0]
        path = folder / f"statement-{_slug(rep)}.{fmt}"
        totals = dict(zip(PAYROLL_HEADER[2:8], stmt[2:], strict=True))
        if fmt == "html":
            _render(
                path,
                f"Commission statement — {rep}, {period}",
                f"Payout run {run_id}{' (locked)' if locked else ' (open: may still change)'}",
                LINE_HEADER,
                by_rep.get(rep, []),
                totals,
            )
        else:
            rows = list(by_rep.get(rep, []))
            rows += [
                ("total", None, key, None, None, None, None, None, value, None)
                for key, value in totals.items()
            ]
            write_table(path, LINE_HEADER, iter(rows))
        written.append(path)
    payroll = folder / f"payroll.{fmt}"
    rows = [(*s, run_id, locked) for s in stmts]
    if fmt == "html":
        _render(
            payroll,
            f"Payroll export — {period}",
            f"Payout run {run_id}{' (locked)' if locked else ''}",
            PAYROLL_HEADER,
            rows,
        )
    else:
        write_table(payroll, PAYROLL_HEADER, iter(rows))
    written.append(payroll)
    return written


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}td.n{text-align:right}</style></head>
<body><h1>{{ title }}</h1><p>{{ subtitle }}</p>
<table><thead><tr>{% for h in header %}<th>{{ h }}</th>{% endfor %}</tr></thead><tbody>
{% for row in rows %}<tr>{% for v in row %}<td>{{ v if v is not none else "" }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
{% if totals %}<h2>Totals</h2><table>
{% for k, v in totals %}<tr><th>{{ k }}</th><td class="n">{{ v }}</td></tr>{% endfor %}
</table>{% endif %}
</body></html>
"""


def _render(
    path: Path, title: str, subtitle: str, header: list[str], rows, totals: dict | None = None
) -> None:
    """An escaped, self-contained HTML page of a table (and its totals), owner-only (0600)."""
    import os

    from jinja2 import Environment

    html = (
        Environment(autoescape=True)
        .from_string(_PAGE)
        .render(
            title=title,
            subtitle=subtitle,
            header=header,
            rows=[[_cell(v) for v in r] for r in rows],
            totals=[(k, f"{v:,.2f}") for k, v in totals.items()] if totals else None,
        )
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(html)


def _cell(value):
    return f"{value:,.2f}" if isinstance(value, Decimal) else value
