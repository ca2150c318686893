-- The user's monthly currency rates (salesops rates load): US dollars per unit
-- of a currency in a month. They take precedence over the seed's averages.
with

source as (

    select * from {{ source('reference', 'currency_rates') }}

),

final as (

    select
        currency,
        rate_month,
        usd_per_unit,
        loaded_at
    from source

)

select * from final
