-- Activity link keys resolved to the person and the customer they concern: the
-- contact through the CRM lead id (else the contact email, else the
-- opportunity's converted lead), the customer through the opportunity's
-- customer (else the contact's). Resolved per link key rather than per
-- activity, so identity changes re-link 1.4M keys, not 10M activities.
-- Incremental: a run resolves again the keys aggregated since its last run,
-- the keys of the people changed since then (contacts_changed_since: their
-- contact or customer may have moved), the keys a re-resolved record now
-- resolves (its CRM lead id, its email) and the keys of opportunities whose
-- contact or customer changed (changed_at: when a key's resolution last
-- changed). Keys left without activities are deleted.
-- depends_on: {{ ref('int_company_customers_tracked') }}
-- depends_on: {{ ref('int_contact_records_unioned') }}
-- depends_on: {{ ref('int_contact_records_clustered') }}
{{
    config(
        materialized='incremental',
        unique_key='link_key',
        incremental_strategy='delete+insert',
        pre_hook=["{{ plan_for_change_sets() }}"],
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['link_key'], 'unique': true},
            {'columns': ['contact_id']},
            {'columns': ['refreshed_at']},
            {'columns': ['changed_at']},
        ],
        post_hook=["delete from {{ this }} where activities = 0"],
    )
}}

with

opportunities as (

    select * from {{ ref('int_opportunities_joined') }}

),

{% if is_incremental() -%}
    {%- set since = last_refresh() %}
    re_resolved as (

        select
            record_key,
            email_key
        from {{ ref('int_contact_records_clustered') }}
        where resolved_at > {{ since }}

    ),

    affected_contacts as (

        {{ contacts_changed_since(since) }}

    ),

    affected_keys as (

        select link_key
        from {{ ref('int_activity_links_aggregated') }}
        where aggregated_at > {{ since }}
        union
        {{ rows_of_contacts(this, columns='link_key') }}
        union
        select link_key
        from {{ ref('int_activity_links_aggregated') }}
        where
            -- by the indexed columns: `= any` over an unindexed expression
            -- scans the whole array for every row
            lead_id = any(
                array(
                    select
                        substr(
                            re_resolved.record_key, length('crm_export:') + 1
                        ) as lead_id
                    from re_resolved
                    where re_resolved.record_key like 'crm\_export:%'
                )
            )
            or contact_email = any(
                array(select re_resolved.email_key from re_resolved)
            )
        union
        select held.link_key
        from {{ this }} as held
        inner join opportunities
            on held.opportunity_id = opportunities.opportunity_id
        where
            held.opportunity_contact_id
            is distinct from opportunities.contact_id
            or held.opportunity_customer_id
            is distinct from opportunities.customer_id
        union
        select link_key
        from {{ ref('int_activity_links_aggregated') }}
        where
            opportunity_id = any(
                array(
                    select opportunities.opportunity_id
                    from opportunities
                    inner join affected_contacts
                        on
                            opportunities.contact_id
                            = affected_contacts.contact_id
                )
            )

    ),

    activity_links as (

        -- keys left without activities come through, for the post-hook to
        -- delete
        select *
        from {{ ref('int_activity_links_aggregated') }}
        where
            link_key = any(
                array(select affected_keys.link_key from affected_keys)
            )

    ),

    held as (

        select *
        from {{ this }}
        where
            link_key = any(
                array(select affected_keys.link_key from affected_keys)
            )

    ),

    clusters as (

        select *
        from {{ ref('int_contact_records_clustered') }}
        where
            record_key = any(
                array(
                    select 'crm_export:' || activity_links.lead_id as record_key
                    from activity_links
                    where activity_links.lead_id is not null
                )
            )
            or email_key = any(
                array(select activity_links.contact_email from activity_links)
            )

    ),
{%- else -%}
    activity_links as (

        select * from {{ ref('int_activity_links_aggregated') }}
        where activities > 0

    ),

    clusters as (

        select * from {{ ref('int_contact_records_clustered') }}

    ),
{%- endif %}

contacts as (

    select * from {{ ref('int_contacts_resolved') }}

),

email_contacts as (

    select distinct on (email_key)
        email_key,
        contact_id
    from clusters
    where email_key is not null
    order by 1, 2

),

linked as (

    select
        activity_links.*,
        opportunities.customer_id as opportunity_customer_id,
        opportunities.contact_id as opportunity_contact_id,
        coalesce(
            lead_clusters.contact_id,
            email_contacts.contact_id,
            opportunities.contact_id
        ) as contact_id
    from activity_links
    left join clusters as lead_clusters
        on 'crm_export:' || activity_links.lead_id = lead_clusters.record_key
    left join email_contacts
        on activity_links.contact_email = email_contacts.email_key
    left join opportunities
        on activity_links.opportunity_id = opportunities.opportunity_id

),

resolved as (

    select
        linked.link_key,
        linked.lead_id,
        linked.contact_email,
        linked.opportunity_id,
        linked.contact_id,
        linked.activities,
        linked.last_activity_at,
        linked.rep_response_times,
        -- what the opportunity gave: a later run compares
        linked.opportunity_contact_id,
        linked.opportunity_customer_id,
        coalesce(linked.opportunity_customer_id, contacts.customer_id)
            as customer_id,
        current_timestamp as refreshed_at
    from linked
    left join contacts
        on linked.contact_id = contacts.contact_id

),

final as (

    {% if is_incremental() -%}
        -- when the key's resolution last changed (refreshed_at: when a run
        -- last wrote it, the watermark): the models downstream re-derive the
        -- people whose rep responses changed
        select
            resolved.*,
            {{ stamp_unless_changed('resolved', 'held', 'changed_at', [
                'lead_id',
                'contact_email',
                'opportunity_id',
                'contact_id',
                'activities',
                'last_activity_at',
                'rep_response_times',
                'opportunity_contact_id',
                'opportunity_customer_id',
                'customer_id'
            ], 'resolved.refreshed_at') }} as changed_at
        from resolved
        left join held
            on resolved.link_key = held.link_key
    {%- else -%}
        select
            *,
            refreshed_at as changed_at
        from resolved
    {%- endif %}

)

select * from final
