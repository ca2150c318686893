-- Won revenue (USD) of every series the revenue forecast covers, per month:
-- the actuals forecasts are compared with. Reps as in the performance marts
-- (every rep x month, zeros included), their teams (managers) and regions,
-- the company, and products (won deals with a USD amount, by close month).
-- Names and fallbacks match ml/forecast/hierarchy.py.
with

rep_months as (

    select * from {{ ref('int_rep_months_aggregated') }}

),

opportunities as (

    select * from {{ ref('int_opportunities_joined') }}

),

reps as (

    select
        'rep' as hierarchy_level,
        rep_name as series_key,
        month as period,
        won_revenue as actual
    from rep_months
    where rep_name is not null

),

teams as (

    select
        'team' as hierarchy_level,
        coalesce(manager_name, '(no team)') as series_key,
        month as period,
        sum(won_revenue) as actual
    from rep_months
    where rep_name is not null
    group by 2, 3

),

regions as (

    select
        'region' as hierarchy_level,
        coalesce(region, '(no region)') as series_key,
        month as period,
        sum(won_revenue) as actual
    from rep_months
    where rep_name is not null
    group by 2, 3

),

company as (

    select
        'company' as hierarchy_level,
        'all' as series_key,
        month as period,
        sum(won_revenue) as actual
    from rep_months
    where rep_name is not null
    group by 3

),

products as (

    select
        'product' as hierarchy_level,
        coalesce(product_name, '(unknown)') as series_key,
        closed_month as period,
        sum(amount_usd) as actual
    from opportunities
    where is_won and closed_month is not null and amount_usd is not null
    group by 2, 3

),

final as (

    select * from reps
    union all
    select * from teams
    union all
    select * from regions
    union all
    select * from company
    union all
    select * from products

)

select * from final
