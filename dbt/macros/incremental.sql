{#- Where-clause of an incremental model over append-only raw feeds, keyed on exact load
    metadata (ops.ingestion_batches via stg_ops__ingestion_batches; each row of the model
    carries its batch's batch_finished_at). On an incremental run it reads the rows of the
    loaded batches that the model does not hold yet and that finished after the newest
    batch it holds minus var('incremental_lookback').

    Why it is exact: a batch is one transaction, so it becomes visible all at once and a
    run reads it whole; a batch with at least one row in the model has been processed.
    A batch not in the model is new, or was processed but all its rows were superseded
    by a later delivery (or it had no rows): re-reading those is harmless, because the
    model keeps the latest delivery of each key, and cheap (they are few and small).
    The lookback covers the commit gap: finished_at is set by the last statement of a
    batch's transaction, milliseconds before its commit, so two concurrent loads may
    become visible in the other order (A finishes at t1, B at t2 > t1, B commits first;
    a run that saw B but not A must still pick A up). Only that gap matters, so the
    default '1 minute' is a wide margin; since batches already held are skipped, even a
    longer lookback costs almost nothing.

    The filter (batch_in) is a range test on the raw table's batch column, which the BRIN
    index on raw _batch_id serves and which Postgres applies before the staging view's
    per-row cleaning, then the exact `= any(...)`.

    raw_table: the raw table the staging view reads (as ops.ingestion_batches names it):
    only its batches are candidates. batch_column: the staging view's batch id column.
    Needs an index on the model's batch_id (and one on batch_finished_at for the max). -#}
{% macro incremental_window(raw_table, batch_column='batch_id') -%}
    {%- if is_incremental() %}
    {%- set new_batch_ids -%}
    array(
        select new_batches.batch_id
        from {{ ref('stg_ops__ingestion_batches') }} as new_batches
        where
            new_batches.raw_table = '{{ raw_table }}'
            and new_batches.batch_finished_at > (
                select
                    coalesce(max(held.batch_finished_at), '-infinity'::timestamptz)
                    - interval '{{ var("incremental_lookback") }}'
                from {{ this }} as held
            )
            and not exists (
                select
                from {{ this }} as held
                where held.batch_id = new_batches.batch_id
            )
    )
    {%- endset %}
    where {{ batch_in(batch_column, new_batch_ids) }}
    {%- endif %}
{%- endmacro %}

{#- batch_column is one of the batch ids an array expression lists. The range test comes
    first and alone is cheap: it skips older rows through the BRIN index on raw _batch_id
    (BRIN cannot serve `= any`), and the planner otherwise evaluated a staging view's
    cleaning expressions before the `= any` on every row. The test that the list is not
    empty refers to no row, so Postgres runs it once and skips the scan when it fails
    (a deduplicating view cannot take the batch filter below its window). -#}
{% macro batch_in(batch_column, batch_ids) -%}
    cardinality({{ batch_ids }}) > 0
    and {{ batch_column }} >= (select min(listed.batch_id) from unnest({{ batch_ids }}) as listed (batch_id))
    and {{ batch_column }} = any({{ batch_ids }})
{%- endmacro %}

{#- In an incremental run, keep a row of the window only if it is at least as recent a
    delivery as the row the model already holds for its key (latest _loaded_at, then
    batch id, then row number: macros/keys.sql latest_delivery). A batch that committed
    late but was loaded earlier must not overwrite a later delivery; a full refresh
    ranks them the same way. Join condition for `left join {{ this }} as existing`. -#}
{% macro is_not_older_than_existing(new, existing='existing') -%}
    (
        {{ existing }}.loaded_at is null
        or ({{ new }}.loaded_at, {{ new }}.batch_id, {{ new }}.source_row_number)
        >= ({{ existing }}.loaded_at, {{ existing }}.batch_id, {{ existing }}.source_row_number)
    )
{%- endmacro %}

{#- delete+insert of the incremental models (overrides dbt's, which it then calls): nested
    loops back on first. The change-set models turn them off for their query
    (plan_for_change_sets), and the delete of the replaced keys then hashed the whole
    target (1.3M rows of int_leads_enriched to replace 28k: 2 s) instead of looking each
    key up in its unique index. -#}
{% macro postgres__get_incremental_delete_insert_sql(arg_dict) -%}
    set local enable_nestloop = on;
    {{ get_delete_insert_merge_sql(
        arg_dict["target_relation"], arg_dict["temp_relation"], arg_dict["unique_key"],
        arg_dict["dest_columns"], arg_dict["incremental_predicates"]
    ) }}
{%- endmacro %}
