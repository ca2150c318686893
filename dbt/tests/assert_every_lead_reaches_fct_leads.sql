-- No lead is dropped or invented: every distinct (channel, lead id)
-- delivered to the five lead sources is one row of fct_leads, and fct_leads
-- holds exactly the leads of int_leads_unioned. In an incremental build the
-- deliveries checked are those of the batches no succeeded build has tested
-- (new_batches_filter, as for the staging tests); earlier deliveries passed
-- then, and the two tables are compared in full.
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

leads as (

    select lead_key from {{ ref('fct_leads') }}

),

unioned as (

    select lead_key from {{ ref('int_leads_unioned') }}

)

select
    'delivered, not in fct_leads' as problem,
    delivered.lead_key
from delivered
left join leads
    on delivered.lead_key = leads.lead_key
where leads.lead_key is null

union all

select
    'in fct_leads, not in int_leads_unioned' as problem,
    leads.lead_key
from leads
left join unioned
    on leads.lead_key = unioned.lead_key
where unioned.lead_key is null

union all

select
    'in int_leads_unioned, not in fct_leads' as problem,
    unioned.lead_key
from unioned
left join leads
    on unioned.lead_key = leads.lead_key
where leads.lead_key is null
