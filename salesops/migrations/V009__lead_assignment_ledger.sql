-- Ledgers: decisions salesops makes once and people rely on, kept outside dbt's
-- rebuildable schemas (dbt reads them as sources), so that no dbt run, not even
-- `dbt build --full-refresh`, can change what someone was assigned.
-- Append-only: a row is never updated or deleted (privileges, and a trigger that also
-- stops the owner and superusers by mistake); a change of mind is a new row, and a
-- lead's current assignment is its latest row (highest assignment_id).
create schema if not exists ledger;

-- Lead -> rep assignments salesops decided. int_leads_routed's post-hook records each
-- round-robin decision the first time it is made (macros/ledger.sql); a person may
-- re-assign a lead by inserting a 'reassigned' row. Owners that come from the source
-- data (the lead's owner, the person's CRM owner) are facts of the CRM, not decisions,
-- and are not recorded here.
create table if not exists ledger.lead_assignments (
    assignment_id bigint generated always as identity primary key,
    lead_key text not null,
    assigned_rep_name text not null,
    assigned_rep_id text,                  -- the rep's CRM id, when the reps export has one
    assignment_method text not null,
    routed_regional_office text,           -- round_robin: the office whose queue it joined
    routing_rule_priority integer,         -- round_robin: the territory rule that matched
    queue_position bigint,                 -- round_robin: its place in the office's queue
    assigned_at timestamptz not null default now(),
    recorded_by text not null,             -- the dbt model, or who re-assigned the lead
    dbt_invocation_id text,                -- the dbt invocation that recorded it
    constraint lead_assignments_method_valid check (
        assignment_method in ('round_robin', 'reassigned')
    ),
    constraint lead_assignments_queue_complete check (
        assignment_method <> 'round_robin'
        or (routed_regional_office is not null and queue_position is not null)
    )
);

-- One routing decision per lead, ever: a second build that routed the same lead at the
-- same time (insert ... on conflict do nothing) keeps the first decision.
create unique index if not exists lead_assignments_one_routing_per_lead
    on ledger.lead_assignments (lead_key) where assignment_method = 'round_robin';
-- The current assignment of a lead: its latest row.
create index if not exists lead_assignments_lead_key
    on ledger.lead_assignments (lead_key, assignment_id);

create or replace function ledger.refuse_change() returns trigger
language plpgsql as $$
begin
    raise exception '%.% is an append-only ledger: % refused (record a new row instead)',
        tg_table_schema, tg_table_name, tg_op
        using errcode = 'insufficient_privilege';
end
$$;

create or replace trigger lead_assignments_append_only
    before update or delete on ledger.lead_assignments
    for each statement execute function ledger.refuse_change();
create or replace trigger lead_assignments_no_truncate
    before truncate on ledger.lead_assignments
    for each statement execute function ledger.refuse_change();

-- dbt (the transformer role) reads the ledger and appends to it; nothing more.
revoke all on schema ledger from public;
revoke all on table ledger.lead_assignments from public;
grant usage on schema ledger to salesops_transformer;
grant select, insert on table ledger.lead_assignments to salesops_transformer;

-- A warehouse routed before this migration: its round-robin assignments (dbt's sticky
-- incremental table) become the ledger's first rows, so the next build keeps them.
do $$
begin
    if to_regclass('intermediate.int_leads_routed') is not null then
        execute $backfill$
            insert into ledger.lead_assignments (
                lead_key, assigned_rep_name, assignment_method, routed_regional_office,
                routing_rule_priority, queue_position, recorded_by
            )
            select
                lead_key, assigned_rep_name, 'round_robin', routed_regional_office,
                routing_rule_priority, queue_position, 'migration V009 (from int_leads_routed)'
            from intermediate.int_leads_routed
            where assignment_method = 'round_robin'
            order by routed_regional_office, queue_position
            on conflict do nothing
        $backfill$;
    end if;
end
$$;
