-- Review of V016 (issue 11): a locked month cannot be reached through its run either, a lock
-- names a run of its own month, and the payout engine's role writes only what it computes.
--
-- - A line or statement must carry its run's month, and a locked run takes no more rows: before,
--   a row for an open month could be added to a locked run and count as paid.
-- - A lock's run is a run of the month it locks.
-- - Manual adjustments and credit splits are finance's entries (as the owner, or a role the owner
--   grants them to), not the engine's: salesops_ml may no longer insert them, and whoever enters
--   an adjustment cannot also be its approver.

create or replace function finance.refuse_locked_run() returns trigger
language plpgsql as $$
declare
    run_period date;
begin
    select r.period into run_period from finance.payout_runs as r where r.run_id = new.run_id;
    if new.period is distinct from run_period then
        raise exception '%.% of run % is for % (the run''s month), not %', tg_table_schema, tg_table_name,
            new.run_id, to_char(run_period, 'YYYY-MM'), to_char(new.period, 'YYYY-MM')
            using errcode = 'insufficient_privilege';
    end if;
    if exists (select 1 from finance.period_locks as l where l.run_id = new.run_id) then
        raise exception 'payout run % is locked: % into %.% refused', new.run_id, tg_op, tg_table_schema,
            tg_table_name
            using errcode = 'insufficient_privilege';
    end if;
    return new;
end
$$;

create or replace function finance.check_lock_run() returns trigger
language plpgsql as $$
begin
    if not exists (select 1 from finance.payout_runs as r where r.run_id = new.run_id and r.period = new.period) then
        raise exception 'a lock of % must name a payout run of that month (run % is not)',
            to_char(new.period, 'YYYY-MM'), new.run_id
            using errcode = 'insufficient_privilege';
    end if;
    return new;
end
$$;

create or replace trigger payout_lines_run_not_locked before insert on finance.payout_lines
    for each row execute function finance.refuse_locked_run();
create or replace trigger payout_statements_run_not_locked before insert on finance.payout_statements
    for each row execute function finance.refuse_locked_run();
create or replace trigger period_locks_run_of_month before insert on finance.period_locks
    for each row execute function finance.check_lock_run();

revoke insert on table finance.payout_adjustments, finance.credit_splits from salesops_ml;
alter table finance.payout_adjustments
    add constraint payout_adjustments_approved_by_another check (approved_by <> entered_by);
