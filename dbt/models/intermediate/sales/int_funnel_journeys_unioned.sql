-- One row per journey through the sales funnel, so that every person and every
-- opportunity is counted once:
--   a person journey per resolved contact: channel = the contact's first
--     channel, cohort = the month first seen; it reaches 'contacted' on the
--     first rep response and 'prospecting' when one of the person's leads
--     converted (its first opportunity);
--   an opportunity journey per opportunity no person converted into (every
--     Maven deal on a Maven-only warehouse), entering at 'prospecting':
--     channel = its lead source when known, else crm_export; cohort = the
--     month created, else engaged; null when the CRM gives neither date, as
--     for Maven's Prospecting deals.
-- Stages: 1 lead, 2 contacted, 3 prospecting, 4 engaging, 5 won. A journey that
-- reached a later stage passed the earlier ones, even where no date is known.
-- Incremental: a run re-derives the journeys of the people changed since its
-- last run (contacts_changed_since), of the people whose rep responses changed,
-- and of every person with an opportunity (few: the CRM's deals), and all
-- opportunity journeys; post-hooks delete the journeys of people merged into
-- others and the opportunity journeys a person journey now credits.
-- depends_on: {{ ref('int_company_customers_tracked') }}
-- depends_on: {{ ref('int_contact_records_unioned') }}
-- depends_on: {{ ref('int_contact_records_clustered') }}
-- depends_on: {{ ref('int_activity_links_resolved') }}
{{
    config(
        materialized='incremental',
        unique_key='journey_id',
        incremental_strategy='delete+insert',
        pre_hook=["{{ plan_for_change_sets() }}"],
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['journey_id'], 'unique': true},
            {'columns': ['contact_id']},
            {'columns': ['refreshed_at']},
        ],
        post_hook=[
            "{{ delete_vanished_contacts('contact_id') }}",
            "{{ delete_credited_opportunity_journeys() }}",
        ],
    )
}}

with

opportunities as (

    select * from {{ ref('int_opportunities_joined') }}

),

{% if is_incremental() -%}
    {%- set since = last_refresh() %}
    affected_contacts as (

        {{ contacts_changed_since(since, responses=true) }}
        union
        select contact_id
        from {{ ref('int_contacts_resolved') }}
        where first_opportunity_id is not null
        union
        select contact_id
        from {{ this }}
        where journey_type = 'person' and opportunity_id is not null

    ),
{%- endif %}

contacts as (

    {{ rows_of_contacts(ref('int_contacts_resolved')) }}

),

rep_responses as (

    {{ rows_of_contacts(ref('int_rep_responses_unnested')) }}

),

lead_source_channels as (

    select * from {{ ref('lead_source_channels') }}

),

first_responses as (

    select
        contacts.contact_id,
        min(rep_responses.responded_at) as contacted_at
    from contacts
    inner join rep_responses
        on
            contacts.contact_id = rep_responses.contact_id
            and contacts.first_seen_at <= rep_responses.responded_at
    group by 1

),

person_journeys as (

    select
        'contact:' || contacts.contact_id as journey_id,
        'person' as journey_type,
        contacts.contact_id,
        contacts.first_channel as channel,
        {{ month_start(utc_date('contacts.first_seen_at')) }} as cohort_month,
        1 as entry_stage,
        {{ utc_date('contacts.first_seen_at') }} as lead_date,
        {{ utc_date('first_responses.contacted_at') }} as contacted_date,
        opportunities.opportunity_id,
        opportunities.created_date as prospecting_date,
        opportunities.engaged_date,
        opportunities.closed_date,
        opportunities.stage_order,
        opportunities.is_closed,
        opportunities.is_won,
        first_responses.contacted_at is not null as is_contacted
    from contacts
    left join first_responses
        on contacts.contact_id = first_responses.contact_id
    left join opportunities
        on
            contacts.first_opportunity_id = opportunities.opportunity_id
            -- an opportunity several people converted into is credited once,
            -- to the earliest of them (int_opportunities_joined.contact_id)
            and contacts.contact_id = opportunities.contact_id

),

opportunity_journeys as (

    select
        'opportunity:' || opportunities.opportunity_id as journey_id,
        'opportunity' as journey_type,
        null::text as contact_id,
        coalesce(source_channel.channel, 'crm_export') as channel,
        {{ month_start(
            'coalesce(opportunities.created_date, opportunities.engaged_date)'
        ) }} as cohort_month,
        3 as entry_stage,
        null::date as lead_date,
        null::date as contacted_date,
        opportunities.opportunity_id,
        opportunities.created_date as prospecting_date,
        opportunities.engaged_date,
        opportunities.closed_date,
        opportunities.stage_order,
        opportunities.is_closed,
        opportunities.is_won,
        false as is_contacted
    from opportunities
    left join lead_source_channels as source_channel
        on lower(opportunities.lead_source) = source_channel.lead_source
    left join person_journeys
        on opportunities.opportunity_id = person_journeys.opportunity_id
    where person_journeys.journey_id is null

),

unioned as (

    select * from person_journeys
    union all
    select * from opportunity_journeys

),

final as (

    select
        journey_id,
        journey_type,
        contact_id,
        channel,
        cohort_month,
        entry_stage,
        opportunity_id,
        lead_date,
        contacted_date,
        prospecting_date,
        engaged_date,
        case
            when is_won then 5
            when engaged_date is not null or stage_order >= 2 then 4
            when opportunity_id is not null then 3
            when is_contacted then 2
            else 1
        end as reached_stage,
        coalesce(is_closed and not is_won, false) as is_lost,
        case when is_won then closed_date end as won_date,
        current_timestamp as refreshed_at
    from unioned

)

select * from final
