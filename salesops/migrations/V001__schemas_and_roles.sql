-- Schemas of the warehouse and the least-privilege roles that use them.
-- Roles are cluster-wide, so each is created only when missing.
create schema if not exists raw;
create schema if not exists ops;
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists marts;
create schema if not exists snapshots;
create schema if not exists ml;
create schema if not exists finance;

do $$
declare
    role_name text;
begin
    foreach role_name in array array[
        'salesops_loader', 'salesops_transformer', 'salesops_ml', 'bi_reader', 'finance_reader'
    ] loop
        if not exists (select 1 from pg_roles where rolname = role_name) then
            execute format('create role %I login', role_name);
        end if;
    end loop;
end
$$;

-- Loader: lands files in raw, books batches and rejects in ops.
grant usage, create on schema raw, ops to salesops_loader;
-- Transformer (dbt): reads raw and ops, owns the modelled schemas.
grant usage on schema raw, ops to salesops_transformer;
grant usage, create on schema staging, intermediate, marts, snapshots to salesops_transformer;
-- ML: reads marts, writes its own schema.
grant usage on schema marts to salesops_ml;
grant usage, create on schema ml to salesops_ml;
-- Readers.
grant usage on schema marts to bi_reader, finance_reader;
grant usage on schema finance to finance_reader;
