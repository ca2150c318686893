-- The incremental per-link aggregate holds every activity exactly once: its
-- activity and rep-response totals equal those of int_activities_deduplicated
-- (an incremental run that missed or double-counted a replaced delivery fails).
with

by_link as (

    select
        coalesce(sum(activities), 0) as activities,
        coalesce(sum(cardinality(rep_response_times)), 0) as rep_responses
    from {{ ref('int_activities_by_link') }}

),

deduplicated as (

    select
        count(*) as activities,
        count(*) filter (where is_rep_response) as rep_responses
    from {{ ref('int_activities_deduplicated') }}

)

select
    by_link.activities as by_link_activities,
    deduplicated.activities as deduplicated_activities,
    by_link.rep_responses as by_link_rep_responses,
    deduplicated.rep_responses as deduplicated_rep_responses
from by_link
cross join deduplicated
where
    by_link.activities != deduplicated.activities
    or by_link.rep_responses != deduplicated.rep_responses
