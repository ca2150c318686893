-- Reps whose stage conversion or activity falls well below their peers: for
-- each rep and measure, the rep's value over the whole period against the peer
-- baseline (the median of the reps of the same regional office with enough
-- volume), kept when the rep is worse by at least var('training_gap_threshold')
-- (a share of the baseline). Only reps and peers with at least
-- var('training_min_volume') deals / leads / responses for the measure count,
-- and a baseline needs three peers.
with

rep_months as (

    select * from {{ ref('int_rep_months_aggregated') }}

),

opportunities as (

    select * from {{ ref('int_opportunities_joined') }}

),

rep_totals as (

    select
        rep_name,
        manager_name,
        region,
        sum(deals_won) as deals_won,
        sum(deals_lost) as deals_lost,
        sum(won_days_to_close) as won_days_to_close,
        sum(won_deals_with_days) as won_deals_with_days,
        sum(activities) as activities,
        count(*) filter (where activities > 0) as active_months,
        sum(leads_assigned) as leads_assigned,
        sum(leads_responded) as leads_responded,
        sum(first_response_hours_sum) as first_response_hours_sum,
        sum(csat_responses) as csat_responses,
        sum(csat_score_sum) as csat_score_sum
    from rep_months
    where is_known_rep
    group by 1, 2, 3

),

rep_pipeline as (

    select
        rep_name,
        count(*) as opportunities,
        count(*) filter (
            where engaged_date is not null or stage_order >= 2
        ) as engaged_opportunities
    from opportunities
    group by 1

),

rep_rates as (

    -- each measure of each rep over the whole period, with the volume behind it
    select
        rep_totals.rep_name,
        rep_totals.manager_name,
        rep_totals.region,
        rep_totals.leads_assigned,
        rep_pipeline.opportunities,
        rep_totals.won_deals_with_days,
        rep_totals.activities,
        rep_totals.leads_responded,
        rep_totals.csat_responses,
        rep_totals.deals_won + rep_totals.deals_lost as closed_deals,
        {{ safe_divide(
            'rep_totals.leads_responded', 'rep_totals.leads_assigned'
        ) }} as lead_to_contacted_rate,
        {{ safe_divide(
            'rep_pipeline.engaged_opportunities', 'rep_pipeline.opportunities'
        ) }} as prospecting_to_engaging_rate,
        {{ safe_divide(
            'rep_totals.deals_won', 'rep_totals.deals_won + rep_totals.deals_lost'
        ) }} as engaging_to_won_rate,
        {{ safe_divide(
            'rep_totals.won_days_to_close', 'rep_totals.won_deals_with_days'
        ) }} as avg_days_to_close,
        {{ safe_divide(
            'rep_totals.activities', 'rep_totals.active_months'
        ) }} as activities_per_month,
        {{ safe_divide(
            'rep_totals.first_response_hours_sum', 'rep_totals.leads_responded'
        ) }} as avg_first_response_hours,
        {{ safe_divide(
            'rep_totals.csat_score_sum', 'rep_totals.csat_responses'
        ) }} as avg_csat
    from rep_totals
    left join rep_pipeline
        on rep_totals.rep_name = rep_pipeline.rep_name

),

measures_unpivoted as (

    -- one row per rep and metric: the volume behind it, the stage it measures,
    -- which direction is better and the training a shortfall suggests
    select
        rep_rates.rep_name,
        rep_rates.manager_name,
        rep_rates.region,
        metrics.volume,
        metrics.metric,
        metrics.stage,
        metrics.rep_value,
        metrics.is_higher_better,
        metrics.suggested_training
    from rep_rates
    cross join lateral (
        values
        (
            rep_rates.leads_assigned, 'lead_to_contacted_rate', 'contacted',
            rep_rates.lead_to_contacted_rate, true,
            'lead follow-up discipline: respond to every assigned lead'
        ),
        (
            rep_rates.opportunities, 'prospecting_to_engaging_rate',
            'prospecting', rep_rates.prospecting_to_engaging_rate, true,
            'qualification and discovery: move prospects into active deals'
        ),
        (
            rep_rates.closed_deals, 'engaging_to_won_rate', 'engaging',
            rep_rates.engaging_to_won_rate, true,
            'closing and negotiation: convert engaged deals into wins'
        ),
        (
            rep_rates.won_deals_with_days, 'avg_days_to_close', 'engaging',
            rep_rates.avg_days_to_close, false,
            'deal velocity: shorten the cycle from engagement to close'
        ),
        (
            rep_rates.activities, 'activities_per_month', null,
            rep_rates.activities_per_month, true,
            'activity planning: more calls, emails and meetings per month'
        ),
        (
            rep_rates.leads_responded, 'avg_first_response_hours', 'contacted',
            rep_rates.avg_first_response_hours, false,
            'speed to lead: respond faster to new leads'
        ),
        (
            rep_rates.csat_responses, 'avg_csat', null,
            rep_rates.avg_csat, true,
            'customer care: satisfaction after the sale'
        )
    ) as metrics (
        volume, metric, stage, rep_value, is_higher_better, suggested_training
    )

),

measures as (

    select *
    from measures_unpivoted
    where
        rep_value is not null
        and volume >= {{ var('training_min_volume') }}

),

baselines as (

    select
        region,
        metric,
        percentile_cont(0.5) within group (order by rep_value) as peer_baseline,
        count(*) as peer_reps
    from measures
    group by 1, 2
    having count(*) >= 3

),

gaps as (

    select
        measures.*,
        baselines.peer_baseline,
        baselines.peer_reps,
        measures.rep_value - baselines.peer_baseline as gap,
        case
            when measures.is_higher_better
                then {{ safe_divide(
                    'baselines.peer_baseline - measures.rep_value',
                    'baselines.peer_baseline'
                ) }}
            else {{ safe_divide(
                'measures.rep_value - baselines.peer_baseline',
                'baselines.peer_baseline'
            ) }}
        end as shortfall
    from measures
    inner join baselines
        on
            measures.region = baselines.region
            and measures.metric = baselines.metric

),

final as (

    select
        rep_name,
        manager_name,
        region,
        metric,
        stage,
        {{ round_ratio('rep_value') }} as rep_value,
        {{ round_ratio('peer_baseline') }} as peer_baseline,
        {{ round_ratio('gap') }} as gap,
        {{ round_ratio('shortfall') }} as gap_pct,
        is_higher_better,
        volume::bigint as volume,
        peer_reps,
        case
            when
                shortfall >= 2 * {{ var('training_gap_threshold') }}
                then 'high'
            else 'medium'
        end as priority,
        suggested_training
    from gaps
    where shortfall >= {{ var('training_gap_threshold') }}

)

select * from final
