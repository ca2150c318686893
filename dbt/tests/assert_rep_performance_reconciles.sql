-- Rep and team performance lose nothing: won revenue, won and lost deals summed
-- over every rep-month (and every team-month) equal those of the closed
-- opportunities.
with

opportunities as (

    select
        coalesce(sum(amount_usd) filter (where is_won), 0) as won_revenue,
        count(*) filter (where is_won) as deals_won,
        count(*) filter (where not is_won) as deals_lost
    from {{ ref('fct_opportunities') }}
    where is_closed and closed_date is not null

),

reps as (

    select
        coalesce(sum(won_revenue), 0) as won_revenue,
        coalesce(sum(deals_won), 0) as deals_won,
        coalesce(sum(deals_lost), 0) as deals_lost
    from {{ ref('rep_performance_monthly') }}

),

teams as (

    select
        coalesce(sum(won_revenue), 0) as won_revenue,
        coalesce(sum(deals_won), 0) as deals_won,
        coalesce(sum(deals_lost), 0) as deals_lost
    from {{ ref('team_performance_monthly') }}

)

select
    opportunities.won_revenue as opportunity_won_revenue,
    reps.won_revenue as rep_won_revenue,
    teams.won_revenue as team_won_revenue
from opportunities
cross join reps
cross join teams
where
    opportunities.won_revenue <> reps.won_revenue
    or opportunities.won_revenue <> teams.won_revenue
    or opportunities.deals_won <> reps.deals_won
    or opportunities.deals_won <> teams.deals_won
    or opportunities.deals_lost <> reps.deals_lost
    or opportunities.deals_lost <> teams.deals_lost
