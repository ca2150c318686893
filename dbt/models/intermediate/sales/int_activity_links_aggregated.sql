-- Activities aggregated per link key (lead id, contact email, opportunity id):
-- what the person- and customer-level models need from the 10M-row activity
-- fact, at a seventh of its rows. Incremental and exact: of the link keys the
-- rows merged into int_activities_deduplicated after the newest merge this
-- model holds (merged_through) carry, or carried before they replaced an
-- earlier delivery (replaced_link_key), a run re-aggregates from all their rows
-- the keys a replacement touched, and merges the new rows into the held
-- aggregate of the others (counts add, response times merge in order): most
-- keys a delta touches (an opportunity's hundreds of activities) only gain a
-- few. Keyed on the merge
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
            lead_id,
            contact_email,
            opportunity_id,
            occurred_at,
            is_rep_response,
            merged_at
        from {{ ref('int_activities_deduplicated') }}
        where merged_at > (
            select
                coalesce(max(held.merged_through), '-infinity'::timestamptz)
                    as newest_merge
            from {{ this }} as held
        )

    ),

    -- keys whose aggregate a replaced delivery is part of (the replaced key,
    -- and the key of the row that replaced it): counted again from all rows
    recounted as (

        select
            link_key,
            max(merged_at) as merged_through
        from (
            select
                link_key,
                merged_at
            from received
            where replaced_link_key is not null
            union all
            select
                replaced_link_key as link_key,
                merged_at
            from received
            where replaced_link_key is not null
        ) as replaced_keys
        group by 1

    ),

    in_scope as (

        select activities.*
        from {{ ref('int_activities_deduplicated') }} as activities
        where activities.link_key in (select recounted.link_key from recounted)

    ),

    -- every other key the run touched only gained new activities: their
    -- aggregate is merged into the one held (counts add, response times merge)
    added as (

        select
            link_key,
            {{ link_aggregates() }}
        from received
        where
            link_key not in (select recounted.link_key from recounted)
        group by 1

    ),
{%- else -%}
    in_scope as (

        select * from {{ ref('int_activities_deduplicated') }}

    ),
{%- endif %}

aggregated as (

    select
        link_key,
        {{ link_aggregates() }}
    from in_scope
    group by 1

),

final as (

    {% if is_incremental() -%}
        select
            recounted.link_key,
            aggregated.lead_id,
            aggregated.contact_email,
            aggregated.opportunity_id,
            aggregated.last_activity_at,
            aggregated.rep_response_times,
            coalesce(aggregated.activities, 0) as activities,
            coalesce(aggregated.merged_through, recounted.merged_through)
                as merged_through,
            current_timestamp as aggregated_at
        from recounted
        left join aggregated
            on recounted.link_key = aggregated.link_key
        union all
        select
            added.link_key,
            least(held.lead_id, added.lead_id) as lead_id,
            least(held.contact_email, added.contact_email) as contact_email,
            least(held.opportunity_id, added.opportunity_id) as opportunity_id,
            greatest(held.last_activity_at, added.last_activity_at)
                as last_activity_at,
            case
                when
                    held.rep_response_times is not null
                    or added.rep_response_times is not null
                    then array(
                        select merged_times.responded_at
                        from
                            unnest(
                                held.rep_response_times
                                || added.rep_response_times
                            ) as merged_times (responded_at)
                        order by 1
                    )
            end as rep_response_times,
            coalesce(held.activities, 0) + added.activities as activities,
            added.merged_through,
            current_timestamp as aggregated_at
        from added
        left join {{ this }} as held
            on added.link_key = held.link_key
    {%- else -%}
        select
            *,
            current_timestamp as aggregated_at
        from aggregated
    {%- endif %}

)

select * from final
