-- Every record that describes a person, from every channel, in one shape: the
-- leads (int_leads_unioned) and the CRM contacts. Identity resolution clusters
-- these records into contacts.
with

leads as (

    select * from {{ ref('int_leads_unioned') }}

),

crm_contacts as (

    select * from {{ ref('int_crm_contacts_deduplicated') }}

),

lead_records as (

    select
        lead_key as record_key,
        'lead' as record_type,
        channel,
        acquisition_channel,
        lead_id as source_record_id,
        created_at,
        full_name,
        email,
        phone,
        company_name,
        company_key,
        job_title,
        industry,
        country,
        country_code,
        region,
        owner_name,
        converted_opportunity_id,
        batch_id,
        source_row_number
    from leads

),

contact_records as (

    select
        'crm_export:contact:' || contact_id as record_key,
        'contact' as record_type,
        'crm_export' as channel,
        'crm_export' as acquisition_channel,
        contact_id as source_record_id,
        created_at,
        full_name,
        email,
        phone,
        company_name,
        company_key,
        job_title,
        null::text as industry,
        country,
        country_code,
        region,
        owner_name,
        null::text as converted_opportunity_id,
        batch_id,
        source_row_number
    from crm_contacts

),

final as (

    select * from lead_records
    union all
    select * from contact_records

)

select * from final
