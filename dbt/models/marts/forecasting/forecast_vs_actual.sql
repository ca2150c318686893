-- Every revenue forecast salesops has written (ml.revenue_forecasts), next to
-- what happened once its month closed: the actual won revenue of the same
-- series, the error and whether the 80% / 95% intervals held it. A forecast
-- month after the data's last month is still open (actual null). A closed
-- month without any won deal of the series counts as 0.
with

forecasts as (

    select * from {{ ref('stg_ml__revenue_forecasts') }}

),

actuals as (

    select * from {{ ref('int_revenue_actuals_aggregated') }}

),

last_month as (

    select max(period) as last_closed_month
    from actuals
    where hierarchy_level = 'company'

),

compared as (

    select
        forecasts.hierarchy_level,
        forecasts.series_key,
        forecasts.as_of_month,
        forecasts.period as forecast_month,
        forecasts.horizon,
        forecasts.model,
        forecasts.model_version,
        forecasts.reconciliation,
        forecasts.forecast,
        forecasts.lower_80,
        forecasts.upper_80,
        forecasts.lower_95,
        forecasts.upper_95,
        forecasts.run_id,
        forecasts.scored_at,
        forecasts.period <= last_month.last_closed_month as is_month_closed,
        case
            when forecasts.period <= last_month.last_closed_month
                then coalesce(actuals.actual, 0)
        end as actual
    from forecasts
    cross join last_month
    left join actuals
        on
            forecasts.hierarchy_level = actuals.hierarchy_level
            and forecasts.series_key = actuals.series_key
            and forecasts.period = actuals.period

),

final as (

    select
        *,
        actual - forecast as error,
        abs(actual - forecast) as absolute_error,
        actual between lower_80 and upper_80 as is_inside_80,
        actual between lower_95 and upper_95 as is_inside_95
    from compared

)

select * from final
