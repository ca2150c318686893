-- Managers' adjustments of revenue forecasts (finance.forecast_adjustments),
-- one row each, as recorded.
with

source as (

    select * from {{ source('finance', 'forecast_adjustments') }}

),

final as (

    select
        adjustment_id,
        level as hierarchy_level,
        series_key,
        month,
        amount,
        reason,
        adjusted_by,
        adjusted_at
    from source

)

select * from final
