"""What the monthly report shows, read from the marts (and the forecast and payout tables).

Every figure comes from a mart as it is (no second computation of a measure the marts
define): ``company_kpis_monthly`` for the headline, ``rep_performance_monthly`` and
``team_performance_monthly`` for the leaderboard, ``funnel_conversion`` and ``fct_leads`` for
the funnel, ``loss_reasons``, ``customer_360`` with ``fct_opportunities`` for the segments,
``training_needs``, ``forecast_vs_actual`` for the forecast, and ``finance.payout_*`` for the
finance edition. The sales edition reads as ``bi_reader`` and so selects only columns without
personal data; whatever is missing (no forecast, no quotas, no payout run) is listed in
``missing`` for the report to say so instead of leaving a hole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import psycopg
from psycopg.rows import dict_row

HEADLINE = (
    "won_revenue",
    "orders",
    "deals_won",
    "deals_lost",
    "win_rate",
    "avg_deal_size",
    "avg_days_to_close",
    "avg_csat",
    "nps",
    "attainment",
)
TREND_MONTHS = 13  # the month and the twelve before it
HEATMAP_MONTHS = 6
TOP_REPS = 30
TOP_TRAINING = 15


def shift(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass
class ReportData:
    month: date
    edition: str
    kpis: dict[date, dict] = field(default_factory=dict)  # month -> company_kpis_monthly row
    trend: list[dict] = field(default_factory=list)
    forecast: list[dict] = field(default_factory=list)
    forecast_run: dict | None = None
    funnel: list[dict] = field(default_factory=list)
    responses: list[dict] = field(default_factory=list)
    losses: list[dict] = field(default_factory=list)
    industries: list[dict] = field(default_factory=list)
    regions: list[dict] = field(default_factory=list)
    rfm: list[dict] = field(default_factory=list)
    reps: list[dict] = field(default_factory=list)
    teams: list[dict] = field(default_factory=list)
    rep_months: list[dict] = field(default_factory=list)
    training: list[dict] = field(default_factory=list)
    payout_run: dict | None = None
    payouts: list[dict] = field(default_factory=list)
    accruals: list[dict] = field(default_factory=list)
    adjustments: list[dict] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)  # section -> TEXT key of what is missing

    @property
    def prev_month(self) -> date:
        return shift(self.month, -1)

    @property
    def year_ago(self) -> date:
        return shift(self.month, -12)


def _rows(conn: psycopg.Connection, statement: str, params: dict) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(statement, params).fetchall()


def months_available(conn: psycopg.Connection) -> tuple[date | None, date | None]:
    """The first and last month of the marts' headline figures with closed deals."""
    row = conn.execute(
        "select min(month), max(month) from marts.company_kpis_monthly where deals_won + deals_lost > 0"
    ).fetchone()
    return row[0], row[1]


def last_closed_month(conn: psycopg.Connection, today: date | None = None) -> date | None:
    """The marts' last month with closed deals, or the month before the current one if the
    marts already reach into the current month (which has not closed)."""
    _first, last = months_available(conn)
    current = (today or date.today()).replace(day=1)
    if last is None:
        return None
    return last if last < current else shift(current, -1)


def load(conn: psycopg.Connection, month: date, edition: str) -> ReportData:
    """Everything the report for ``month`` shows; ``conn`` has the edition's role."""
    data = ReportData(month=month, edition=edition)
    p = {
        "month": month,
        "prev": data.prev_month,
        "year_ago": data.year_ago,
        "trend_start": shift(month, 1 - TREND_MONTHS),
        "heat_start": shift(month, 1 - HEATMAP_MONTHS),
        "next": shift(month, 1),
    }
    kpis = _rows(
        conn, "select * from marts.company_kpis_monthly where month in (%(month)s, %(prev)s, %(year_ago)s)", p
    )
    data.kpis = {row["month"]: row for row in kpis}
    data.trend = _rows(
        conn,
        "select month, won_revenue, quota from marts.company_kpis_monthly"
        " where month between %(trend_start)s and %(month)s order by month",
        p,
    )
    if data.kpis.get(month, {}).get("quota") is None:
        data.missing["quota"] = "no_quota"
    _forecast(conn, data, p)
    data.funnel = _rows(
        conn,
        """
        select channel, stage_order, stage, sum(entered)::bigint as entered,
               sum(advanced)::bigint as advanced,
               round(sum(advanced)::numeric / nullif(sum(entered) filter (where advanced is not null), 0), 4)
                   as conversion_rate
        from marts.funnel_conversion where cohort_month = %(month)s
        group by channel, stage_order, stage order by channel, stage_order""",
        p,
    )
    data.responses = _rows(
        conn,
        """
        select channel, count(*) as leads, count(*) filter (where is_responded) as responded,
               count(*) filter (where is_converted) as converted,
               round((percentile_cont(0.5) within group (order by first_response_hours))::numeric, 1)
                   as median_response_hours
        from marts.fct_leads where created_month = %(month)s group by channel order by leads desc""",
        p,
    )
    data.losses = _rows(
        conn,
        """
        select loss_reason, sum(deals_lost)::bigint as deals_lost, sum(lost_list_value) as lost_value
        from marts.loss_reasons where month = %(month)s group by loss_reason order by 2 desc, 1""",
        p,
    )
    for target, column in (("industries", "industry"), ("regions", "region")):
        setattr(
            data,
            target,
            _rows(
                conn,
                f"""
            select coalesce(c.{column}, '(unknown)') as segment, count(distinct o.customer_id) as customers,
                   count(*) as deals_won, sum(o.amount_usd) as won_revenue
            from marts.fct_opportunities as o left join marts.customer_360 as c using (customer_id)
            where o.is_won and o.closed_date >= %(month)s and o.closed_date < %(next)s
            group by 1 order by won_revenue desc nulls last, 1""",
                p,
            ),
        )
    data.rfm = _rows(
        conn,
        """
        select rfm_segment, count(*) as customers, sum(lifetime_revenue) as lifetime_revenue
        from marts.customer_360 group by rfm_segment order by lifetime_revenue desc nulls last, 1""",
        p,
    )
    _leaderboard(conn, data, p)
    data.training = _rows(
        conn,
        """
        select rep_name, manager_name, metric, stage, rep_value, peer_baseline, gap_pct, is_higher_better,
               volume, priority, suggested_training
        from marts.training_needs
        order by case priority when 'high' then 0 when 'medium' then 1 else 2 end, gap_pct desc, rep_name
        limit %(top)s""",
        {"top": TOP_TRAINING},
    )
    if edition == "finance":
        _payouts(conn, data, p)
    return data


