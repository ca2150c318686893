-- Least privilege, actually used (issue 12): every component connects as its own role
-- (salesops.warehouse.role_url) and the superuser only migrates.
--   salesops_loader       lands files: raw rows, batches and rejects, reference tables.
--   salesops_transformer  dbt: reads raw/ops/reference, owns the modelled layers, books
--                         builds, gate results and transform runs, grants readers the marts.
--   salesops_ml           models: reads marts (masked), writes ml.
-- None of them is a superuser or may create roles, run COPY ... PROGRAM or read finance.

-- Tables are created by migrations (and the contract-derived raw tables by the owner at
-- `warehouse start`), never by the loader.
revoke create on schema raw, ops from salesops_loader;
grant usage on schema reference to salesops_loader;
grant select, insert, update, delete on all tables in schema reference to salesops_loader;
alter default privileges in schema reference
    grant select, insert, update, delete on tables to salesops_loader;

-- The transformer books builds (dbt macros), quality gates and transform runs.
grant select, insert, update on ops.transform_builds to salesops_transformer;
grant insert on ops.pipeline_runs to salesops_transformer;
-- The masking views it re-creates after each build call the access functions.
grant usage on schema access to salesops_transformer;
grant execute on all functions in schema access to salesops_transformer;

-- dbt's layers belong to dbt's role: objects an earlier build made as superuser change hands
-- (their indexes and owned sequences follow their tables).
alter schema staging owner to salesops_transformer;
alter schema intermediate owner to salesops_transformer;
alter schema marts owner to salesops_transformer;
alter schema snapshots owner to salesops_transformer;

do $$
declare
    rel record;
begin
    for rel in
        select n.nspname, c.relname, c.relkind
        from pg_class as c
        inner join pg_namespace as n on c.relnamespace = n.oid
        where
            n.nspname in ('staging', 'intermediate', 'marts', 'snapshots')
            and c.relkind in ('r', 'p', 'v', 'm')
            and c.relowner <> 'salesops_transformer'::regrole
    loop
        execute format(
            'alter %s %I.%I owner to salesops_transformer',
            case rel.relkind
                when 'v' then 'view'
                when 'm' then 'materialized view'
                else 'table'
            end,
            rel.nspname, rel.relname
        );
    end loop;
end
$$;

-- What dbt (now the transformer) creates in marts is readable by finance at once; BI only
-- once apply_grants has masked personal data (as in V003, for the transformer's objects).
alter default privileges for role salesops_transformer in schema marts
    grant select on tables to finance_reader;
-- Finance tables are written by the payout engine (the ML role).
alter default privileges for role salesops_ml in schema finance
    grant select on tables to finance_reader;
