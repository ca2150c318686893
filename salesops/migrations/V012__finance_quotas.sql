-- Quotas (issue 10): finance's targets split into rep quotas by `salesops quotas load`
-- (ml/forecast/quotas.py; docs/quotas.md). The performance marts read finance.quotas
-- (rep_name, month, quota) through the rep_quotas_select macro.
--
-- A quota is what a rep is measured against: one row per rep and month, replaced only by a
-- later load that covers that month (the load that set it is named on the row), and every
-- load kept in finance.quota_loads with its file's hash. Written by the ML role.

create table if not exists finance.quota_loads (
    load_id bigint generated always as identity primary key,
    source_file text not null,
    file_sha256 text not null,
    method text not null,                 -- historic_share, forecast_share (rep rows: loaded)
    targets integer not null,
    quotas integer not null,
    loaded_at timestamptz not null default now(),
    loaded_by text not null default current_user
);

create table if not exists finance.quotas (
    rep_name text not null,
    month date not null,                  -- first day
    quota numeric(18, 2) not null check (quota >= 0),
    method text not null,                 -- loaded, historic_share, forecast_share, ramp
    target_level text not null,           -- company, region or rep: the target it came from
    target_key text not null,
    target_period text not null,          -- the target's period as written (2018-01, 2018-Q1)
    share numeric(12, 10),                -- the rep's share of the target (null when loaded)
    load_id bigint not null references finance.quota_loads (load_id),
    primary key (rep_name, month),
    constraint quotas_month_is_first_day check (month = date_trunc('month', month)::date),
    constraint quotas_method_valid check (
        method in ('loaded', 'historic_share', 'forecast_share', 'ramp')
    )
);

revoke all on table finance.quota_loads, finance.quotas from public;
grant usage on schema finance to salesops_ml, salesops_transformer;
grant select, insert, update, delete on table finance.quotas to salesops_ml;
grant select, insert on table finance.quota_loads to salesops_ml;
-- dbt reads the quotas into the performance marts; finance reads both.
grant select on table finance.quotas to salesops_transformer;
grant select on table finance.quotas, finance.quota_loads to finance_reader;
