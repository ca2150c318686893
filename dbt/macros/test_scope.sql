{#- Data tests on append-only feeds test each row once. Tests configured with
    where: new_batches (every test under models/staging, dbt_project.yml) check, in an
    incremental build, only the rows of ingestion batches that finished after the mark
    of the last succeeded whole-project build (ops.transform_builds, booked by
    book_build_start / book_build_end), or within var('incremental_lookback') before it
    without being among the batches it saw (the commit gap, as in incremental_window):
    the rows of the batches it saw passed then, and raw rows never change. A
    --full-refresh build, or a warehouse with no succeeded build yet, tests every row. Relationship tests still look up their parents in full. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where == 'new_batches' -%}
        {%- set batch_column = '_batch_id' if relation.schema == 'raw' else 'batch_id' -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ new_batches_filter(batch_column)
                      ~ ') as dbt_subquery') -%}
    {%- elif where == 'new_rows' and execute -%}
        {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
        {%- for stamp in ['refreshed_at', 'aggregated_at', 'resolved_at'] if stamp in columns -%}
            {%- if loop.first -%}
                {%- do return('(select * from ' ~ relation ~ ' where ' ~ new_rows_filter(stamp)
                              ~ ') as dbt_subquery') -%}
            {%- endif -%}
        {%- endfor -%}
    {%- elif where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') as dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- Rows an incremental model derived since the last succeeded whole-project build finished
    (stamp: the column a model sets on every row it writes or changes, refreshed_at, or
    aggregated_at / resolved_at where those models call it so): the rows it has not tested.
    Tests configured with where: new_rows (models/intermediate and models/marts,
    dbt_project.yml) check only these on models that carry such a column, every row
    elsewhere and in a --full-refresh build. (The tests of int_leads_unioned and
    int_contact_records_unioned, whose rows only change with a new delivery, say
    where: new_batches.) Keys stay unique beyond the rows tested: those
    models replace rows by their unique key, under a unique index. -#}
{% macro new_rows_filter(stamp='refreshed_at') -%}
    {%- if is_full_refresh() -%}
    true
    {%- else -%}
    {{ stamp }} > coalesce(
        (
            select finished_at
            from ops.transform_builds
            where succeeded
            order by build_id desc
            limit 1
        ),
        '-infinity'::timestamptz
    )
    {%- endif -%}
{%- endmacro %}

{#- The rows of batches the last succeeded build did not see (see above): finished after
    its mark, or within the lookback before it without being among the batches it saw.
    ops tables are named directly: a macro resolved at run time cannot add source()
    dependencies. -#}
{% macro new_batches_filter(batch_column='batch_id') -%}
    {%- if is_full_refresh() -%}
    true
    {%- else -%}
    {%- set new_batch_ids -%}
    array(
        select batches.batch_id
        from ops.ingestion_batches as batches
        left join (
            select
                batches_through,
                recent_batch_ids
            from ops.transform_builds
            where succeeded
            order by build_id desc
            limit 1
        ) as tested
            on true
        where
            batches.finished_at > coalesce(
                tested.batches_through - interval '{{ var("incremental_lookback") }}',
                '-infinity'::timestamptz
            )
            and batches.batch_id != all(coalesce(tested.recent_batch_ids, '{}'))
    )
    {%- endset -%}
    {{ batch_in(batch_column, new_batch_ids) }}
    {%- endif -%}
{%- endmacro %}

{#- A whole-project build: `dbt build` with no node selection (`salesops build`, the transform
    DAG's one Cosmos build). Its on-run-start hook books it: the transform DAG's under its
    Airflow run id (SALESOPS_DAG_BUILD_ID, set for its tasks by transform.warehouse_env), any
    other under its dbt invocation id. Read only when executing, so the variable never makes
    dbt parse the project again. -#}
{% macro is_whole_project_build() -%}
    {{ return(flags.WHICH == 'build'
              and not invocation_args_dict.get('select') and not invocation_args_dict.get('exclude')) }}
{%- endmacro %}

{% macro booked_build_id() -%}
    {{ return(env_var('SALESOPS_DAG_BUILD_ID', '') or invocation_id) }}
{%- endmacro %}

{% macro book_build_start() -%}
    {%- if execute and is_whole_project_build() -%}
        {%- call statement('book_build_start') -%}
            insert into ops.transform_builds
                (invocation_id, batches_through, recent_batch_ids)
            select
                '{{ booked_build_id() | replace("'", "''") }}',
                mark.batches_through,
                array(
                    select batch_id
                    from ops.ingestion_batches
                    where finished_at between mark.batches_through
                        - interval '{{ var("incremental_lookback") }}' and mark.batches_through
                )
            from (select max(finished_at) as batches_through from ops.ingestion_batches) as mark
            on conflict (invocation_id) do nothing
        {%- endcall -%}
        {#- Committed now: a build that fails later stays booked, as started. -#}
        {%- do adapter.commit() -%}
    {%- endif -%}
{%- endmacro %}

{#- Marks the build succeeded when no node errored or failed (on-run-end passes the results).
    The transform DAG's build is marked by the DAG itself, after its quality gates passed
    (salesops.transform.finish calls the same function, migration V022). -#}
{% macro book_build_end(results=none) -%}
    {%- if execute and is_whole_project_build() and not env_var('SALESOPS_DAG_BUILD_ID', '') -%}
        {%- set failed = results | selectattr('status', 'in', ['error', 'fail', 'runtime error', 'skipped', 'partial success'])
                         | list if results else [] -%}
        {%- if not failed -%}
            {%- call statement('book_build_end') -%}
                select ops.mark_transform_build_succeeded('{{ invocation_id }}')
            {%- endcall -%}
            {%- do adapter.commit() -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- Whether this is a --full-refresh invocation (false when sqlfluff renders offline). -#}
{% macro is_full_refresh() -%}
    {{ return(flags is defined and flags.FULL_REFRESH) }}
{%- endmacro %}
