-- CRM contacts (HubSpot, Salesforce, Zoho contacts exports): one row per
-- contact id, the latest delivery. Phones become E.164 with the contact's
-- country (a national '0412 345 678' in Australia -> +61412345678); without a
-- country only when written internationally (or as a NANP / mainland-China
-- mobile number).
with

source as (

    {{ raw_rows(source('crm_export', 'crm_contacts')) }}

),

country_aliases as (

    select * from {{ ref('stg_reference__country_aliases') }}

),

renamed as (

    select
        {{ clean_text('contact_id') }} as contact_id,
        created_at,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ clean_text('full_name') }} as full_name_raw,
        {{ normalize_email('email') }} as email,
        {{ clean_text('phone') }} as phone_raw,
        {{ phone_plain('phone') }} as phone_plain,
        {{ clean_text('company') }} as company_name,
        {{ clean_id('account_id') }} as account_id,
        {{ clean_text('country') }} as country_raw,
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
        latest.contact_id,
        latest.created_at,
        latest.first_name,
        latest.last_name,
        coalesce(
            latest.full_name_raw,
            {{ person_full_name('latest.first_name', 'latest.last_name') }}
        ) as full_name,
        latest.email,
        {{ to_e164('latest.phone_plain', 'country_alias.country_code',
                   'country_alias.calling_code') }} as phone,
        latest.phone_raw,
        latest.company_name,
        {{ normalize_company_name('latest.company_name') }} as company_key,
        latest.account_id,
        coalesce(country_alias.country, latest.country_raw) as country,
        country_alias.country_code,
        country_alias.region,
        latest.job_title,
        latest.lifecycle_stage,
        latest.owner_name,
        latest.batch_id,
        latest.source_file,
        latest.source_row_number,
        latest.loaded_at
    from latest
    left join country_aliases as country_alias
        on lower(latest.country_raw) = country_alias.alias_key

)

select * from final
