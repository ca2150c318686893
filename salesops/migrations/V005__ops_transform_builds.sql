-- Transform bookkeeping: a whole-project dbt build (salesops build, the transform DAG)
-- books at its start the newest ingestion batch visible then (batches_through) and the
-- batches that finished within the incremental lookback before it (recent_batch_ids: a
-- batch that finished earlier but committed later was not visible), and is marked
-- succeeded when every node passed. An incremental build tests the staging views and raw
-- sources only on batches the last succeeded build did not see (dbt/macros/test_scope.sql);
-- a full refresh tests every row.
create table if not exists ops.transform_builds (
    build_id bigint generated always as identity primary key,
    invocation_id text not null unique,
    batches_through timestamptz,
    recent_batch_ids bigint[] not null default '{}',
    started_at timestamptz not null default clock_timestamp(),
    finished_at timestamptz,
    succeeded boolean not null default false
);
