-- Activity link keys resolved to the person and the customer they concern: the
-- contact through the CRM lead id (else the contact email, else the
-- opportunity's converted lead), the customer through the opportunity's
-- customer (else the contact's). Resolved per link key rather than per
-- activity, so identity changes re-link 1.4M keys, not 10M activities.
{{ config(materialized='table') }}

with

activity_links as (

    select * from {{ ref('int_activity_links_aggregated') }}
    where activities > 0

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
        activity_links.*,
        opportunities.customer_id as opportunity_customer_id,
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

final as (

    select
        linked.link_key,
        linked.lead_id,
        linked.contact_email,
        linked.opportunity_id,
        linked.contact_id,
        linked.activities,
        linked.last_activity_at,
        linked.rep_response_times,
        coalesce(linked.opportunity_customer_id, contacts.customer_id)
            as customer_id
    from linked
    left join contacts
        on linked.contact_id = contacts.contact_id

)

select * from final
