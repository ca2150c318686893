-- The funnel counts every opportunity exactly once: the journeys entering
-- 'prospecting' are all the opportunities of fct_opportunities.
with

funnel as (

    select coalesce(sum(entered), 0) as prospecting_entered
    from {{ ref('funnel_conversion') }}
    where stage = 'prospecting'

),

opportunities as (

    select count(*) as opportunities
    from {{ ref('fct_opportunities') }}

)

select
    funnel.prospecting_entered,
    opportunities.opportunities
from funnel
cross join opportunities
where funnel.prospecting_entered <> opportunities.opportunities
