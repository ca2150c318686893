-- The current forecast category override of each deal: the latest row of
-- finance.forecast_category_overrides per opportunity.
with

source as (

    select * from {{ source('finance', 'forecast_category_overrides') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by opportunity_id
            order by override_id desc
        ) as recency
    from source

),

final as (

    select
        opportunity_id,
        forecast_category,
        reason,
        overridden_by,
        overridden_at
    from ranked
    where recency = 1

)

select * from final
