-- Every raw opportunity reaches fct_opportunities exactly once, and the won
-- amounts sum to the raw close values: counts and won amounts by currency equal
-- those of the latest delivery of each opportunity id in raw.crm_opportunities
-- (which deals are won is the mart's decision: the stage rules are tested by
-- the unit tests of stg_crm_export__opportunities). Returns the currencies that
-- disagree.
with

raw_rows as (

    select
        amount,
        _loaded_at as loaded_at,
        _batch_id as batch_id,
        _row_number as source_row_number,
        btrim(opportunity_id) as opportunity_id,
        coalesce(upper(btrim(currency)), 'USD') as currency
    from {{ source('crm_export', 'crm_opportunities') }}

),

raw_latest as (

    select distinct on (opportunity_id)
        opportunity_id,
        amount,
        currency,
        loaded_at,
        batch_id,
        source_row_number
    from raw_rows
    order by 1, 4 desc, 5 desc, 6 desc

),

won_ids as (

    select opportunity_id
    from {{ ref('fct_opportunities') }}
    where is_won

),

raw_totals as (

    select
        raw_latest.currency,
        count(*) as opportunities,
        coalesce(
            sum(raw_latest.amount) filter (
                where won_ids.opportunity_id is not null
            ),
            0
        ) as won_amount
    from raw_latest
    left join won_ids
        on raw_latest.opportunity_id = won_ids.opportunity_id
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
