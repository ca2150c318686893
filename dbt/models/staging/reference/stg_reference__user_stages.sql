-- The user's stage map (salesops stages load): what each custom pipeline stage
-- of their CRM means. Lookup key: the lower-cased, trimmed stage label.
with

source as (

    select * from {{ source('reference', 'stage_map') }}

),

final as (

    select
        stage_key,
        raw_stage,
        stage_semantics,
        stage_order,
        loaded_at
    from source

)

select * from final
