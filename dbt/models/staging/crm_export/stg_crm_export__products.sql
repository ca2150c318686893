-- CRM product catalogue: one row per product (latest delivery by product name),
-- names mapped through seeds/product_name_fixes.csv so the catalogue and the
-- pipeline agree.
with

source as (

    {{ raw_rows(source('crm_export', 'crm_products')) }}

),

product_name_fixes as (

    select * from {{ ref('product_name_fixes') }}

),

renamed as (

    select
        {{ clean_text('product_name') }} as product_name_raw,
        {{ clean_id('product_id') }} as product_id,
        {{ clean_text('product_series') }} as product_series,
        list_price,
        coalesce(upper(btrim(currency)), '{{ var("reporting_currency") }}')
            as currency,
        {{ load_metadata_columns() }}
    from source

),

fixed as (

    select
        renamed.*,
        coalesce(fix.product_name, renamed.product_name_raw) as product_name,
        fix.product_name is not null as has_fixed_product_name
    from renamed
    left join product_name_fixes as fix
        on renamed.product_name_raw = fix.raw_product_name

),

latest as (

    {{ latest_delivery('fixed', 'product_name') }}

),

final as (

    select
        product_name,
        product_id,
        product_name_raw,
        has_fixed_product_name,
        product_series,
        list_price,
        currency,
        batch_id,
        source_file,
        source_row_number,
        loaded_at
    from latest

)

select * from final
