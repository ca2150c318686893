-- User-owned reference data that dbt reads as sources (not rebuildable models): a stage map
-- for the custom pipeline stages of a CRM, and monthly currency rates. Loaded by
-- `salesops stages load` / `salesops rates load` (salesops/reference.py), replaced or upserted
-- per key, so loading the same file twice changes nothing.
create schema if not exists reference;

create table if not exists reference.stage_map (
    stage_key text primary key,            -- lower-cased, trimmed raw stage (the lookup key)
    raw_stage text not null,               -- the stage as the user wrote it
    stage_semantics text not null,
    stage_order integer,
    source_file text not null,
    loaded_at timestamptz not null default now(),
    constraint stage_map_semantics_valid check (stage_semantics in ('won', 'lost', 'open')),
    constraint stage_map_order_valid check (
        stage_order is null
        or (stage_semantics = 'open' and stage_order in (1, 2))
        or (stage_semantics <> 'open' and stage_order = 3)
    ),
    constraint stage_map_key_valid check (stage_key = lower(btrim(raw_stage)) and stage_key <> '')
);

create table if not exists reference.currency_rates (
    currency text not null,
    rate_month date not null,
    usd_per_unit numeric not null,
    source_file text not null,
    loaded_at timestamptz not null default now(),
    primary key (currency, rate_month),
    constraint currency_rates_currency_valid check (currency ~ '^[A-Z]{3}$'),
    constraint currency_rates_month_valid check (extract(day from rate_month) = 1),
    constraint currency_rates_rate_valid check (usd_per_unit > 0)
);

-- dbt (the transformer role) reads them; finance reads the rates behind the USD figures.
grant usage on schema reference to salesops_transformer, finance_reader;
grant select on all tables in schema reference to salesops_transformer, finance_reader;
alter default privileges in schema reference grant select on tables
    to salesops_transformer, finance_reader;
