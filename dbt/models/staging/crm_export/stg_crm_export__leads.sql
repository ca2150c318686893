-- CRM lead reports (Salesforce "Leads" export): one row per raw row. Leads are
-- a large fact, so duplicates across batches are removed downstream by the
-- incremental int_leads_unioned (which only reads new batches); this view stays
-- row-level.
with

source as (

    {{ raw_rows(source('crm_export', 'crm_leads')) }}

),

industry_fixes as (

    select * from {{ ref('industry_fixes') }}

),

country_aliases as (

    select * from {{ ref('stg_reference__country_aliases') }}

),

renamed as (

    select
        {{ clean_text('lead_id') }} as lead_id,
        created_at,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ clean_text('full_name') }} as full_name_raw,
        {{ normalize_email('email') }} as email,
        {{ clean_text('phone') }} as phone_raw,
        {{ phone_plain('phone') }} as phone_plain,
        {{ clean_text('company') }} as company_name,
        {{ clean_text('job_title') }} as job_title,
        lower({{ clean_text('industry') }}) as industry_raw,
        {{ clean_text('country') }} as country_raw,
        {{ clean_text('lead_source') }} as lead_source,
        {{ clean_text('lead_status') }} as lead_status,
        {{ clean_text('owner_name') }} as owner_name,
        {{ clean_text('converted_opportunity_id') }}
            as converted_opportunity_id,
        {{ load_metadata_columns() }}
    from source

),

final as (

    select
        renamed.lead_id,
        renamed.created_at,
        renamed.first_name,
        renamed.last_name,
        coalesce(
            renamed.full_name_raw,
            {{ person_full_name('renamed.first_name', 'renamed.last_name') }}
        ) as full_name,
        renamed.email,
        {{ to_e164('renamed.phone_plain', 'country_alias.country_code',
                   'country_alias.calling_code') }} as phone,
        renamed.phone_raw,
        renamed.company_name,
        {{ normalize_company_name('renamed.company_name') }} as company_key,
        renamed.job_title,
        coalesce(industry_fix.industry, renamed.industry_raw) as industry,
        coalesce(country_alias.country, renamed.country_raw) as country,
        country_alias.country_code,
        country_alias.region,
        renamed.lead_source,
        renamed.lead_status,
        renamed.owner_name,
        renamed.converted_opportunity_id,
        renamed.batch_id,
        renamed.source_file,
        renamed.source_row_number,
        renamed.loaded_at
    from renamed
    left join industry_fixes as industry_fix
        on renamed.industry_raw = industry_fix.raw_industry
    left join country_aliases as country_alias
        on lower(renamed.country_raw) = country_alias.alias_key

)

select * from final
