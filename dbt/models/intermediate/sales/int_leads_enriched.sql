-- Every lead with the person it belongs to, the customer, the rep who works it
-- (routed when the source gave no owner), the first rep response (the first
-- call, email or meeting that is not inbound, at or after the lead's creation,
-- to that person) and the opportunity it converted into: a CRM lead's own
-- converted opportunity; a channel lead is credited with its person's first
-- opportunity when it is the person's first touch.
-- Incremental: a run re-derives every lead of the people changed since its
-- last run (contacts_changed_since), of the people whose rep responses changed
-- (activity links resolved since then) and of the leads routed since then.
-- depends_on: {{ ref('int_company_customers_tracked') }}
-- depends_on: {{ ref('int_contact_records_unioned') }}
-- depends_on: {{ ref('int_contact_records_clustered') }}
-- depends_on: {{ ref('int_activity_links_resolved') }}
{{
    config(
        materialized='incremental',
        unique_key='lead_key',
        incremental_strategy='delete+insert',
        pre_hook=["{{ plan_for_change_sets() }}"],
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['lead_key'], 'unique': true},
            {'columns': ['refreshed_at']},
        ],
    )
}}

with

{% if is_incremental() -%}
    {%- set since = last_refresh() %}
    affected_contacts as (

        {{ contacts_changed_since(since, responses=true) }}
        union
        select contact_id
        from {{ ref('int_leads_routed') }}
        where refreshed_at > {{ since }}

    ),

    lead_keys as (

        {{ rows_of_contacts(
            ref('int_contact_records_clustered'),
            columns='record_key as lead_key',
        ) }}

    ),
{%- endif %}

leads as (

    select *
    from {{ ref('int_leads_unioned') }}
    {% if is_incremental() -%}
        where lead_key = any(array(select lead_keys.lead_key from lead_keys))
    {%- endif %}

),

routed as (

    select *
    from {{ ref('int_leads_routed') }}
    {% if is_incremental() -%}
        where lead_key = any(array(select lead_keys.lead_key from lead_keys))
    {%- endif %}

),

contacts as (

    {{ rows_of_contacts(ref('int_contacts_resolved')) }}

),

rep_responses as (

    {{ rows_of_contacts(ref('int_rep_responses_unnested')) }}

),

company_customers as (

    select * from {{ ref('int_company_customers_mapped') }}

),

leads_with_people as (

    select
        leads.*,
        routed.contact_id,
        routed.assigned_rep_name,
        routed.assignment_method,
        routed.routed_regional_office,
        row_number() over (
            partition by routed.contact_id
            order by
                leads.created_date,
                leads.channel = 'crm_export',
                leads.created_at,
                leads.lead_key
        ) = 1 as is_first_touch
    from leads
    inner join routed
        on leads.lead_key = routed.lead_key

),

first_responses as (

    select
        leads_with_people.lead_key,
        min(rep_responses.responded_at) as first_response_at
    from leads_with_people
    inner join rep_responses
        on
            leads_with_people.contact_id = rep_responses.contact_id
            and leads_with_people.created_at <= rep_responses.responded_at
    group by 1

),

final as (

    select
        leads_with_people.lead_key,
        leads_with_people.lead_id,
        leads_with_people.channel,
        leads_with_people.acquisition_channel,
        leads_with_people.created_at,
        leads_with_people.created_date,
        {{ month_start('leads_with_people.created_date') }} as created_month,
        leads_with_people.contact_id,
        coalesce(lead_customers.customer_id, contacts.customer_id)
            as customer_id,
        leads_with_people.company_name,
        leads_with_people.country,
        leads_with_people.region,
        leads_with_people.campaign,
        leads_with_people.lead_source,
        leads_with_people.lead_status,
        leads_with_people.owner_name as source_owner_name,
        leads_with_people.assigned_rep_name,
        leads_with_people.assignment_method,
        leads_with_people.is_first_touch,
        first_responses.first_response_at,
        first_responses.first_response_at - leads_with_people.created_at
            as first_response_time,
        {{ round_duration(
            "extract(epoch from first_responses.first_response_at"
            ~ " - leads_with_people.created_at) / 3600"
        ) }} as first_response_hours,
        first_responses.first_response_at is not null as is_responded,
        coalesce(
            leads_with_people.converted_opportunity_id,
            case
                when leads_with_people.is_first_touch
                    then contacts.first_opportunity_id
            end
        ) as opportunity_id,
        leads_with_people.converted_opportunity_id is not null
        or (
            leads_with_people.is_first_touch
            and contacts.first_opportunity_id is not null
        ) as is_converted,
        leads_with_people.batch_id,
        leads_with_people.first_loaded_at,
        leads_with_people.loaded_at,
        current_timestamp as refreshed_at
    from leads_with_people
    left join contacts
        on leads_with_people.contact_id = contacts.contact_id
    left join company_customers as lead_customers
        on leads_with_people.company_key = lead_customers.company_key
    left join first_responses
        on leads_with_people.lead_key = first_responses.lead_key

)

select * from final
