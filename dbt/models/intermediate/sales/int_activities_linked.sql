-- Activities linked to the person and the customer they concern: the contact
-- through the CRM lead id (else the contact email, else the opportunity's
-- converted lead), the customer through the opportunity's customer (else the
-- contact's).
{{ config(materialized='table') }}

with

activities as (

    select * from {{ ref('int_activities_deduplicated') }}

),

clusters as (

    select * from {{ ref('int_contact_records_clustered') }}

),

contacts as (

    select * from {{ ref('int_contacts_resolved') }}

),

opportunities as (

    select * from {{ ref('int_opportunities_joined') }}

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
        activities.*,
        opportunities.customer_id as opportunity_customer_id,
        coalesce(
            lead_clusters.contact_id,
            email_contacts.contact_id,
            opportunities.contact_id
        ) as contact_id
    from activities
    left join clusters as lead_clusters
        on 'crm_export:' || activities.lead_id = lead_clusters.record_key
    left join email_contacts
        on activities.contact_email = email_contacts.email_key
    left join opportunities
        on activities.opportunity_id = opportunities.opportunity_id

),

final as (

    select
        linked.activity_id,
        linked.activity_type,
        linked.occurred_at,
        linked.occurred_date,
        linked.occurred_month,
        linked.rep_name,
        linked.lead_id,
        linked.contact_email,
        linked.opportunity_id,
        linked.contact_id,
        linked.direction,
        linked.outcome,
        linked.duration_minutes,
        linked.is_rep_response,
        coalesce(linked.opportunity_customer_id, contacts.customer_id)
            as customer_id
    from linked
    left join contacts
        on linked.contact_id = contacts.contact_id

)

select * from final
