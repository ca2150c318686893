-- Activities, one row per activity id (latest delivery wins). Incremental: a
-- run reads only the batches loaded since the last run (incremental_window) and
-- replaces the activities they carry (delete+insert on activity_id); a full
-- refresh gives the same table. Only row-level columns live here, so nothing in
-- it can go stale when other data arrives (links to contacts and customers are
-- made downstream).
{{
    config(
        materialized='incremental',
        unique_key='activity_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['activity_id'], 'unique': true},
            {'columns': ['loaded_at']},
        ],
    )
}}

with

activities as (

    select * from {{ ref('stg_activities__activities') }}
    {{ incremental_window() }}

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
        activity_id,
        activity_type,
        occurred_at,
        {{ utc_date('occurred_at') }} as occurred_date,
        {{ month_start(utc_date('occurred_at')) }} as occurred_month,
        rep_name,
        lead_id,
        contact_email,
        opportunity_id,
        direction,
        subject,
        outcome,
        duration_minutes,
        is_rep_response,
        batch_id,
        source_file,
        source_row_number,
        loaded_at
    from ranked
    where delivery_rank = 1

)

select * from final
