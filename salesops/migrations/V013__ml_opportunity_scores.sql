-- Win probabilities of open opportunities (issue 10), appended by every scoring run and never
-- changed: one row per opportunity and as-of date (scoring the same date twice keeps the
-- first rows). Written by the ML role; dbt, BI and finance read them.

create table if not exists ml.opportunity_scores (
    opportunity_id text not null,
    as_of_date date not null,              -- what the features could see (nothing after it)
    probability numeric(7, 6) not null check (probability between 0 and 1),
    expected_revenue numeric(18, 2) not null,   -- USD: amount (or list price) x probability
    is_amount_from_list_price boolean not null, -- the deal has no amount yet (Maven's open deals)
    stage_at text not null,
    top_factors jsonb not null,            -- [{"feature", "value", "effect" (log-odds)}], top 3
    model_version text not null,           -- salesops-win-probability version (the champion)
    run_id text not null,                  -- the MLflow run of the scoring
    scored_at timestamptz not null default now(),
    primary key (opportunity_id, as_of_date)
);

create or replace trigger opportunity_scores_append_only
    before update or delete or truncate on ml.opportunity_scores
    for each statement execute function ml.refuse_change();

revoke all on table ml.opportunity_scores from public;
grant select, insert on table ml.opportunity_scores to salesops_ml;
grant select on table ml.opportunity_scores to salesops_transformer, bi_reader, finance_reader;
