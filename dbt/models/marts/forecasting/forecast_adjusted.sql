-- Model, adjusted and actual side by side: for every series and month, the
-- latest revenue forecast with its actual (forecast_vs_actual), and the sum of
-- the managers' adjustments recorded for it (finance.forecast_adjustments).
with

compared as (

    select * from {{ ref('forecast_vs_actual') }}

),

adjustments as (

    select * from {{ ref('stg_finance__forecast_adjustments') }}

),

latest as (

    select
        *,
        row_number() over (
            partition by hierarchy_level, series_key, forecast_month
            order by as_of_month desc
        ) as recency
    from compared

),

adjusted as (

    select
        hierarchy_level,
        series_key,
        month,
        sum(amount) as adjustment,
        count(*) as adjustments
    from adjustments
    group by 1, 2, 3

),

final as (

    select
        latest.hierarchy_level,
        latest.series_key,
        latest.forecast_month,
        latest.as_of_month,
        latest.model,
        latest.model_version,
        latest.forecast as model_forecast,
        latest.is_month_closed,
        latest.actual,
        coalesce(adjusted.adjustment, 0) as adjustment,
        latest.forecast + coalesce(adjusted.adjustment, 0) as adjusted_forecast,
        coalesce(adjusted.adjustments, 0) as adjustments
    from latest
    left join adjusted
        on
            latest.hierarchy_level = adjusted.hierarchy_level
            and latest.series_key = adjusted.series_key
            and latest.forecast_month = adjusted.month
    where latest.recency = 1

)

select * from final
