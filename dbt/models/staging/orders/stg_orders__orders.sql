-- ERP orders / invoices of won deals: one row per order id, the latest
-- delivery. Amounts keep their currency and gain a reporting-currency amount
-- (seeds/currency_rates.csv).
with

source as (

    {{ raw_rows(source('orders', 'orders')) }}

),

product_name_fixes as (

    select * from {{ ref('product_name_fixes') }}

),

account_name_fixes as (

    select * from {{ ref('account_name_fixes') }}

),

currency_rates as (

    select * from {{ ref('currency_rates') }}

),

renamed as (

    select
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('invoice_number') }} as invoice_number,
        {{ clean_text('opportunity_id') }} as opportunity_id,
        {{ clean_text('account_name') }} as account_name_raw,
        order_date,
        {{ clean_text('product_name') }} as product_name_raw,
        quantity,
        unit_price,
        amount,
        coalesce(upper(btrim(currency)), '{{ var("reporting_currency") }}')
            as currency,
        lower({{ clean_text('status') }}) as status,
        paid_date,
        cost,
        {{ load_metadata_columns() }}
    from source

),

latest as (

    {{ latest_delivery('renamed', 'order_id') }}

),

final as (

    select
        latest.order_id,
        latest.invoice_number,
        latest.opportunity_id,
        coalesce(account_fix.account_name, latest.account_name_raw)
            as account_name,
        {{ normalize_company_name('latest.account_name_raw') }} as company_key,
        latest.order_date,
        coalesce(product_fix.product_name, latest.product_name_raw)
            as product_name,
        latest.quantity,
        latest.unit_price,
        latest.amount,
        latest.currency,
        latest.amount * rates.usd_per_unit as amount_usd,
        latest.status,
        latest.paid_date,
        latest.cost,
        latest.cost * rates.usd_per_unit as cost_usd,
        coalesce(latest.status not in ('cancelled', 'refunded'), true)
            as is_revenue,
        latest.batch_id,
        latest.source_file,
        latest.source_row_number,
        latest.loaded_at
    from latest
    left join product_name_fixes as product_fix
        on latest.product_name_raw = product_fix.raw_product_name
    left join account_name_fixes as account_fix
        on latest.account_name_raw = account_fix.raw_account_name
    left join currency_rates as rates
        on latest.currency = rates.currency

)

select * from final
