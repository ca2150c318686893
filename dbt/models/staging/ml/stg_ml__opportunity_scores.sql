-- Win probabilities the forecast DAG appended (ml.opportunity_scores): every
-- scoring of every open opportunity, and whether it is the opportunity's
-- latest.
with

source as (

    select * from {{ source('ml', 'opportunity_scores') }}

),

final as (

    select
        opportunity_id,
        as_of_date,
        probability,
        expected_revenue,
        is_amount_from_list_price,
        stage_at,
        top_factors,
        model_version,
        run_id,
        scored_at,
        row_number() over (
            partition by opportunity_id
            order by as_of_date desc
        ) = 1 as is_latest
    from source

)

select * from final
