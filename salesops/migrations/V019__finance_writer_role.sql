-- Review of V016 (issue 11): finance's decisions are finance's. The payout engine's role
-- (salesops_ml) computes and writes runs, lines and statements; locking a month, entering a
-- manual adjustment and splitting a deal's credit are done as salesops_finance, a login that
-- reads what finance_reader reads (its row-level security policies included) and may insert
-- exactly those three kinds of rows.

do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'salesops_finance') then
        create role salesops_finance login;
    end if;
end
$$;

grant finance_reader to salesops_finance;
grant insert on table finance.period_locks, finance.payout_adjustments, finance.credit_splits
    to salesops_finance;
revoke insert on table finance.period_locks from salesops_ml;
