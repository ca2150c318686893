-- Incentive payouts (issue 11; ml/incentives/, docs/plans.md, docs/payouts.md).
--
-- Ledgers, not views: a plan version, a deal's credit, a payout line, a statement and a lock
-- are rows written once. dbt never builds them, so a full refresh cannot change what a rep was
-- credited or paid. A locked period is immutable in the database: no run, line, statement or
-- adjustment for it can be written any more (trigger), nothing here can be updated or deleted
-- (trigger), and a lock cannot be lifted. Later differences post into the next open period.
-- Written by the ML role (the payout engine); finance reads all of it, a rep's login reads its
-- own lines and statements (row-level security), bi_reader none of it.

create table if not exists finance.commission_plans (
    plan_id text not null,
    version integer not null check (version >= 1),
    title text not null,
    effective_from date not null,
    effective_to date,
    yaml text not null,                   -- the plan as written
    sha256 text not null,
    registered_at timestamptz not null default now(),
    registered_by text not null default current_user,
    primary key (plan_id, version),
    constraint commission_plans_dates check (effective_to is null or effective_to >= effective_from)
);

-- Revenue splits and overlays finance enters for a deal (instead of 100% to its owner at close).
create table if not exists finance.credit_splits (
    split_id bigint generated always as identity primary key,
    opportunity_id text not null,
    rep_name text not null,
    split_pct numeric(7, 4) not null check (split_pct > 0 and split_pct <= 100),
    credit_type text not null check (credit_type in ('revenue', 'overlay')),
    reason text not null check (length(trim(reason)) > 0),
    entered_by text not null default current_user,
    entered_at timestamptz not null default now()
);

-- Who is credited for what, once per deal version: version 1 when a won deal is first seen
-- (its owner at close), a new version only when what is commissioned changed (amount, close
-- date, product, splits) or the deal stopped being won (amount 0: its commission is clawed back).
create table if not exists finance.deal_credits (
    credit_id bigint generated always as identity primary key,
    opportunity_id text not null,
    deal_version integer not null check (deal_version >= 1),
    rep_name text not null,
    manager_name text,
    product_name text,
    closed_date date not null,
    amount numeric(18, 2) not null,       -- the credited share, in currency
    currency text not null,
    split_pct numeric(7, 4) not null,
    credit_type text not null check (credit_type in ('revenue', 'overlay')),
    deal_fingerprint text not null,       -- what made this version (amount, date, product, splits)
    recorded_at timestamptz not null default now(),
    recorded_by text not null default current_user
);
create index if not exists deal_credits_deal on finance.deal_credits (opportunity_id, deal_version);

create table if not exists finance.payout_runs (
    run_id bigint generated always as identity primary key,
    period date not null check (period = date_trunc('month', period)::date),
    plan_versions jsonb not null,         -- [{plan_id, version, sha256}]
    input_fingerprint text not null,      -- sha256 of the credits, quotas and plans it read
    last_credit_id bigint not null,       -- the credits ledger as it stood (replay reads up to here)
    mlflow_run_id text not null,
    lines integer not null,
    earned numeric(18, 2) not null,
    payable numeric(18, 2) not null,
    ran_at timestamptz not null default now(),
    ran_by text not null default current_user
);

create table if not exists finance.payout_lines (
    run_id bigint not null references finance.payout_runs (run_id),
    line_no integer not null,
    period date not null,                 -- paid in
    earned_period date not null,          -- earned in (an adjustment: the period it corrects)
    rep_name text not null,
    opportunity_id text,
    plan_id text,
    plan_version integer,
    component text not null,
    rule text not null,
    tier integer,
    rate text,
    base numeric(18, 2) not null,
    amount numeric(18, 2) not null,
    kind text not null check (kind in ('earned', 'draw', 'recovery', 'adjustment', 'clawback')),
    reason text not null,
    mlflow_run_id text not null,
    primary key (run_id, line_no)
);
create index if not exists payout_lines_period on finance.payout_lines (period, rep_name);

create table if not exists finance.payout_statements (
    run_id bigint not null references finance.payout_runs (run_id),
    period date not null,
    rep_name text not null,
    earned numeric(18, 2) not null,
    draws numeric(18, 2) not null,
    recoveries numeric(18, 2) not null,
    adjustments numeric(18, 2) not null,
    clawbacks numeric(18, 2) not null,
    payable numeric(18, 2) not null,
    primary key (run_id, rep_name),
    constraint payout_statements_add_up check (
        payable = earned + draws - recoveries + adjustments - clawbacks
    )
);

