-- One row per lead from every channel (lead_key = '<channel>:<source id>'):
-- channel, creation, the person and customer, the assigned rep (routed when the
-- source gave no owner), the first response and the conversion.
with

leads as (

    select * from {{ ref('int_leads_enriched') }}

),

final as (

    select
        lead_key,
        lead_id,
        channel,
        acquisition_channel,
        created_at,
        created_date,
        created_month,
        contact_id,
        customer_id,
        company_name,
        country,
        region,
        campaign,
        lead_source,
        lead_status,
        source_owner_name,
        assigned_rep_name,
        assignment_method,
        assigned_manager_name,
        assigned_regional_office,
        is_first_touch,
        first_response_at,
        first_response_time,
        first_response_hours,
        is_responded,
        opportunity_id,
        is_converted,
        batch_id,
        first_loaded_at,
        loaded_at
    from leads

)

select * from final
