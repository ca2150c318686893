-- Customer and partner referrals: one row per raw row (duplicates across
-- batches are removed by int_leads_unioned). Estimated values keep their
-- currency and gain a reporting-currency amount (seeds/currency_rates.csv).
with

source as (

    {{ raw_rows(source('referrals', 'referrals')) }}

),

currency_rates as (

    select * from {{ ref('currency_rates') }}

),

renamed as (

    select
        {{ clean_code('referral_id') }} as lead_id,
        referred_at as created_at,
        lower({{ clean_text('referrer_type') }}) as referrer_type,
        {{ clean_text('referrer_name') }} as referrer_name,
        {{ clean_text('referrer_account') }} as referrer_account,
        {{ clean_text('full_name') }} as full_name,
        {{ normalize_email('email') }} as email,
        {{ clean_text('phone') }} as phone_raw,
        {{ phone_plain('phone') }} as phone_plain,
        {{ clean_text('company') }} as company_name,
        {{ clean_text('notes') }} as notes,
        estimated_value,
        coalesce(upper(btrim(currency)), '{{ var("reporting_currency") }}')
            as currency,
        {{ load_metadata_columns() }}
    from source

),

final as (

    select
        renamed.lead_id,
        renamed.created_at,
        renamed.referrer_type,
        renamed.referrer_name,
        renamed.referrer_account,
        renamed.full_name,
        renamed.email,
        -- referrals carry no country: E.164 only for international / NANP / CN
        -- mobile
        {{ to_e164('renamed.phone_plain', 'null::text', 'null::text') }}
            as phone,
        renamed.phone_raw,
        renamed.company_name,
        {{ normalize_company_name('renamed.company_name') }} as company_key,
        renamed.notes,
        renamed.estimated_value,
        renamed.currency,
        renamed.estimated_value * rates.usd_per_unit as estimated_value_usd,
        renamed.batch_id,
        renamed.source_file,
        renamed.source_row_number,
        renamed.loaded_at
    from renamed
    left join currency_rates as rates
        on renamed.currency = rates.currency

)

select * from final
