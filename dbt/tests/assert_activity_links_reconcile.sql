-- The incremental per-link aggregate holds every activity exactly once: its
-- activity and rep-response totals equal those of int_activities_deduplicated
-- (an incremental run that missed or double-counted a replaced delivery fails).
with

aggregated as (

    select
        coalesce(sum(activities), 0) as activities,
        coalesce(sum(cardinality(rep_response_times)), 0) as rep_responses
    from {{ ref('int_activity_links_aggregated') }}

),

deduplicated as (

    select
        count(*) as activities,
        count(*) filter (where is_rep_response) as rep_responses
    from {{ ref('int_activities_deduplicated') }}

)

select
    aggregated.activities as aggregated_activities,
    deduplicated.activities as deduplicated_activities,
    aggregated.rep_responses as aggregated_rep_responses,
    deduplicated.rep_responses as deduplicated_rep_responses
from aggregated
cross join deduplicated
where
    aggregated.activities != deduplicated.activities
    or aggregated.rep_responses != deduplicated.rep_responses
