-- Marks a booked whole-project dbt build succeeded: `salesops build`'s on-run-end hook when no
-- node failed (dbt/macros/test_scope.sql), and the transform DAG after its marts gate passed
-- (salesops.transform.finish, in the transaction that moves the raw watermark). One statement
-- for both, so the DAG books without starting dbt (`dbt run-operation` cost ~1.5 s a call).
create or replace function ops.mark_transform_build_succeeded(build_invocation_id text) returns void
language sql as $$
    update ops.transform_builds
    set succeeded = true, finished_at = clock_timestamp()
    where invocation_id = build_invocation_id
$$;

revoke all on function ops.mark_transform_build_succeeded(text) from public;
grant execute on function ops.mark_transform_build_succeeded(text) to salesops_transformer;
