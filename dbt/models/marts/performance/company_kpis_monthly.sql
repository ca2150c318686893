-- One row per month of the data: the company's headline figures. Deals (won
-- revenue, won and lost, win rate, deal size, days to close) are the rep
-- months summed; quota is the reps' quotas (once finance.quotas exists);
-- orders are the ERP orders by order date, cancelled and refunded ones left
-- out; CSAT and NPS count every survey answer of the month, whoever it names.
with

rep_months as (

    select * from {{ ref('int_rep_months_aggregated') }}

),

quotas as (

    {{ rep_quotas_select() }}

),

orders as (

    select * from {{ ref('stg_orders__orders') }}

),

survey_responses as (

    select * from {{ ref('stg_surveys__responses') }}

),

deal_months as (

    select
        rep_months.month,
        sum(rep_months.won_revenue) as won_revenue,
        sum(rep_months.deals_won)::bigint as deals_won,
        sum(rep_months.deals_lost)::bigint as deals_lost,
        sum(rep_months.won_days_to_close) as won_days_to_close,
        sum(rep_months.won_deals_with_days)::bigint as won_deals_with_days,
        sum(quotas.quota) as quota
    from rep_months
    left join quotas
        on
            rep_months.rep_name = quotas.rep_name
            and rep_months.month = quotas.month
    group by 1

),

order_months as (

    select
        date_trunc('month', order_date)::date as month,
        count(*) as orders,
        sum(amount_usd) as order_revenue
    from orders
    where is_revenue and order_date is not null
    group by 1

),

survey_months as (

    select
        date_trunc('month', responded_at)::date as month,
        count(*) filter (where is_valid_csat) as csat_responses,
        sum(score) filter (where is_valid_csat) as csat_score_sum,
        count(*) filter (
            where survey_type = 'nps' and score between 0 and 10
        ) as nps_responses,
        count(*) filter (
            where survey_type = 'nps' and score between 9 and 10
        ) as promoters,
        count(*) filter (
            where survey_type = 'nps' and score between 0 and 6
        ) as detractors
    from survey_responses
    where responded_at is not null
    group by 1

),

final as (

    select
        deal_months.month,
        deal_months.won_revenue,
        deal_months.deals_won,
        deal_months.deals_lost,
        {{ round_ratio(safe_divide(
            'deal_months.deals_won',
            'deal_months.deals_won + deal_months.deals_lost'
        )) }} as win_rate,
        {{ round_money(safe_divide(
            'deal_months.won_revenue', 'deal_months.deals_won'
        )) }} as avg_deal_size,
        {{ round_duration(safe_divide(
            'deal_months.won_days_to_close', 'deal_months.won_deals_with_days'
        )) }} as avg_days_to_close,
        coalesce(order_months.orders, 0) as orders,
        coalesce(order_months.order_revenue, 0) as order_revenue,
        coalesce(survey_months.csat_responses, 0) as csat_responses,
        {{ round_money(safe_divide(
            'survey_months.csat_score_sum', 'survey_months.csat_responses'
        )) }} as avg_csat,
        coalesce(survey_months.nps_responses, 0) as nps_responses,
        {{ round_money(safe_divide(
            '100.0 * (survey_months.promoters - survey_months.detractors)',
            'survey_months.nps_responses'
        )) }} as nps,
        deal_months.quota,
        {{ round_ratio(safe_divide(
            'deal_months.won_revenue', 'deal_months.quota'
        )) }} as attainment
    from deal_months
    left join order_months
        on deal_months.month = order_months.month
    left join survey_months
        on deal_months.month = survey_months.month

)

select * from final
