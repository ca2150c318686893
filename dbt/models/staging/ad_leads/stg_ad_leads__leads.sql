-- Ad-platform lead forms (Facebook/Instagram, LinkedIn, Baidu/WeChat): one row
-- per raw row; duplicates across batches are removed by int_leads_unioned.
with

source as (

    {{ raw_rows(source('ad_leads', 'ad_leads')) }}

),

country_aliases as (

    select * from {{ ref('stg_reference__country_aliases') }}

),

renamed as (

    select
        {{ clean_code('lead_id') }} as lead_id,
        created_time as created_at,
        lower({{ clean_text('platform') }}) as platform,
        {{ clean_text('campaign_name') }} as campaign_name,
        {{ clean_text('ad_name') }} as ad_name,
        {{ clean_text('form_name') }} as form_name,
        {{ clean_text('full_name') }} as full_name,
        {{ normalize_email('email') }} as email,
        {{ clean_text('phone') }} as phone_raw,
        {{ phone_plain('phone') }} as phone_plain,
        {{ clean_text('company') }} as company_name,
        {{ clean_text('job_title') }} as job_title,
        {{ clean_text('city') }} as city,
        {{ clean_text('country') }} as country_raw,
        {{ load_metadata_columns() }}
    from source

),

final as (

    select
        renamed.lead_id,
        renamed.created_at,
        renamed.platform,
        renamed.campaign_name,
        renamed.ad_name,
        renamed.form_name,
        renamed.full_name,
        renamed.email,
        {{ to_e164('renamed.phone_plain', 'country_alias.country_code',
                   'country_alias.calling_code') }} as phone,
        renamed.phone_raw,
        renamed.company_name,
        {{ normalize_company_name('renamed.company_name') }} as company_key,
        renamed.job_title,
        renamed.city,
        coalesce(country_alias.country, renamed.country_raw) as country,
        country_alias.country_code,
        country_alias.region,
        renamed.batch_id,
        renamed.source_file,
        renamed.source_row_number,
        renamed.loaded_at
    from renamed
    left join country_aliases as country_alias
        on lower(renamed.country_raw) = country_alias.alias_key

)

select * from final
