-- Who works each lead. In order: the owner the source gave it (a CRM lead
-- report), else the CRM owner of the person (identity resolution: the same
-- person already has a rep), else the decision salesops made for the lead
-- before, kept in the lead-assignment ledger (ledger.lead_assignments: its
-- latest row), else routing by seeds/lead_routing_rules.csv: the lead's
-- country / sales region (from its country, the person's country, else its
-- phone's calling code) picks a regional office (lowest priority number wins),
-- then round-robin over that office's reps in name order, in order of first
-- delivery (first_loaded_at, created_at, lead_key), after the office's last
-- queue position in the ledger.
-- Routing is sticky, as in a CRM: a routing decision is made once and recorded
-- in the append-only ledger by the post-hook (macros/ledger.sql), outside
-- dbt's rebuildable tables, so neither an incremental run nor --full-refresh
-- moves a lead to another rep, whatever reps join or leave or the order leads
-- arrive in; a rep who left keeps their leads until someone re-assigns them.
-- An incremental run re-derives only the leads of the people changed since
-- its last run (contacts_changed_since) and of the leads re-assigned in the
-- ledger since then.
-- depends_on: {{ ref('int_company_customers_tracked') }}
-- depends_on: {{ ref('int_contact_records_unioned') }}
-- depends_on: {{ ref('int_contact_records_clustered') }}
{{
    config(
        materialized='incremental',
        unique_key='lead_key',
        incremental_strategy='delete+insert',
        pre_hook=[
            "{{ plan_for_change_sets() }}",
            "{{ lock_ledger('lead_assignments') }}",
        ],
        post_hook=["{{ record_lead_assignments() }}"],
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
        union
        -- and the people of the leads someone re-assigned in the ledger since
        select reassigned.contact_id
        from {{ ref('int_contact_records_clustered') }} as reassigned
        where
            reassigned.record_key = any(array(
                select ledger_rows.lead_key
                from {{ ref('stg_ledger__lead_assignments') }} as ledger_rows
                where
                    ledger_rows.assignment_method = 'reassigned'
                    and ledger_rows.assigned_at > {{ last_refresh() }}
            ))

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

assignments as (

    select * from {{ ref('stg_ledger__lead_assignments') }}

),

queue_ends as (

    -- the last position each office's queue gave out
    select
        routed_regional_office as regional_office,
        max(queue_position) as queue_end
    from assignments
    group by 1

),

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

    -- leads without an owner from the source data: salesops decides who
    -- works them
    select
        lead_key,
        created_at,
        first_loaded_at,
        routing_country_code,
        routing_region
    from leads_with_contacts
    where
        owner_name is null
        and crm_owner_name is null

),

kept as (

    -- unowned leads the ledger holds a decision for keep it
    select
        assignments.lead_key,
        assignments.routed_regional_office as regional_office,
        assignments.routing_rule_priority,
        assignments.queue_position,
        assignments.assigned_rep_name as rep_name,
        assignments.assignment_method
    from assignments
    inner join unowned
        on assignments.lead_key = unowned.lead_key
    where assignments.is_current

),

territories as (

    -- the others go to the office of the first territory rule they match
    select distinct on (unowned.lead_key)
        unowned.lead_key,
        unowned.created_at,
        unowned.first_loaded_at,
        routing_rules.regional_office,
        routing_rules.priority as routing_rule_priority
    from unowned
    inner join routing_rules
        on
            (
                routing_rules.country_code is null
                or unowned.routing_country_code = routing_rules.country_code
            )
            and (
                routing_rules.region is null
                or unowned.routing_region = routing_rules.region
            )
    where
        not exists (
            select from kept
            where kept.lead_key = unowned.lead_key
        )
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

queued as (

    -- and join the end of its queue (after the ledger's last position), in
    -- order of first delivery
    select
        territories.*,
        coalesce(queue_ends.queue_end, 0) + row_number() over (
            partition by territories.regional_office
            order by
                territories.first_loaded_at,
                territories.created_at,
                territories.lead_key
        ) as queue_position
    from territories
    left join queue_ends
        on territories.regional_office = queue_ends.regional_office

),

routed as (

    -- a queued lead takes the office's rep whose turn it is; without a rep
    -- in the office it stays unassigned and holds no place in the queue
    select
        queued.lead_key,
        queued.regional_office,
        queued.routing_rule_priority,
        office_reps.rep_name,
        'round_robin' as assignment_method,
        case
            when office_reps.rep_name is not null then queued.queue_position
        end as queue_position
    from queued
    left join office_reps
        on
            queued.regional_office = office_reps.regional_office
            and (queued.queue_position - 1) % office_reps.office_reps + 1
            = office_reps.rep_slot

),

decided as (

    select
        lead_key,
        regional_office,
        routing_rule_priority,
        queue_position,
        rep_name,
        assignment_method
    from kept
    union all
    select
        lead_key,
        regional_office,
        routing_rule_priority,
        queue_position,
        rep_name,
        assignment_method
    from routed

),

final as (

    select
        leads_with_contacts.lead_key,
        leads_with_contacts.contact_id,
        decided.regional_office as routed_regional_office,
        decided.routing_rule_priority,
        leads_with_contacts.routing_country_code,
        leads_with_contacts.routing_region,
        decided.queue_position,
        coalesce(
            leads_with_contacts.owner_name,
            leads_with_contacts.crm_owner_name,
            decided.rep_name
        ) as assigned_rep_name,
        case
            when leads_with_contacts.owner_name is not null then 'lead_owner'
            when leads_with_contacts.crm_owner_name is not null
                then 'contact_owner'
            when decided.rep_name is not null then decided.assignment_method
            else 'unassigned'
        end as assignment_method,
        current_timestamp as refreshed_at
    from leads_with_contacts
    left join decided
        on leads_with_contacts.lead_key = decided.lead_key

)

select * from final
