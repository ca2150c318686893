-- Model, adjusted and actual side by side: for every series and month, the
-- latest revenue forecast (ml.revenue_forecasts, never overwritten), the sum of
-- the managers' adjustments recorded for it (finance.forecast_adjustments) and,
-- once the month is within the data, what happened.
with

forecasts as (

    select * from {{ ref('stg_ml__revenue_forecasts') }}

),

adjustments as (

    select * from {{ ref('stg_finance__forecast_adjustments') }}

),

actuals as (

    select * from {{ ref('int_revenue_actuals_aggregated') }}

),

latest as (

    select
        *,
        row_number() over (
            partition by hierarchy_level, series_key, period
            order by as_of_month desc
        ) as recency
    from forecasts

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

last_month as (

    select max(period) as last_closed_month
    from actuals
    where hierarchy_level = 'company'

),

final as (

    select
        latest.hierarchy_level,
        latest.series_key,
        latest.period as forecast_month,
        latest.as_of_month,
        latest.model,
        latest.model_version,
        latest.forecast as model_forecast,
        coalesce(adjusted.adjustment, 0) as adjustment,
        latest.forecast + coalesce(adjusted.adjustment, 0) as adjusted_forecast,
        coalesce(adjusted.adjustments, 0) as adjustments,
        latest.period <= last_month.last_closed_month as is_month_closed,
        case
            when latest.period <= last_month.last_closed_month
                then coalesce(actuals.actual, 0)
        end as actual
    from latest
    cross join last_month
    left join adjusted
        on
            latest.hierarchy_level = adjusted.hierarchy_level
            and latest.series_key = adjusted.series_key
            and latest.period = adjusted.month
    left join actuals
        on
            latest.hierarchy_level = actuals.hierarchy_level
            and latest.series_key = actuals.series_key
            and latest.period = actuals.period
    where latest.recency = 1

)

select * from final
