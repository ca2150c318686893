-- No lead is dropped: every distinct (channel, lead id) delivered to the five
-- lead sources is one row of fct_leads.
with

delivered as (

    select 'crm_export:' || lead_id as lead_key
    from {{ ref('stg_crm_export__leads') }}
    union
    select 'web_forms:' || lead_id as lead_key
    from {{ ref('stg_web_forms__leads') }}
    union
    select 'marketing_events:' || lead_id as lead_key
    from {{ ref('stg_marketing_events__attendees') }}
    union
    select 'referrals:' || lead_id as lead_key
    from {{ ref('stg_referrals__referrals') }}
    union
    select 'ad_leads:' || lead_id as lead_key
    from {{ ref('stg_ad_leads__leads') }}

)

select delivered.lead_key
from delivered
left join {{ ref('fct_leads') }} as leads
    on delivered.lead_key = leads.lead_key
where leads.lead_key is null

union all

select leads.lead_key
from {{ ref('fct_leads') }} as leads
left join delivered
    on leads.lead_key = delivered.lead_key
where delivered.lead_key is null
