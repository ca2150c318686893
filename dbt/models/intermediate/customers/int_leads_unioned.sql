-- Every lead from every channel in one shape, one row per lead (lead_key =
-- '<channel>:<source id>'), the latest delivery winning. Incremental: a run
-- reads only the loaded batches the model does not hold yet that finished after
-- the newest one it holds, minus a short lookback (incremental_window on
-- batch_finished_at), and replaces the leads they carry, unless the model
-- already holds a later delivery; batch ids and finish times are global, so one
-- cursor serves all five sources. The per-row cleaning of the staging views
-- runs here, on the new batches only. first_loaded_at (when the lead was first
-- delivered) survives re-deliveries; lead routing orders by it, so assignments
-- already made never move when later batches arrive.
{{
    config(
        materialized='incremental',
        unique_key='lead_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['lead_key'], 'unique': true},
            {'columns': ['batch_finished_at']},
            {'columns': ['batch_id']},
            {'columns': ['email']},
            {'columns': ['phone']},
            {'columns': ['company_key']},
        ],
    )
}}

{%- set common = [
    'lead_id', 'created_at', 'full_name', 'email', 'phone', 'company_name',
    'company_key', 'batch_id', 'source_file', 'source_row_number', 'loaded_at',
] %}

with

crm_leads as (

    select
        'crm_export' as channel,
        {{ common | join(', ') }},
        first_name,
        last_name,
        job_title,
        industry,
        country,
        country_code,
        region,
        owner_name,
        lead_source,
        lead_status,
        converted_opportunity_id,
        null::text as campaign
    from {{ ref('stg_crm_export__leads') }}
    {{ incremental_window('raw.crm_leads') }}

),

web_form_leads as (

    select
        'web_forms' as channel,
        {{ common | join(', ') }},
        first_name,
        last_name,
        job_title,
        null::text as industry,
        country,
        country_code,
        region,
        null::text as owner_name,
        utm_source as lead_source,
        null::text as lead_status,
        null::text as converted_opportunity_id,
        utm_campaign as campaign
    from {{ ref('stg_web_forms__leads') }}
    {{ incremental_window('raw.web_form_leads') }}

),

event_leads as (

    select
        'marketing_events' as channel,
        {{ common | join(', ') }},
        first_name,
        last_name,
        job_title,
        null::text as industry,
        country,
        country_code,
        region,
        null::text as owner_name,
        event_name as lead_source,
        null::text as lead_status,
        null::text as converted_opportunity_id,
        event_id as campaign
    from {{ ref('stg_marketing_events__attendees') }}
    {{ incremental_window('raw.event_attendees') }}

),

referral_leads as (

    select
        'referrals' as channel,
        {{ common | join(', ') }},
        null::text as first_name,
        null::text as last_name,
        null::text as job_title,
        null::text as industry,
        null::text as country,
        null::text as country_code,
        null::text as region,
        null::text as owner_name,
        referrer_type as lead_source,
        null::text as lead_status,
        null::text as converted_opportunity_id,
        referrer_account as campaign
    from {{ ref('stg_referrals__referrals') }}
    {{ incremental_window('raw.referrals') }}

),

ad_leads as (

    select
        'ad_leads' as channel,
        {{ common | join(', ') }},
        null::text as first_name,
        null::text as last_name,
        job_title,
        null::text as industry,
        country,
        country_code,
        region,
        null::text as owner_name,
        platform as lead_source,
        null::text as lead_status,
        null::text as converted_opportunity_id,
        campaign_name as campaign
    from {{ ref('stg_ad_leads__leads') }}
    {{ incremental_window('raw.ad_leads') }}

),

unioned as (

    select * from crm_leads
    union all
    select * from web_form_leads
    union all
    select * from event_leads
    union all
    select * from referral_leads
    union all
    select * from ad_leads

),

ranked as (

    select
        unioned.*,
        unioned.channel || ':' || unioned.lead_id as lead_key,
        row_number() over (
            partition by unioned.channel, unioned.lead_id
            order by
                unioned.loaded_at desc,
                unioned.batch_id desc,
                unioned.source_row_number desc
        ) as delivery_rank,
        min(unioned.loaded_at) over (
            partition by unioned.channel, unioned.lead_id
        ) as window_first_loaded_at
    from unioned

),

lead_source_channels as (

    select * from {{ ref('lead_source_channels') }}

),

batches as (

    select * from {{ ref('stg_ops__ingestion_batches') }}

),

previous as (

    -- the delivery the model already holds for each lead, and when the lead
    -- was first delivered
    {% if is_incremental() -%}
        select
            lead_key,
            first_loaded_at,
            loaded_at,
            batch_id,
            source_row_number
        from {{ this }}
    {%- else -%}
        select
            null::text as lead_key,
            null::timestamptz as first_loaded_at,
            null::timestamptz as loaded_at,
            null::bigint as batch_id,
            null::bigint as source_row_number
        where false
    {%- endif %}

),

final as (

    select
        ranked.lead_key,
        ranked.channel,
        -- the channel the lead came through (a CRM lead report names it in
        -- its Lead Source)
        case
            when ranked.channel = 'crm_export'
                then coalesce(source_channel.channel, 'crm_export')
            else ranked.channel
        end as acquisition_channel,
        ranked.lead_id,
        ranked.created_at,
        {{ utc_date('ranked.created_at') }} as created_date,
        ranked.full_name,
        ranked.first_name,
        ranked.last_name,
        ranked.email,
        ranked.phone,
        ranked.company_name,
        ranked.company_key,
        ranked.job_title,
        ranked.industry,
        ranked.country,
        ranked.country_code,
        ranked.region,
        ranked.owner_name,
        ranked.lead_source,
        ranked.lead_status,
        ranked.converted_opportunity_id,
        ranked.campaign,
        ranked.batch_id,
        ranked.source_file,
        ranked.source_row_number,
        ranked.loaded_at,
        least(previous.first_loaded_at, ranked.window_first_loaded_at)
            as first_loaded_at,
        batches.batch_finished_at
    from ranked
    left join lead_source_channels as source_channel
        on lower(ranked.lead_source) = source_channel.lead_source
    left join previous
        on ranked.lead_key = previous.lead_key
    left join batches
        on ranked.batch_id = batches.batch_id
    where
        ranked.delivery_rank = 1
        and {{ is_not_older_than_existing('ranked', 'previous') }}

)

select * from final
