-- Who works each lead. In order: the owner the source gave it (a CRM lead
-- report), else the CRM owner of the person (identity resolution: the same
-- person already has a rep), else routing by seeds/lead_routing_rules.csv: the
-- lead's country / sales region (from its country, the person's country, else
-- its phone's calling code) picks a regional office (lowest priority number
-- wins), then round-robin over that office's reps in name order, in order of
-- first delivery (first_loaded_at, created_at, lead_key).
-- Routing is sticky, as in a CRM: an incremental run re-derives only the leads
-- of the people changed since its last run (contacts_changed_since); a routed
-- lead still unowned in the same office keeps its queue position and rep, and
-- newly routed leads join the end of the office's queue. --full-refresh
-- re-routes every lead from scratch.
-- depends_on: {{ ref('int_company_customers_tracked') }}
-- depends_on: {{ ref('int_contact_records_unioned') }}
-- depends_on: {{ ref('int_contact_records_clustered') }}
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
    affected_contacts as (

        {{ contacts_changed_since(last_refresh()) }}

    ),
{%- endif %}

clusters as (

    {{ rows_of_contacts(ref('int_contact_records_clustered')) }}

),

leads as (

    select *
    from {{ ref('int_leads_unioned') }}
    {% if is_incremental() -%}
        where lead_key = any(array(select clusters.record_key from clusters))
    {%- endif %}

),

contacts as (

    {{ rows_of_contacts(ref('int_contacts_resolved'), contacts='clusters') }}

),

{% if is_incremental() -%}
    held_queue as (

        -- leads routed before, and the end of each office's queue
        select
            lead_key,
            routed_regional_office,
            queue_position,
            assigned_rep_name
        from {{ this }}
        where
            assignment_method = 'round_robin'
            and lead_key = any(array(select leads.lead_key from leads))

    ),

    queue_ends as (

        select
            routed_regional_office as regional_office,
            max(queue_position) as queue_end
        from {{ this }}
        group by 1

    ),
{%- endif %}

sales_reps as (

    select * from {{ ref('stg_crm_export__sales_reps') }}

),

routing_rules as (

    select * from {{ ref('lead_routing_rules') }}

),

country_regions as (

    select * from {{ ref('country_regions') }}

),

calling_code_regions as (

    -- a calling code that points at one sales region (+1 -> Americas, +86 ->
    -- APAC)
    select
        calling_code,
        min(region) as region
    from country_regions
    group by 1
    having count(distinct region) = 1

),

leads_with_contacts as (

    select
        leads.lead_key,
        leads.created_at,
        leads.first_loaded_at,
        leads.owner_name,
        clusters.contact_id,
        contacts.crm_owner_name,
        coalesce(leads.country_code, contacts.country_code)
            as routing_country_code,
        coalesce(leads.region, contacts.region, phone_region.region)
            as routing_region
    from leads
    left join clusters
        on leads.lead_key = clusters.record_key
    left join contacts
        on clusters.contact_id = contacts.contact_id
    -- calling codes are a prefix code (ITU E.164): at most one matches
    left join calling_code_regions as phone_region
        on leads.phone like '+' || phone_region.calling_code || '%'

),

unowned as (

    select distinct on (leads_with_contacts.lead_key)
        leads_with_contacts.lead_key,
        leads_with_contacts.created_at,
        leads_with_contacts.first_loaded_at,
        routing_rules.regional_office,
        routing_rules.priority as routing_rule_priority
    from leads_with_contacts
    inner join routing_rules
        on
            (
                routing_rules.country_code is null
                or leads_with_contacts.routing_country_code
                = routing_rules.country_code
            )
            and (
                routing_rules.region is null
                or leads_with_contacts.routing_region = routing_rules.region
            )
    where
        leads_with_contacts.owner_name is null
        and leads_with_contacts.crm_owner_name is null
    order by 1, 5, 4

),

office_reps as (

    select
        regional_office,
        rep_name,
        row_number() over (
            partition by regional_office order by rep_name
        ) as rep_slot,
        count(*) over (partition by regional_office) as office_reps
    from sales_reps

),

{% if is_incremental() -%}
    kept as (

        select
            unowned.*,
            held_queue.queue_position,
            held_queue.assigned_rep_name as rep_name
        from unowned
        inner join held_queue
            on
                unowned.lead_key = held_queue.lead_key
                and unowned.regional_office = held_queue.routed_regional_office

    ),
{%- endif %}

queued as (

    -- in an incremental run, leads routed before keep their place (kept) and
    -- the others join the end of their office's queue
    select
        unowned.*,
        {% if is_incremental() -%}
            coalesce(queue_ends.queue_end, 0) +
        {%- endif %}
        row_number() over (
            partition by unowned.regional_office
            order by
                unowned.first_loaded_at,
                unowned.created_at,
                unowned.lead_key
        ) as queue_position
    from unowned
    {% if is_incremental() -%}
        left join queue_ends
            on unowned.regional_office = queue_ends.regional_office
        where
            not exists (
                select from kept
                where kept.lead_key = unowned.lead_key
            )
    {%- endif %}

),

routed as (

    select
        queued.lead_key,
        queued.regional_office,
        queued.routing_rule_priority,
        queued.queue_position,
        office_reps.rep_name
    from queued
    left join office_reps
        on
            queued.regional_office = office_reps.regional_office
            and (queued.queue_position - 1) % office_reps.office_reps + 1
            = office_reps.rep_slot
    {% if is_incremental() -%}
        union all
        select
            lead_key,
            regional_office,
            routing_rule_priority,
            queue_position,
            rep_name
        from kept
    {%- endif %}

),

final as (

    select
        leads_with_contacts.lead_key,
        leads_with_contacts.contact_id,
        routed.regional_office as routed_regional_office,
        routed.routing_rule_priority,
        leads_with_contacts.routing_country_code,
        leads_with_contacts.routing_region,
        routed.queue_position,
        coalesce(
            leads_with_contacts.owner_name,
            leads_with_contacts.crm_owner_name,
            routed.rep_name
        ) as assigned_rep_name,
        case
            when leads_with_contacts.owner_name is not null then 'lead_owner'
            when leads_with_contacts.crm_owner_name is not null
                then 'contact_owner'
            when routed.rep_name is not null then 'round_robin'
            else 'unassigned'
        end as assignment_method,
        current_timestamp as refreshed_at
    from leads_with_contacts
    left join routed
        on leads_with_contacts.lead_key = routed.lead_key

)

select * from final
