-- Activities aggregated per link key (lead id, contact email, opportunity id):
-- what the person- and customer-level models need from the 10M-row activity
-- fact, at a seventh of its rows. Incremental and exact: a run re-aggregates,
-- from int_activities_deduplicated, every link key carried now, or before they
-- replaced an earlier delivery (replaced_link_key), by the rows merged there
-- after the newest merge this model holds (merged_through). Keyed on the merge
-- time of the upstream model, not on batch times: dbt runs the two in order,
-- so there is no commit gap to look back over. A key left with no activity
-- stays as a row with activities = 0, so a later run never has to delete;
-- readers keep activities > 0. A full refresh gives the same rows with
-- activities > 0.
{{
    config(
        materialized='incremental',
        unique_key='link_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['link_key'], 'unique': true},
            {'columns': ['merged_through']},
            {'columns': ['aggregated_at']},
            {'columns': ['lead_id']},
            {'columns': ['contact_email']},
            {'columns': ['opportunity_id']},
        ],
    )
}}

with

{% if is_incremental() -%}
    received as (

        select
            link_key,
            replaced_link_key,
            merged_at
        from {{ ref('int_activities_deduplicated') }}
        where merged_at > (
            select
                coalesce(max(held.merged_through), '-infinity'::timestamptz)
                    as newest_merge
            from {{ this }} as held
        )

    ),

    touched as (

        select
            link_key,
            max(merged_at) as merged_through
        from (
            select
                link_key,
                merged_at
            from received
            union all
            select
                replaced_link_key as link_key,
                merged_at
            from received
            where replaced_link_key is not null
        ) as touched_keys
        group by 1

    ),

    in_scope as (

        select activities.*
        from {{ ref('int_activities_deduplicated') }} as activities
        where activities.link_key in (select touched.link_key from touched)

    ),
{%- else -%}
    in_scope as (

        select * from {{ ref('int_activities_deduplicated') }}

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
        max(merged_at) as merged_through
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
            coalesce(aggregated.merged_through, touched.merged_through)
                as merged_through,
            current_timestamp as aggregated_at
        from touched
        left join aggregated
            on touched.link_key = aggregated.link_key
    {%- else -%}
        select
            *,
            current_timestamp as aggregated_at
        from aggregated
    {%- endif %}

)

select * from final
