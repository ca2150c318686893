-- Activities per rep and month, by type: the one read of the 10M-row activity
-- fact the performance marts need. A model of its own (not a CTE of
-- int_rep_months_aggregated) so it runs as soon as the activities are merged,
-- beside identity resolution, instead of after the lead models.
-- Incremental: a run adds the rows merged into int_activities_deduplicated
-- after the newest merge it holds (merged_through; dbt runs the two in order,
-- so there is no commit gap) and takes off the deliveries they replaced
-- (replaced_*). A month left with no activity stays as a row of zeros (a
-- delete could take the newest merged_through with it; readers keep
-- activities > 0, as a full refresh has). Counts move by
-- arithmetic, so a full refresh of int_activities_deduplicated alone would
-- count its rows twice: refresh this model with it
-- (assert_activity_links_reconcile compares the totals).
{{
    config(
        materialized='incremental',
        unique_key=['rep_name', 'month'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['rep_name', 'month'], 'unique': true}],
    )
}}


with

merged as (

    select *
    from {{ ref('int_activities_deduplicated') }}
    {% if is_incremental() -%}
        where merged_at > (
            select
                coalesce(max(held.merged_through), '-infinity'::timestamptz)
                    as newest_merge
            from {{ this }} as held
        )
    {%- endif %}

),

-- +1 for every merged row; in an incremental run -1 for the delivery it
-- replaced (a full refresh counts the rows as they are)
changes as (

    select
        activity_type,
        occurred_month as month,
        merged_at,
        1 as count_change,
        coalesce(rep_name, '(no rep)') as rep_name
    from merged
    {% if is_incremental() -%}
        union all
        select
            replaced_activity_type as activity_type,
            replaced_occurred_month as month,
            merged_at,
            -1 as count_change,
            coalesce(replaced_rep_name, '(no rep)') as rep_name
        from merged
        where replaced_activity_type is not null
    {%- endif %}

),

counted as (

    select
        rep_name,
        month,
        max(merged_at) as merged_through,
        sum(count_change * (activity_type = 'call')::int) as calls,
        sum(count_change * (activity_type = 'email')::int) as emails,
        sum(count_change * (activity_type = 'meeting')::int) as meetings,
        sum(count_change * (activity_type = 'task')::int) as tasks,
        sum(count_change) as activities
    from changes
    group by 1, 2

),

final as (

    {% if is_incremental() -%}
        select
            counted.rep_name,
            counted.month,
            counted.merged_through,
            coalesce(held.calls, 0) + counted.calls as calls,
            coalesce(held.emails, 0) + counted.emails as emails,
            coalesce(held.meetings, 0) + counted.meetings as meetings,
            coalesce(held.tasks, 0) + counted.tasks as tasks,
            coalesce(held.activities, 0) + counted.activities as activities
        from counted
        left join {{ this }} as held
            on
                counted.rep_name = held.rep_name
                and counted.month = held.month
    {%- else -%}
        select * from counted
    {%- endif %}

)

select * from final
