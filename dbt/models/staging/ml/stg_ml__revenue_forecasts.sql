-- Revenue forecasts the forecast DAG appended (ml.revenue_forecasts), with
-- the model version and scoring time of their run.
with

forecasts as (

    select * from {{ source('ml', 'revenue_forecasts') }}

),

runs as (

    select * from {{ source('ml', 'forecast_runs') }}

),

final as (

    select
        forecasts.level as hierarchy_level,
        forecasts.series_key,
        forecasts.as_of_month,
        forecasts.period,
        forecasts.horizon,
        forecasts.forecast,
        forecasts.lower_80,
        forecasts.upper_80,
        forecasts.lower_95,
        forecasts.upper_95,
        forecasts.model,
        forecasts.reconciliation,
        forecasts.model_version,
        forecasts.run_id,
        runs.scored_at
    from forecasts
    inner join runs
        on forecasts.run_id = runs.run_id

)

select * from final