def _forecast(conn: psycopg.Connection, data: ReportData, p: dict) -> None:
    """The company forecast made as of the month (or the latest before it), months after it."""
    run = _rows(
        conn,
        """
        select as_of_month, model, model_version from marts.forecast_vs_actual
        where hierarchy_level = 'company' and as_of_month <= %(month)s
        order by as_of_month desc, scored_at desc limit 1""",
        p,
    )
    if not run:
        data.missing["forecast"] = "no_forecast"
        return
    data.forecast_run = run[0]
    data.forecast = _rows(
        conn,
        """
        select distinct on (forecast_month) forecast_month, forecast, lower_80, upper_80, lower_95, upper_95
        from marts.forecast_vs_actual
        where hierarchy_level = 'company' and as_of_month = %(as_of)s and forecast_month > %(as_of)s
        order by forecast_month, scored_at desc""",
        {**p, "as_of": run[0]["as_of_month"]},
    )


def _leaderboard(conn: psycopg.Connection, data: ReportData, p: dict) -> None:
    """Reps ranked by won revenue this month, with last month's rank; teams likewise."""
    data.reps = _rows(
        conn,
        """
        with ranked as (
            select rep_name, manager_name, region, month, won_revenue, deals_won, win_rate, quota, attainment,
                   rank() over (partition by month order by won_revenue desc) as rank
            from marts.rep_performance_monthly
            where month in (%(month)s, %(prev)s) and is_known_rep
        )
        select now.rep_name, now.manager_name, now.region, now.won_revenue, now.deals_won, now.win_rate,
               now.quota, now.attainment, now.rank, before.won_revenue as prev_won_revenue,
               before.rank as prev_rank
        from ranked as now left join ranked as before
            on before.rep_name = now.rep_name and before.month = %(prev)s
        where now.month = %(month)s order by now.rank, now.rep_name limit %(top)s""",
        {**p, "top": TOP_REPS},
    )
    data.teams = _rows(
        conn,
        """
        select manager_name, region, reps, won_revenue, deals_won, win_rate, quota, attainment,
               won_revenue_prev_month, won_revenue_mom_pct, rank_in_region
        from marts.team_performance_monthly where month = %(month)s
        order by won_revenue desc, manager_name""",
        p,
    )
    data.rep_months = _rows(
        conn,
        """
        select rep_name, month, won_revenue from marts.rep_performance_monthly
        where month between %(heat_start)s and %(month)s and is_known_rep
          and rep_name in (select rep_name from marts.rep_performance_monthly
                           where month = %(month)s and is_known_rep
                           order by won_revenue desc, rep_name limit 15)
        order by rep_name, month""",
        p,
    )


def _payouts(conn: psycopg.Connection, data: ReportData, p: dict) -> None:
    """The month's latest payout run by team, its accruals and the month's manual adjustments."""
    run = _rows(
        conn,
        """
        select r.run_id, r.period, r.earned, r.payable, r.ran_at,
               exists (select 1 from finance.period_locks as l where l.period = r.period) as locked
        from finance.payout_runs as r where r.period = %(month)s order by r.run_id desc limit 1""",
        p,
    )
    if not run:
        data.missing["payouts"] = "no_payouts"
        return
    data.payout_run = run[0]
    q = {**p, "run_id": run[0]["run_id"]}
    data.payouts = _rows(
        conn,
        """
        with teams as (
            select distinct on (rep_name) rep_name, manager_name from marts.rep_performance_monthly
            where month <= %(month)s order by rep_name, month desc
        )
        select coalesce(teams.manager_name, s.rep_name) as team, count(*) as reps,
               sum(s.earned) as earned, sum(s.draws) as draws, sum(s.recoveries) as recoveries,
               sum(s.adjustments) as adjustments, sum(s.clawbacks) as clawbacks, sum(s.payable) as payable
        from finance.payout_statements as s left join teams using (rep_name)
        where s.run_id = %(run_id)s group by 1 order by payable desc, team""",
        q,
    )
    data.accruals = _rows(
        conn,
        """
        select period, count(*) as reps, sum(open_deals)::bigint as open_deals,
               sum(expected_bookings) as expected_bookings, sum(expected_commission) as expected_commission
        from finance.payout_projections where run_id = %(run_id)s group by period""",
        q,
    )
    data.adjustments = _rows(
        conn,
        """
        select rep_name, amount, reason, approved_by from finance.payout_adjustments
        where period = %(month)s order by adjustment_id""",
        p,
    )


def total(rows: list[dict], column: str) -> Decimal:
    return sum((Decimal(r[column]) for r in rows if r[column] is not None), Decimal(0))
