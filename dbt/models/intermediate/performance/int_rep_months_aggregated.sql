-- The base measures of every rep in every month of the data (a complete rep x
-- month grid, so months without results show zeros and trends have no holes):
-- deals closed (by close month), pipeline engaged, activities by type, leads
-- assigned and their first responses (by lead creation month), CSAT answers
-- naming the rep. Reps are those of the CRM teams file plus any other name
-- found on a deal, an activity, a lead or a survey (kept, with no
-- manager/region), and '(no rep)' for deals and activities that name none, so
-- no result is dropped. The 10M activities (int_rep_activity_months_counted)
-- and 1M leads are read once, into their rep x month counts; the month grid
-- and rep list come from the counts.
{{ config(materialized='table') }}

with

sales_reps as (

    select * from {{ ref('stg_crm_export__sales_reps') }}

),

opportunities as (

    select
        opportunities.*,
        coalesce(opportunities.rep_name, '(no rep)') as credited_rep_name
    from {{ ref('int_opportunities_joined') }} as opportunities

),


leads as (

    select * from {{ ref('int_leads_enriched') }}

),

survey_responses as (

    select * from {{ ref('stg_surveys__responses') }}

),

activity_counts as (

    select * from {{ ref('int_rep_activity_months_counted') }}
    where activities > 0

),

lead_counts as (

    select
        assigned_rep_name as rep_name,
        created_month as month,
        count(*) as leads_assigned,
        count(*) filter (where is_responded) as leads_responded,
        count(*) filter (where is_converted) as leads_converted,
        sum(
            extract(epoch from first_response_time) / 3600
        ) as first_response_hours_sum
    from leads
    -- leads without a rep are kept (as rep null) for the month grid only
    group by 1, 2

),

event_months as (

    select closed_month as month from opportunities
    union
    select {{ month_start('engaged_date') }} as month from opportunities
    union
    select month from activity_counts
    union
    select month from lead_counts
    union
    select {{ month_start(utc_date('responded_at')) }} as month
    from survey_responses

),

months as (

    select
        generate_series(min(month), max(month), interval '1 month')::date
            as month
    from event_months

),

rep_names as (

    select rep_name from sales_reps
    union
    select credited_rep_name as rep_name from opportunities
    union
    select rep_name from activity_counts
    union
    select rep_name from lead_counts
    where rep_name is not null
    union
    select rep_name from survey_responses
    where rep_name is not null

),

reps as (

    select
        rep_names.rep_name,
        sales_reps.manager_name,
        sales_reps.regional_office as region,
        sales_reps.rep_name is not null as is_known_rep
    from rep_names
    left join sales_reps
        on rep_names.rep_name = sales_reps.rep_name

),

closed_deals as (

    select
        credited_rep_name as rep_name,
        closed_month as month,
        count(*) filter (where is_won) as deals_won,
        count(*) filter (where not is_won) as deals_lost,
        coalesce(sum(amount_usd) filter (where is_won), 0) as won_revenue,
        sum(days_to_close) filter (where is_won) as won_days_to_close,
        count(days_to_close) filter (where is_won) as won_deals_with_days
    from opportunities
    where is_closed and closed_month is not null
    group by 1, 2

),

engaged_deals as (

    select
        credited_rep_name as rep_name,
        {{ month_start('engaged_date') }} as month,
        count(*) as deals_engaged,
        coalesce(sum(list_price_usd), 0) as engaged_list_value
    from opportunities
    where engaged_date is not null
    group by 1, 2

),

csat as (

    select
        rep_name,
        {{ month_start(utc_date('responded_at')) }} as month,
        count(*) as csat_responses,
        sum(score) as csat_score_sum
    from survey_responses
    where is_valid_csat and rep_name is not null
    group by 1, 2

),

final as (

    select
        reps.rep_name,
        reps.manager_name,
        reps.region,
        reps.is_known_rep,
        months.month,
        closed_deals.won_days_to_close,
        lead_counts.first_response_hours_sum,
        csat.csat_score_sum,
        coalesce(closed_deals.won_revenue, 0) as won_revenue,
        coalesce(closed_deals.deals_won, 0) as deals_won,
        coalesce(closed_deals.deals_lost, 0) as deals_lost,
        coalesce(closed_deals.won_deals_with_days, 0) as won_deals_with_days,
        coalesce(engaged_deals.deals_engaged, 0) as deals_engaged,
        coalesce(engaged_deals.engaged_list_value, 0) as engaged_list_value,
        coalesce(activity_counts.calls, 0) as calls,
        coalesce(activity_counts.emails, 0) as emails,
        coalesce(activity_counts.meetings, 0) as meetings,
        coalesce(activity_counts.tasks, 0) as tasks,
        coalesce(activity_counts.activities, 0) as activities,
        coalesce(lead_counts.leads_assigned, 0) as leads_assigned,
        coalesce(lead_counts.leads_responded, 0) as leads_responded,
        coalesce(lead_counts.leads_converted, 0) as leads_converted,
        coalesce(csat.csat_responses, 0) as csat_responses
    from reps
    cross join months
    left join closed_deals
        on
            reps.rep_name = closed_deals.rep_name
            and months.month = closed_deals.month
    left join engaged_deals
        on
            reps.rep_name = engaged_deals.rep_name
            and months.month = engaged_deals.month
    left join activity_counts
        on
            reps.rep_name = activity_counts.rep_name
            and months.month = activity_counts.month
    left join lead_counts
        on
            reps.rep_name = lead_counts.rep_name
            and months.month = lead_counts.month
    left join csat
        on
            reps.rep_name = csat.rep_name
            and months.month = csat.month

)

select * from final
