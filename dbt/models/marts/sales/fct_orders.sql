-- One row per ERP order / invoice (the latest delivery of each order id): the
-- won deal it bills, its date, amount and cost (its currency and USD), payment
-- status, the day it was paid and when the warehouse learned it (loaded_at).
-- Refunded and cancelled orders are kept and flagged: the payouts claw back
-- commission on them.
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
        cost,
        cost_usd,
        coalesce(status in ('refunded', 'cancelled'), false) as is_refunded,
        -- paid: the export's payment date, else the day the warehouse
        -- learned the order was paid
        case
            when status = 'paid' then coalesce(paid_date, loaded_at::date)
            when status is null then paid_date
        end as paid_date,
        amount_usd - cost_usd as margin_usd
    from orders

)

select * from final
