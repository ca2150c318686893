-- One row per rep and month (first day of the month) over the whole period of
-- the data: results (won revenue and deals, win rate, deal size, cycle time),
-- activity by type, lead response, satisfaction, quota attainment (once
-- finance.quotas exists), and the trend / comparison columns: month over month,
-- year over year, against the team (same manager) average, and the rank in the
-- team.
with

rep_months as (

    select * from {{ ref('int_rep_months_aggregated') }}

),

quotas as (

    {{ rep_quotas_select() }}

),

measured as (

    select
        rep_months.rep_name,
        rep_months.manager_name,
        rep_months.region,
        rep_months.is_known_rep,
        rep_months.month,
        rep_months.won_revenue,
        rep_months.deals_won,
        rep_months.deals_lost,
        rep_months.deals_engaged,
        rep_months.engaged_list_value,
        rep_months.calls,
        rep_months.emails,
        rep_months.meetings,
        rep_months.tasks,
        rep_months.activities,
        rep_months.leads_assigned,
        rep_months.leads_responded,
        rep_months.leads_converted,
        rep_months.csat_responses,
        quotas.quota,
        {{ performance_ratio_columns('rep_months') }},
        {{ round_ratio(safe_divide('rep_months.won_revenue', 'quotas.quota')) }}
            as attainment
    from rep_months
    left join quotas
        on
            rep_months.rep_name = quotas.rep_name
            and rep_months.month = quotas.month

),

compared as (

    select
        measured.*,
        previous_month.won_revenue as won_revenue_prev_month,
        previous_year.won_revenue as won_revenue_prev_year,
        previous_month.win_rate as win_rate_prev_month,
        previous_month.activities as activities_prev_month,
        make_interval(
            secs => measured.avg_first_response_hours * 3600
        ) as first_response_time,
        avg(measured.won_revenue) over team_month as team_avg_won_revenue,
        avg(measured.win_rate) over team_month as team_avg_win_rate,
        avg(measured.activities) over team_month as team_avg_activities,
        count(*) over team_month as team_reps,
        rank() over (
            partition by measured.manager_name, measured.month
            order by measured.won_revenue desc
        ) as rank_in_team
    from measured
    left join measured as previous_month
        on
            measured.rep_name = previous_month.rep_name
            and measured.month - interval '1 month' = previous_month.month
    left join measured as previous_year
        on
            measured.rep_name = previous_year.rep_name
            and measured.month - interval '1 year' = previous_year.month
    window team_month as (partition by measured.manager_name, measured.month)

),

final as (

    select
        rep_name,
        manager_name,
        region,
        month,
        won_revenue,
        deals_won,
        deals_lost,
        win_rate,
        avg_deal_size,
        avg_days_to_close,
        deals_engaged,
        engaged_list_value,
        calls,
        emails,
        meetings,
        tasks,
        activities,
        leads_assigned,
        leads_responded,
        leads_converted,
        first_response_time,
        avg_first_response_hours,
        csat_responses,
        avg_csat,
        quota,
        attainment,
        {{ revenue_trend_columns() }},
        activities - activities_prev_month as activities_mom_change,
        {{ round_money('team_avg_won_revenue') }} as team_avg_won_revenue,
        {{ round_money('won_revenue - team_avg_won_revenue') }}
            as won_revenue_vs_team_avg,
        {{ round_ratio('team_avg_win_rate') }} as team_avg_win_rate,
        {{ round_ratio('win_rate - team_avg_win_rate') }}
            as win_rate_vs_team_avg,
        {{ round_money('team_avg_activities') }} as team_avg_activities,
        team_reps,
        rank_in_team,
        is_known_rep
    from compared

)

select * from final
