-- CRM contacts (HubSpot contacts export): one row per contact id, the latest
-- delivery. The export carries no country, so phones become E.164 only when
-- written internationally (or as a NANP / mainland-China mobile number).
with

source as (

    select * from {{ source('crm_export', 'crm_contacts') }}

),

renamed as (

    select
        {{ clean_text('contact_id') }} as contact_id,
        created_at,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ normalize_email('email') }} as email,
        {{ clean_text('phone') }} as phone_raw,
        {{ phone_plain('phone') }} as phone_plain,
        {{ clean_text('company') }} as company_name,
        {{ clean_text('job_title') }} as job_title,
        lower({{ clean_text('lifecycle_stage') }}) as lifecycle_stage,
        {{ clean_text('owner_name') }} as owner_name,
        {{ load_metadata_columns() }}
    from source

),

latest as (

    {{ latest_delivery('renamed', 'contact_id') }}

),

final as (

    select
        contact_id,
        created_at,
        first_name,
        last_name,
        {{ person_full_name('first_name', 'last_name') }} as full_name,
        email,
        {{ to_e164('phone_plain', 'null::text', 'null::text') }} as phone,
        phone_raw,
        company_name,
        {{ normalize_company_name('company_name') }} as company_key,
        job_title,
        lifecycle_stage,
        owner_name,
        batch_id,
        source_file,
        source_row_number,
        loaded_at
    from latest

)

select * from final
