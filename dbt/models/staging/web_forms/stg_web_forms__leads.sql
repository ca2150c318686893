-- Website form submissions (webhook JSON Lines): one row per raw row;
-- duplicates across batches are removed by the incremental int_leads_unioned.
with

source as (

    {{ raw_rows(source('web_forms', 'web_form_leads')) }}

),

country_aliases as (

    select * from {{ ref('stg_reference__country_aliases') }}

),

renamed as (

    select
        {{ clean_code('submission_id') }} as lead_id,
        submitted_at as created_at,
        {{ clean_text('form_id') }} as form_id,
        {{ clean_text('page_url') }} as page_url,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ clean_text('full_name') }} as full_name_raw,
        {{ normalize_email('email') }} as email,
        {{ clean_text('phone') }} as phone_raw,
        {{ phone_plain('phone') }} as phone_plain,
        {{ clean_text('company') }} as company_name,
        {{ clean_text('job_title') }} as job_title,
        {{ clean_text('country') }} as country_raw,
        {{ clean_text('message') }} as message,
        lower({{ clean_text('utm_source') }}) as utm_source,
        lower({{ clean_text('utm_medium') }}) as utm_medium,
        lower({{ clean_text('utm_campaign') }}) as utm_campaign,
        consent as has_consent,
        {{ load_metadata_columns() }}
    from source

),

final as (

    select
        renamed.lead_id,
        renamed.created_at,
        renamed.form_id,
        renamed.page_url,
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
        coalesce(country_alias.country, renamed.country_raw) as country,
        country_alias.country_code,
        country_alias.region,
        renamed.message,
        renamed.utm_source,
        renamed.utm_medium,
        renamed.utm_campaign,
        renamed.has_consent,
        renamed.batch_id,
        renamed.source_file,
        renamed.source_row_number,
        renamed.loaded_at
    from renamed
    left join country_aliases as country_alias
        on lower(renamed.country_raw) = country_alias.alias_key

)

select * from final