create table if not exists finance.payout_adjustments (
    adjustment_id bigint generated always as identity primary key,
    period date not null check (period = date_trunc('month', period)::date),
    rep_name text not null,
    amount numeric(18, 2) not null check (amount <> 0),
    reason text not null check (length(trim(reason)) > 0),
    approved_by text not null check (length(trim(approved_by)) > 0),
    entered_by text not null default current_user,
    entered_at timestamptz not null default now()
);

create table if not exists finance.period_locks (
    period date primary key check (period = date_trunc('month', period)::date),
    run_id bigint not null references finance.payout_runs (run_id),
    locked_at timestamptz not null default now(),
    locked_by text not null default current_user
);

-- Which payee a rep's login is (row-level security below).
create table if not exists finance.rep_logins (
    role_name text primary key,
    rep_name text not null
);

create or replace function finance.refuse_locked_period() returns trigger
language plpgsql as $$
begin
    if exists (select 1 from finance.period_locks as l where l.period = new.period) then
        raise exception 'period % is locked: % into %.% refused (post the difference in the next open period)',
            to_char(new.period, 'YYYY-MM'), tg_op, tg_table_schema, tg_table_name
            using errcode = 'insufficient_privilege';
    end if;
    return new;
end
$$;

do $$
declare
    t text;
begin
    foreach t in array array['payout_runs', 'payout_lines', 'payout_statements', 'payout_adjustments'] loop
        execute format('create or replace trigger %I before insert on finance.%I for each row '
                       'execute function finance.refuse_locked_period()', t || '_not_locked', t);
    end loop;
    foreach t in array array['commission_plans', 'credit_splits', 'deal_credits', 'payout_runs',
                             'payout_lines', 'payout_statements', 'payout_adjustments', 'period_locks'] loop
        execute format('create or replace trigger %I before update or delete or truncate on finance.%I '
                       'for each statement execute function finance.refuse_change()', t || '_append_only', t);
    end loop;
    if not exists (select 1 from pg_roles where rolname = 'sales_rep') then
        create role sales_rep nologin;
    end if;
end
$$;

revoke all on table finance.commission_plans, finance.credit_splits, finance.deal_credits,
    finance.payout_runs, finance.payout_lines, finance.payout_statements, finance.payout_adjustments,
    finance.period_locks, finance.rep_logins from public;
grant select, insert on table finance.commission_plans, finance.deal_credits, finance.payout_runs,
    finance.payout_lines, finance.payout_statements, finance.period_locks, finance.payout_adjustments,
    finance.credit_splits to salesops_ml;
grant select on table finance.rep_logins to salesops_ml;
grant select on table finance.commission_plans, finance.credit_splits, finance.deal_credits,
    finance.payout_runs, finance.payout_lines, finance.payout_statements, finance.payout_adjustments,
    finance.period_locks to finance_reader;

-- A rep's login (a member of sales_rep, mapped in finance.rep_logins) reads its own lines and
-- statements; finance_reader reads them all. The payout engine's role writes every rep's lines
-- (with COPY, which row-level security would refuse), so it bypasses the policies.
alter role salesops_ml bypassrls;
grant usage on schema finance to sales_rep;
grant select on table finance.payout_lines, finance.payout_statements, finance.rep_logins to sales_rep;
alter table finance.payout_lines enable row level security;
alter table finance.payout_statements enable row level security;
alter table finance.rep_logins enable row level security;
drop policy if exists own_lines on finance.payout_lines;
create policy own_lines on finance.payout_lines for select to sales_rep
    using (rep_name in (select l.rep_name from finance.rep_logins as l where l.role_name = current_user));
drop policy if exists own_statements on finance.payout_statements;
create policy own_statements on finance.payout_statements for select to sales_rep
    using (rep_name in (select l.rep_name from finance.rep_logins as l where l.role_name = current_user));
drop policy if exists own_login on finance.rep_logins;
create policy own_login on finance.rep_logins for select to sales_rep using (role_name = current_user);
drop policy if exists finance_reads_all on finance.payout_lines;
create policy finance_reads_all on finance.payout_lines for select to finance_reader using (true);
drop policy if exists finance_reads_all on finance.payout_statements;
create policy finance_reads_all on finance.payout_statements for select to finance_reader using (true);
drop policy if exists finance_reads_all on finance.rep_logins;
create policy finance_reads_all on finance.rep_logins for select to finance_reader using (true);
