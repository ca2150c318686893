-- Plans on invoiced or paid amounts, gross or margin (commission_base, commission_amount): the
-- orders of credited deals as a ledger, like the credits. A run records a new version of an order
-- when what it commissions changed (its invoice date, payment day, USD amount or cost; a refunded
-- or cancelled order is recorded at amount 0), so a dbt full refresh or a corrected ERP export
-- cannot change what a locked month paid: the run posts the difference in the next open month.
create table if not exists finance.deal_billing (
    billing_id bigint generated always as identity primary key,
    order_id text not null,
    order_version integer not null check (order_version >= 1),
    opportunity_id text not null,
    invoiced_on date not null,
    paid_on date,
    amount numeric(18, 2) not null,       -- USD; 0 for a refunded or cancelled order
    cost numeric(18, 2),                  -- USD; null when the export carries no cost
    currency text not null,
    order_fingerprint text not null,
    recorded_at timestamptz not null default now(),
    recorded_by text not null default current_user,
    unique (order_id, order_version)
);

create or replace trigger deal_billing_append_only before update or delete or truncate
    on finance.deal_billing for each statement execute function finance.refuse_change();

-- The billing ledger as a run read it (replay reads up to here); null for a run of booked plans only.
alter table finance.payout_runs add column if not exists last_billing_id bigint;

revoke all on table finance.deal_billing from public;
grant select, insert on table finance.deal_billing to salesops_ml;
grant select on table finance.deal_billing to finance_reader;
