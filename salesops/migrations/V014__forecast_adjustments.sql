-- What people layer on top of the models (issue 10), never replacing the models' numbers:
-- managers' adjustments of a revenue forecast (who, when, why, how much), and forecast
-- category overrides of single deals. Append-only: a change of mind is a new row (an
-- adjustment of the opposite amount; a later override of the same deal wins).

create table if not exists finance.forecast_adjustments (
    adjustment_id bigint generated always as identity primary key,
    level text not null check (level in ('company', 'region', 'team', 'rep', 'product')),
    series_key text not null,
    month date not null check (month = date_trunc('month', month)::date),
    amount numeric(18, 2) not null,        -- USD added to the model's forecast (negative: less)
    reason text not null check (length(trim(reason)) > 0),
    adjusted_by text not null,
    adjusted_at timestamptz not null default now()
);

create table if not exists finance.forecast_category_overrides (
    override_id bigint generated always as identity primary key,
    opportunity_id text not null,
    forecast_category text not null check (
        forecast_category in ('omitted', 'pipeline', 'best_case', 'commit')
    ),
    reason text not null check (length(trim(reason)) > 0),
    overridden_by text not null,
    overridden_at timestamptz not null default now()
);

create or replace function finance.refuse_change() returns trigger
language plpgsql as $$
begin
    raise exception '%.% is append-only: % refused (add a new row instead)',
        tg_table_schema, tg_table_name, tg_op
        using errcode = 'insufficient_privilege';
end
$$;

create or replace trigger forecast_adjustments_append_only
    before update or delete or truncate on finance.forecast_adjustments
    for each statement execute function finance.refuse_change();
create or replace trigger forecast_category_overrides_append_only
    before update or delete or truncate on finance.forecast_category_overrides
    for each statement execute function finance.refuse_change();

revoke all on table finance.forecast_adjustments, finance.forecast_category_overrides from public;
grant select, insert on table finance.forecast_adjustments, finance.forecast_category_overrides
    to salesops_ml;
grant select on table finance.forecast_adjustments, finance.forecast_category_overrides
    to salesops_transformer, finance_reader;
