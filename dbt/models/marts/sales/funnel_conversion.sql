-- The sales funnel by acquisition channel, cohort month and stage: how many
-- journeys entered each stage, how many advanced to the next, how many were
-- lost there or are still in it, the conversion rate and the median days spent
-- in the stage (for the journeys that advanced and whose both dates are known).
-- Stages: lead -> contacted -> prospecting -> engaging -> won (a person journey
-- starts at lead, a deal that no lead converted into at prospecting).
with

journeys as (

    select * from {{ ref('int_funnel_journeys_unioned') }}

),

stages as (

    select
        stage_order,
        stage
    from (
        values
        (1, 'lead'),
        (2, 'contacted'),
        (3, 'prospecting'),
        (4, 'engaging'),
        (5, 'won')
    ) as funnel_stages (stage_order, stage)

),

journey_stages as (

    select
        journeys.channel,
        journeys.cohort_month,
        stages.stage_order,
        stages.stage,
        journeys.reached_stage > stages.stage_order as has_advanced,
        journeys.reached_stage = stages.stage_order and journeys.is_lost
            as is_lost_here,
        case stages.stage_order
            when 1 then journeys.lead_date
            when 2 then journeys.contacted_date
            when 3 then journeys.prospecting_date
            when 4 then journeys.engaged_date
        end as stage_date,
        case stages.stage_order
            when 1 then journeys.contacted_date
            when 2 then journeys.prospecting_date
            when 3 then journeys.engaged_date
            when 4 then journeys.won_date
        end as next_stage_date
    from journeys
    inner join stages
        on
            journeys.entry_stage <= stages.stage_order
            and journeys.reached_stage >= stages.stage_order

),

final as (

    select
        channel,
        cohort_month,
        stage_order,
        stage,
        count(*) as entered,
        case
            when stage_order < 5 then count(*) filter (where has_advanced)
        end as advanced,
        count(*) filter (where is_lost_here) as lost,
        case
            when stage_order < 5
                then
                    count(*) filter (
                        where not has_advanced and not is_lost_here
                    )
        end as in_stage,
        case
            when stage_order < 5
                then {{ round_ratio(
                    'count(*) filter (where has_advanced)::numeric / count(*)'
                ) }}
        end as conversion_rate,
        {{ round_duration(
            'percentile_cont(0.5) within group (order by next_stage_date - stage_date)'
            ~ ' filter (where has_advanced)'
        ) }} as median_days_in_stage
    from journey_stages
    group by 1, 2, 3, 4

)

select * from final
