-- One row per sales team (manager) and month: the rep measures summed over the
-- team, the same ratios, quota attainment (sum of the reps' quotas, once
-- finance.quotas exists), month over month, year over year, against the average
-- team of the region and the rank in the region. Reps the teams file does not
-- know are grouped under '(no manager)' so no result is dropped.
with

rep_months as (

    select * from {{ ref('int_rep_months_aggregated') }}

),

quotas as (

    {{ rep_quotas_select() }}

),

team_months as (

    select
        rep_months.month,
        coalesce(rep_months.manager_name, '(no manager)') as manager_name,
        coalesce(rep_months.region, '(no region)') as region,
        count(*) as reps,
        sum(rep_months.won_revenue) as won_revenue,
        sum(rep_months.deals_won)::bigint as deals_won,
        sum(rep_months.deals_lost)::bigint as deals_lost,
        sum(rep_months.won_days_to_close) as won_days_to_close,
        sum(rep_months.won_deals_with_days)::bigint as won_deals_with_days,
        sum(rep_months.deals_engaged)::bigint as deals_engaged,
        sum(rep_months.engaged_list_value) as engaged_list_value,
        sum(rep_months.calls)::bigint as calls,
        sum(rep_months.emails)::bigint as emails,
        sum(rep_months.meetings)::bigint as meetings,
        sum(rep_months.tasks)::bigint as tasks,
        sum(rep_months.activities)::bigint as activities,
        sum(rep_months.leads_assigned)::bigint as leads_assigned,
        sum(rep_months.leads_responded)::bigint as leads_responded,
        sum(rep_months.leads_converted)::bigint as leads_converted,
        sum(rep_months.first_response_hours_sum) as first_response_hours_sum,
        sum(rep_months.csat_responses)::bigint as csat_responses,
        sum(rep_months.csat_score_sum) as csat_score_sum,
        sum(quotas.quota) as quota
    from rep_months
    left join quotas
        on
            rep_months.rep_name = quotas.rep_name
            and rep_months.month = quotas.month
    group by 1, 2, 3

),

measured as (

    select
        manager_name,
        region,
        month,
        reps,
        won_revenue,
        deals_won,
        deals_lost,
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
        csat_responses,
        quota,
        {{ performance_ratio_columns() }},
        {{ round_ratio(safe_divide('won_revenue', 'quota')) }} as attainment
    from team_months

),

compared as (

    select
        measured.*,
        previous_month.won_revenue as won_revenue_prev_month,
        previous_year.won_revenue as won_revenue_prev_year,
        previous_month.win_rate as win_rate_prev_month,
        make_interval(
            secs => measured.avg_first_response_hours * 3600
        ) as first_response_time,
        avg(measured.won_revenue) over region_month as region_avg_won_revenue,
        avg(measured.win_rate) over region_month as region_avg_win_rate,
        count(*) over region_month as region_teams,
        rank() over (
            partition by measured.region, measured.month
            order by measured.won_revenue desc
        ) as rank_in_region
    from measured
    left join measured as previous_month
        on
            measured.manager_name = previous_month.manager_name
            and measured.region = previous_month.region
            and measured.month - interval '1 month' = previous_month.month
    left join measured as previous_year
        on
            measured.manager_name = previous_year.manager_name
            and measured.region = previous_year.region
            and measured.month - interval '1 year' = previous_year.month
    window region_month as (partition by measured.region, measured.month)

),

final as (

    select
        manager_name,
        region,
        month,
        reps,
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
        {{ round_money('region_avg_won_revenue') }} as region_avg_won_revenue,
        {{ round_money('won_revenue - region_avg_won_revenue') }}
            as won_revenue_vs_region_avg,
        {{ round_ratio('region_avg_win_rate') }} as region_avg_win_rate,
        {{ round_ratio('win_rate - region_avg_win_rate') }}
            as win_rate_vs_region_avg,
        region_teams,
        rank_in_region
    from compared

)

select * from final
