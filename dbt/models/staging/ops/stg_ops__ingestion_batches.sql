-- Loaded ingestion batches and when their transaction finished: the load
-- metadata the incremental models key their windows on.
with

source as (

    select * from {{ source('ops', 'ingestion_batches') }}

),

final as (

    select
        batch_id,
        raw_table,
        finished_at as batch_finished_at
    from source
    where status = 'loaded'

)

select * from final
