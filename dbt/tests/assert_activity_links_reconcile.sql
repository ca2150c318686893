-- The incremental activity aggregates hold every activity exactly once: the
-- per-link aggregate's activity and rep-response totals, and the per-rep-month
-- activity total, equal those of int_activities_deduplicated (an incremental
-- run that missed or double-counted a replaced delivery fails; so does
-- int_rep_activity_months_counted after a full refresh of the activities
-- alone).
with

aggregated as (

    select
        coalesce(sum(activities), 0) as activities,
        coalesce(sum(cardinality(rep_response_times)), 0) as rep_responses
    from {{ ref('int_activity_links_aggregated') }}

),

rep_months as (

    select coalesce(sum(activities), 0) as activities
    from {{ ref('int_rep_activity_months_counted') }}

),

deduplicated as (

    select
        count(*) as activities,
        count(*) filter (where is_rep_response) as rep_responses
    from {{ ref('int_activities_deduplicated') }}

)

select
    aggregated.activities as aggregated_activities,
    rep_months.activities as rep_month_activities,
    deduplicated.activities as deduplicated_activities,
    aggregated.rep_responses as aggregated_rep_responses,
    deduplicated.rep_responses as deduplicated_rep_responses
from aggregated
cross join rep_months
cross join deduplicated
where
    aggregated.activities != deduplicated.activities
    or rep_months.activities != deduplicated.activities
    or aggregated.rep_responses != deduplicated.rep_responses
