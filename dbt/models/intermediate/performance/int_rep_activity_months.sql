-- Activities per rep and month, by type: the one read of the 10M-row activity
-- fact the performance marts need. A model of its own (not a CTE of
-- int_rep_months_aggregated) so it runs as soon as the activities are merged,
-- beside identity resolution, instead of after the lead models.
{{ config(materialized='table') }}

with

activities as (

    select
        activity_type,
        occurred_month,
        coalesce(rep_name, '(no rep)') as rep_name
    from {{ ref('int_activities_deduplicated') }}

),

final as (

    select
        rep_name,
        occurred_month as month,
        count(*) filter (where activity_type = 'call') as calls,
        count(*) filter (where activity_type = 'email') as emails,
        count(*) filter (where activity_type = 'meeting') as meetings,
        count(*) filter (where activity_type = 'task') as tasks,
        count(*) as activities
    from activities
    group by 1, 2

)

select * from final
