-- Open pipeline by forecast category, rep and month: each open opportunity's
-- latest win probability (ml.opportunity_scores) puts it in the category of
-- its band (seeds/forecast_categories.csv) unless a manager overrode it
-- (finance.forecast_category_overrides); the deals won in the scoring month
-- are 'closed'. Values in USD; a deal without an amount counts its list price.
with

scores as (

    select * from {{ ref('stg_ml__opportunity_scores') }}
    where is_latest

),

opportunities as (

    select * from {{ ref('fct_opportunities') }}

),

bands as (

    select * from {{ ref('forecast_categories') }}

),

overrides as (

    select * from {{ ref('stg_finance__forecast_category_overrides') }}

),

open_deals as (

    select
        opportunities.rep_name,
        opportunities.manager_name,
        opportunities.region,
        scores.expected_revenue,
        date_trunc('month', scores.as_of_date)::date as forecast_month,
        coalesce(overrides.forecast_category, bands.forecast_category)
            as forecast_category,
        overrides.opportunity_id is not null as is_overridden,
        coalesce(opportunities.amount_usd, opportunities.list_price_usd)
            as deal_value_usd
    from scores
    inner join opportunities
        on scores.opportunity_id = opportunities.opportunity_id
    left join bands
        on
            scores.probability >= bands.min_probability
            and scores.probability < bands.max_probability
    left join overrides
        on scores.opportunity_id = overrides.opportunity_id
    where not opportunities.is_closed

),

scoring_month as (

    select max(forecast_month) as forecast_month
    from open_deals

),

won as (

    select
        opportunities.rep_name,
        opportunities.manager_name,
        opportunities.region,
        opportunities.amount_usd as expected_revenue,
        opportunities.closed_month as forecast_month,
        'closed' as forecast_category,
        false as is_overridden,
        opportunities.amount_usd as deal_value_usd
    from opportunities
    inner join scoring_month
        on opportunities.closed_month = scoring_month.forecast_month
    where opportunities.is_won

),

unioned as (

    select * from open_deals
    union all
    select * from won

),

final as (

    select
        forecast_month,
        forecast_category,
        manager_name,
        region,
        coalesce(rep_name, '(no rep)') as rep_name,
        count(*) as deals,
        count(*) filter (where is_overridden) as deals_overridden,
        coalesce(sum(deal_value_usd), 0) as deal_value_usd,
        coalesce(sum(expected_revenue), 0) as expected_revenue
    from unioned
    group by 1, 2, 3, 4, 5

)

select * from final
