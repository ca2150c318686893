-- Activities, one row per activity id (latest delivery wins). Incremental: a
-- run reads only the loaded batches the model does not hold yet that finished
-- after the newest one it holds, minus a short lookback (incremental_window, on
-- ops.ingestion_batches.finished_at carried as batch_finished_at), and
-- replaces the activities they carry (delete+insert on activity_id) unless the
-- model already holds a later delivery; a full refresh gives the same table.
-- The per-row cleaning of the staging view runs here, on the new batches only.
-- Only row-level columns live here, so nothing in it can go stale when other
-- data arrives (links to contacts and customers are made downstream). Each row
-- carries its link_key (lead id, contact email, opportunity id) and, when it
-- replaced an earlier delivery, that delivery's link key (replaced_link_key),
-- and when the run merged it (merged_at): int_activity_links_aggregated
-- re-aggregates exactly the link keys the rows merged since its last run
-- touched. The replaced delivery's rep, month and type (replaced_*) let
-- int_rep_activity_months_counted move its counts without re-reading 10M rows.
{{
    config(
        materialized='incremental',
        unique_key='activity_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['activity_id'], 'unique': true},
            {'columns': ['batch_finished_at']},
            {'columns': ['batch_id']},
            {'columns': ['link_key']},
            {'columns': ['merged_at']},
        ],
    )
}}

with

activities as (

    select * from {{ ref('stg_activities__activities') }}
    {{ incremental_window('raw.activities') }}

),

batches as (

    select * from {{ ref('stg_ops__ingestion_batches') }}

),

existing as (

    {% if is_incremental() -%}
        select
            activity_id,
            loaded_at,
            batch_id,
            source_row_number,
            link_key,
            rep_name,
            occurred_month,
            activity_type
        from {{ this }}
    {%- else -%}
        select
            null::text as activity_id,
            null::timestamptz as loaded_at,
            null::bigint as batch_id,
            null::bigint as source_row_number,
            null::text as link_key,
            null::text as rep_name,
            null::date as occurred_month,
            null::text as activity_type
        where false
    {%- endif %}

),

ranked as (

    select
        activities.*,
        row_number() over (
            partition by activities.activity_id
            order by
                activities.loaded_at desc,
                activities.batch_id desc,
                activities.source_row_number desc
        ) as delivery_rank
    from activities

),

final as (

    select
        ranked.activity_id,
        ranked.activity_type,
        ranked.occurred_at,
        {{ utc_date('ranked.occurred_at') }} as occurred_date,
        {{ month_start(utc_date('ranked.occurred_at')) }} as occurred_month,
        ranked.rep_name,
        ranked.lead_id,
        ranked.contact_email,
        ranked.opportunity_id,
        ranked.direction,
        ranked.subject,
        ranked.outcome,
        ranked.duration_minutes,
        ranked.is_rep_response,
        ranked.batch_id,
        ranked.source_file,
        ranked.source_row_number,
        ranked.loaded_at,
        batches.batch_finished_at,
        {{ activity_link_key('ranked') }} as link_key,
        existing.link_key as replaced_link_key,
        existing.rep_name as replaced_rep_name,
        existing.occurred_month as replaced_occurred_month,
        existing.activity_type as replaced_activity_type,
        -- when this run merged the row (its transaction time): downstream
        -- incremental models read the rows merged after the newest they hold
        current_timestamp as merged_at
    from ranked
    left join batches
        on ranked.batch_id = batches.batch_id
    left join existing
        on ranked.activity_id = existing.activity_id
    where
        ranked.delivery_rank = 1
        and {{ is_not_older_than_existing('ranked') }}

)

select * from final
