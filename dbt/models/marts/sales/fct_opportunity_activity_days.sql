-- Activities on opportunities per day: what the win probability reads to know
-- how busy a deal was up to a date (counts and recency, nothing after it).
-- One row per activity link key (an opportunity's, alone or with its lead or
-- contact) and day. Incremental and exact: a run recounts, from all their rows,
-- the link keys of the activities merged into int_activities_deduplicated after
-- the newest merge this model holds, and the keys those rows replaced (a
-- re-delivered activity may have moved to another deal or day). A key left with
-- no activity keeps one row with activities = 0 (so a later run never has to
-- delete); readers keep activities > 0. A full refresh gives the same rows with
-- activities > 0.
{{
    config(
        materialized='incremental',
        unique_key='link_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['link_key']},
            {'columns': ['opportunity_id']},
            {'columns': ['last_merged_at']},
        ],
    )
}}

with

activities as (

    select * from {{ ref('int_activities_deduplicated') }}

),

{% if is_incremental() -%}
    received as (

        select
            link_key,
            replaced_link_key,
            opportunity_id,
            merged_at
        from activities
        where merged_at > (
            select
                coalesce(max(held.last_merged_at), '-infinity'::timestamptz)
                    as newest_merge
            from {{ this }} as held
        )

    ),

    recounted as (

        select
            link_key,
            max(merged_at) as last_merged_at
        from (
            select
                link_key,
                merged_at
            from received
            where opportunity_id is not null
            union all
            select
                replaced_link_key as link_key,
                merged_at
            from received
            where replaced_link_key is not null
        ) as touched
        group by 1

    ),

    in_scope as (

        select activities.*
        from activities
        where
            activities.opportunity_id is not null
            and activities.link_key in (
                select recounted.link_key from recounted
            )

    ),
{%- else -%}
    in_scope as (

        select * from activities
        where opportunity_id is not null

    ),
{%- endif %}

counted as (

    select
        link_key,
        opportunity_id,
        occurred_date as activity_date,
        count(*) as activities,
        count(*) filter (where activity_type = 'call') as calls,
        count(*) filter (where activity_type = 'email') as emails,
        count(*) filter (where activity_type = 'meeting') as meetings,
        max(merged_at) as last_merged_at
    from in_scope
    group by 1, 2, 3

),

final as (

    select * from counted
    {% if is_incremental() -%}
        union all
        -- keys the run touched that have no activity on a deal any more
        select
            recounted.link_key,
            null::text as opportunity_id,
            null::date as activity_date,
            0::bigint as activities,
            0::bigint as calls,
            0::bigint as emails,
            0::bigint as meetings,
            recounted.last_merged_at
        from recounted
        where recounted.link_key not in (select counted.link_key from counted)
    {%- endif %}

)

select * from final
