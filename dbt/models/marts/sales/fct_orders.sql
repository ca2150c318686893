-- One row per ERP order / invoice (the latest delivery of each order id): the
-- won deal it bills, its date, amount (its currency and USD), payment status
-- and when the warehouse learned it (loaded_at). Refunded and cancelled orders
-- are kept and flagged: the payouts claw back commission on them.
with

orders as (

    select * from {{ ref('stg_orders__orders') }}

),

final as (

    select
        order_id,
        invoice_number,
        opportunity_id,
        account_name,
        order_date,
        product_name,
        quantity,
        unit_price,
        amount,
        currency,
        amount_usd,
        status,
        is_revenue,
        loaded_at,
        coalesce(status in ('refunded', 'cancelled'), false) as is_refunded
    from orders

)

select * from final
