-- No lead is dropped or invented: every distinct (channel, lead id)
-- delivered to the five lead sources is one row of fct_leads, and fct_leads
-- holds exactly the leads of int_leads_unioned. In an incremental build the
-- rows checked are the new ones: deliveries and int_leads_unioned rows of the
-- batches no succeeded build has tested (new_batches_filter, as for the staging
-- tests), fct_leads rows derived since then (new_rows_filter); earlier rows
-- passed then, and neither table ever loses a lead key (int_leads_unioned only
-- adds keys, fct_leads replaces rows by key). With both keys unique (unique
-- index, primary key), equal row counts then make the two key sets equal.
-- The new rows are looked up one by one in the tables' unique indexes
-- (join_row_by_key), and the tables are counted directly, not through a CTE
-- Postgres materializes.
with

delivered as (

    select 'crm_export:' || lead_id as lead_key
    from {{ ref('stg_crm_export__leads') }}
    where {{ new_batches_filter() }}
    union
    select 'web_forms:' || lead_id as lead_key
    from {{ ref('stg_web_forms__leads') }}
    where {{ new_batches_filter() }}
    union
    select 'marketing_events:' || lead_id as lead_key
    from {{ ref('stg_marketing_events__attendees') }}
    where {{ new_batches_filter() }}
    union
    select 'referrals:' || lead_id as lead_key
    from {{ ref('stg_referrals__referrals') }}
    where {{ new_batches_filter() }}
    union
    select 'ad_leads:' || lead_id as lead_key
    from {{ ref('stg_ad_leads__leads') }}
    where {{ new_batches_filter() }}

),

new_leads as (

    select lead_key
    from {{ ref('fct_leads') }}
    where {{ new_rows_filter() }}

),

new_unioned as (

    select lead_key
    from {{ ref('int_leads_unioned') }}
    where {{ new_batches_filter() }}

)

select
    'delivered, not in fct_leads' as problem,
    delivered.lead_key
from delivered
{{ join_row_by_key(
    ref('fct_leads'), {'lead_key': 'delivered.lead_key'}, 'in_fct_leads'
) }}
where in_fct_leads.is_present is null

union all

select
    'in fct_leads, not in int_leads_unioned' as problem,
    new_leads.lead_key
from new_leads
{{ join_row_by_key(
    ref('int_leads_unioned'), {'lead_key': 'new_leads.lead_key'}, 'in_unioned'
) }}
where in_unioned.is_present is null

union all

select
    'in int_leads_unioned, not in fct_leads' as problem,
    new_unioned.lead_key
from new_unioned
{{ join_row_by_key(
    ref('fct_leads'), {'lead_key': 'new_unioned.lead_key'}, 'in_fct_leads'
) }}
where in_fct_leads.is_present is null

union all

select
    'fct_leads and int_leads_unioned differ in row count' as problem,
    null as lead_key
where
    (select count(*) as fct_leads_rows from {{ ref('fct_leads') }})
    != (select count(*) as unioned_rows from {{ ref('int_leads_unioned') }})
