-- Every raw opportunity reaches fct_opportunities exactly once, and the won
-- amounts sum to the raw close values: counts and won amounts by currency equal
-- those of the latest delivery of each opportunity id in raw.crm_opportunities.
-- Returns the currencies that disagree.
with

raw_rows as (

    select
        amount,
        _loaded_at as loaded_at,
        _batch_id as batch_id,
        _row_number as source_row_number,
        btrim(opportunity_id) as opportunity_id,
        lower(btrim(stage)) as stage,
        coalesce(upper(btrim(currency)), 'USD') as currency
    from {{ source('crm_export', 'crm_opportunities') }}

),

raw_latest as (

    select distinct on (opportunity_id)
        opportunity_id,
        stage,
        amount,
        currency,
        loaded_at,
        batch_id,
        source_row_number
    from raw_rows
    order by 1, 5 desc, 6 desc, 7 desc

),

raw_totals as (

    select
        currency,
        count(*) as opportunities,
        coalesce(
            sum(amount) filter (
                where stage in ('won', 'closed won', 'closedwon')
            ),
            0
        ) as won_amount
    from raw_latest
    group by 1

),

mart_totals as (

    select
        currency,
        count(*) as opportunities,
        coalesce(sum(amount) filter (where is_won), 0) as won_amount
    from {{ ref('fct_opportunities') }}
    group by 1

)

select
    raw_totals.opportunities as raw_opportunities,
    mart_totals.opportunities as mart_opportunities,
    raw_totals.won_amount as raw_won_amount,
    mart_totals.won_amount as mart_won_amount,
    coalesce(raw_totals.currency, mart_totals.currency) as currency
from raw_totals
full outer join mart_totals
    on raw_totals.currency = mart_totals.currency
where
    raw_totals.opportunities is distinct from mart_totals.opportunities
    or raw_totals.won_amount is distinct from mart_totals.won_amount
