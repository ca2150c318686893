-- Accruals (issue 11): the commission the open month is expected to cost, from the open deals'
-- expected revenue (ml.opportunity_scores: amount x win probability) times the chance that an
-- open deal closes within a month (from the last 12 months), under the same plans; written by
-- each payout run for the month after it. Append-only; finance reads it.

create table if not exists finance.payout_projections (
    run_id bigint not null references finance.payout_runs (run_id),
    period date not null check (period = date_trunc('month', period)::date),   -- the open month
    rep_name text not null,
    open_deals integer not null check (open_deals >= 0),
    expected_bookings numeric(18, 2) not null,   -- sum of expected revenue x close_rate
    close_rate numeric(7, 6) not null check (close_rate between 0 and 1),
    expected_commission numeric(18, 2) not null,
    scores_as_of date not null,
    win_model_version text not null,
    primary key (run_id, rep_name)
);

create or replace trigger payout_projections_append_only
    before update or delete or truncate on finance.payout_projections
    for each statement execute function finance.refuse_change();

revoke all on table finance.payout_projections from public;
grant select, insert on table finance.payout_projections to salesops_ml;
grant select on table finance.payout_projections to finance_reader;
