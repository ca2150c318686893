-- Revenue forecasts written back by the ML role (issue 10): one row per forecast series,
-- as-of month and forecast month, appended by every scoring run and never changed. A
-- forecast is history people compare with what happened: the same as-of month scored
-- twice keeps the first rows (primary key; insert ... on conflict do nothing), and no
-- update or delete is allowed (privileges, and a trigger that also stops the owner).

create table if not exists ml.forecast_runs (
    run_id text primary key,               -- the MLflow run of the scoring
    as_of_month date not null,             -- the last month of history the run saw
    horizon integer not null check (horizon between 1 and 60),
    model_name text not null,              -- registered model, e.g. salesops-revenue-forecast
    model_version text not null,           -- its version (the champion when scored)
    series integer not null,
    rows_written integer not null,
    scored_at timestamptz not null default now()
);

create table if not exists ml.revenue_forecasts (
    level text not null,
    series_key text not null,              -- 'all', a region, a manager, a rep, a product
    as_of_month date not null,
    period date not null,                  -- the forecast month (its first day)
    horizon integer not null,              -- months after as_of_month
    forecast numeric(18, 2) not null,      -- USD, reconciled: children add up to their parent
    lower_80 numeric(18, 2) not null,
    upper_80 numeric(18, 2) not null,
    lower_95 numeric(18, 2) not null,
    upper_95 numeric(18, 2) not null,
    model text not null,                   -- the candidate chosen for this series
    reconciliation text not null,          -- base (reps), bottom_up, top_down_share (products)
    model_version text not null,
    run_id text not null references ml.forecast_runs (run_id) deferrable initially deferred,
    primary key (level, series_key, as_of_month, period),
    constraint revenue_forecasts_level_valid check (
        level in ('company', 'region', 'team', 'rep', 'product')
    ),
    constraint revenue_forecasts_period_after_as_of check (period > as_of_month),
    constraint revenue_forecasts_bounds_ordered check (
        lower_95 <= lower_80 and lower_80 <= forecast
        and forecast <= upper_80 and upper_80 <= upper_95
    )
);

create or replace function ml.refuse_change() returns trigger
language plpgsql as $$
begin
    raise exception '%.% is append-only: % refused (score a new as-of month instead)',
        tg_table_schema, tg_table_name, tg_op
        using errcode = 'insufficient_privilege';
end
$$;

create or replace trigger revenue_forecasts_append_only
    before update or delete or truncate on ml.revenue_forecasts
    for each statement execute function ml.refuse_change();
create or replace trigger forecast_runs_append_only
    before update or delete or truncate on ml.forecast_runs
    for each statement execute function ml.refuse_change();

revoke all on table ml.forecast_runs, ml.revenue_forecasts from public;
grant select, insert on table ml.forecast_runs, ml.revenue_forecasts to salesops_ml;
-- dbt reads them as sources; BI and finance read them (no personal data: rep names are
-- the same as in the performance marts BI already reads).
grant usage on schema ml to salesops_transformer, bi_reader, finance_reader;
grant select on table ml.forecast_runs, ml.revenue_forecasts
    to salesops_transformer, bi_reader, finance_reader;
