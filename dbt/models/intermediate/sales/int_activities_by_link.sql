-- Activities aggregated per link key (lead id, contact email, opportunity id):
-- what the person- and customer-level models need from the 10M-row activity
-- fact, at a seventh of its rows. Incremental and exact: a run re-aggregates,
-- from int_activities_deduplicated, every link key that the activities it
-- received since the newest batch held here (minus the lookback) carry now or
-- carried before they were replaced (replaced_link_key). A key left with no
-- activity stays as a row with activities = 0, so a later run never has to
-- delete; readers keep activities > 0. A full refresh gives the same rows with
-- activities > 0.
{{
    config(
        materialized='incremental',
        unique_key='link_key',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['link_key'], 'unique': true},
            {'columns': ['batch_finished_at']},
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
            batch_finished_at
        from activities
        where batch_finished_at > (
            select
                coalesce(max(held.batch_finished_at), '-infinity'::timestamptz)
                - interval '{{ var("incremental_lookback") }}'
            from {{ this }} as held
        )

    ),

    touched as (

        select
            link_key,
            max(batch_finished_at) as batch_finished_at
        from (
            select
                link_key,
                batch_finished_at
            from received
            union all
            select
                replaced_link_key as link_key,
                batch_finished_at
            from received
            where replaced_link_key is not null
        ) as touched_keys
        group by 1

    ),

    in_scope as (

        select activities.*
        from activities
        where activities.link_key in (select touched.link_key from touched)

    ),
{%- else -%}
    in_scope as (

        select * from activities

    ),
{%- endif %}

aggregated as (

    select
        link_key,
        min(lead_id) as lead_id,
        min(contact_email) as contact_email,
        min(opportunity_id) as opportunity_id,
        max(occurred_at) as last_activity_at,
        array_agg(occurred_at order by occurred_at)
        filter (where is_rep_response) as rep_response_times,
        count(*) as activities,
        max(batch_finished_at) as batch_finished_at
    from in_scope
    group by 1

),

final as (

    {% if is_incremental() -%}
        select
            touched.link_key,
            aggregated.lead_id,
            aggregated.contact_email,
            aggregated.opportunity_id,
            aggregated.last_activity_at,
            aggregated.rep_response_times,
            coalesce(aggregated.activities, 0) as activities,
            coalesce(aggregated.batch_finished_at, touched.batch_finished_at)
                as batch_finished_at
        from touched
        left join aggregated
            on touched.link_key = aggregated.link_key
    {%- else -%}
        select * from aggregated
    {%- endif %}

)

select * from final
