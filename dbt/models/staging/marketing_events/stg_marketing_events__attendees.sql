-- Event and webinar attendee lists: one row per raw row. An attendee list has
-- no attendee id, so the lead id is derived: event id + a pseudonym (md5) of
-- the attendee's email (else phone, else name), so no key carries PII.
-- Duplicates across batches are removed by int_leads_unioned.
with

source as (

    {{ raw_rows(source('marketing_events', 'event_attendees')) }}

),

country_aliases as (

    select * from {{ ref('stg_reference__country_aliases') }}

),

renamed as (

    select
        {{ clean_text('event_id') }} as event_id,
        {{ clean_text('event_name') }} as event_name,
        event_date,
        registered_at,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ clean_text('full_name') }} as full_name_raw,
        {{ normalize_email('email') }} as email,
        {{ clean_text('phone') }} as phone_raw,
        {{ phone_plain('phone') }} as phone_plain,
        {{ clean_text('company') }} as company_name,
        {{ clean_text('job_title') }} as job_title,
        {{ clean_text('country') }} as country_raw,
        attended as has_attended,
        {{ load_metadata_columns() }}
    from source

),

enriched as (

    select
        renamed.*,
        coalesce(
            renamed.full_name_raw,
            {{ person_full_name('renamed.first_name', 'renamed.last_name') }}
        ) as full_name,
        {{ to_e164('renamed.phone_plain', 'country_alias.country_code',
                   'country_alias.calling_code') }} as phone,
        coalesce(country_alias.country, renamed.country_raw) as country,
        country_alias.country_code,
        country_alias.region
    from renamed
    left join country_aliases as country_alias
        on lower(renamed.country_raw) = country_alias.alias_key

),

final as (

    select
        event_id || ':' || coalesce(
            {{ pseudonym('coalesce(email, phone, lower(full_name))') }},
            'row-' || source_row_number
        ) as lead_id,
        -- registration time; the event date (midnight UTC) when the list has
        -- none
        coalesce(
            registered_at, event_date::timestamp at time zone 'UTC'
        ) as created_at,
        event_id,
        event_name,
        event_date,
        registered_at,
        first_name,
        last_name,
        full_name,
        email,
        phone,
        phone_raw,
        company_name,
        {{ normalize_company_name('company_name') }} as company_key,
        job_title,
        country,
        country_code,
        region,
        has_attended,
        batch_id,
        source_file,
        source_row_number,
        loaded_at
    from enriched

)

select * from final
