-- One row per resolved person (contact): the records
-- int_contact_records_clustered put together, with the most frequent value of
-- each attribute, the customer most of the records name, the channel and time
-- the person was first seen, the CRM owner and the opportunities the person's
-- CRM leads converted into.
-- Incremental: a run re-derives the people whose records identity resolution
-- resolved again since the last run (and the contacts those records left), and
-- the people with a record at a company whose customer changed; contacts no
-- record belongs to any more are deleted.
-- depends_on: {{ ref('int_company_customers_tracked') }}
{{
    config(
        materialized='incremental',
        unique_key='contact_id',
        incremental_strategy='delete+insert',
        pre_hook=["{{ plan_for_change_sets() }}"],
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['contact_id'], 'unique': true},
            {'columns': ['refreshed_at']},
        ],
        post_hook=[
            "{{ delete_vanished_contacts('contact_id') }}",
        ],
    )
}}

with

{% if is_incremental() -%}
    affected_contacts as (

        {{ contacts_changed_since(last_refresh()) }}

    ),
{%- endif %}

clusters as (

    {{ rows_of_contacts(ref('int_contact_records_clustered')) }}

),

records as (

    {% if is_incremental() -%}
        {{ contact_records_matching(
            {'record_key': 'select clusters.record_key from clusters'}
        ) }}
    {%- else -%}
        select * from {{ ref('int_contact_records_unioned') }}
    {%- endif %}

),

company_customers as (

    select * from {{ ref('int_company_customers_mapped') }}

),

resolved_records as (

    select
        records.*,
        clusters.contact_id,
        clusters.match_rule,
        clusters.match_confidence,
        customers.customer_id,
        customers.is_crm_account,
        row_number() over (
            partition by clusters.contact_id
            order by
                {{ utc_date('records.created_at') }} nulls last,
                -- a CRM report copies the lead a channel delivered: same day,
                -- the channel record is the first sighting
                records.channel = 'crm_export',
                records.created_at,
                records.record_key
        ) as sighting_number
    from records
    inner join clusters
        on records.record_key = clusters.record_key
    left join company_customers as customers
        on records.company_key = customers.company_key

),

customer_votes as (

    select
        contact_id,
        customer_id,
        count(*) as votes,
        bool_or(is_crm_account) as is_crm_account
    from resolved_records
    where customer_id is not null
    group by 1, 2

),

contact_customer as (

    select distinct on (contact_id)
        contact_id,
        customer_id,
        votes,
        is_crm_account
    from customer_votes
    order by 1, 3 desc, 4 desc, 2

),

latest_owners as (

    -- the owner the CRM gives the person most recently
    select distinct on (contact_id)
        contact_id,
        owner_name as crm_owner_name,
        created_at
    from resolved_records
    where owner_name is not null
    order by 1, 3 desc

),

first_conversions as (

    -- the first opportunity the person's CRM leads converted into
    select distinct on (contact_id)
        contact_id,
        converted_opportunity_id as first_opportunity_id,
        created_at,
        record_key
    from resolved_records
    where converted_opportunity_id is not null
    order by 1, 3, 4

),

first_sighting as (

    select
        contact_id,
        acquisition_channel as first_channel,
        created_at as first_seen_at
    from resolved_records
    where sighting_number = 1

),

aggregated as (

    select
        contact_id,
        mode() within group (order by full_name) as full_name,
        mode() within group (order by email) as email,
        mode() within group (order by phone) as phone,
        mode() within group (order by company_name) as company_name,
        mode() within group (order by job_title) as job_title,
        mode() within group (order by country) as country,
        mode() within group (order by country_code) as country_code,
        mode() within group (order by region) as region,
        coalesce(
            array_agg(distinct converted_opportunity_id)
            filter (where converted_opportunity_id is not null),
            array[]::text[]
        ) as opportunity_ids,
        count(*) as source_records,
        count(*) filter (where record_type = 'lead') as leads,
        array_agg(
            channel || ':' || source_record_id order by created_at, record_key
        ) as source_record_ids,
        array_agg(distinct channel order by channel) as channels,
        array_agg(distinct match_rule order by match_rule) as match_rules,
        min(match_confidence) as min_match_confidence,
        max(created_at) as last_seen_at
    from resolved_records
    group by 1

),

final as (

    select
        aggregated.contact_id,
        aggregated.full_name,
        aggregated.email,
        aggregated.phone,
        aggregated.company_name,
        contact_customer.customer_id,
        aggregated.job_title,
        aggregated.country,
        aggregated.country_code,
        aggregated.region,
        first_sighting.first_channel,
        first_sighting.first_seen_at,
        aggregated.last_seen_at,
        latest_owners.crm_owner_name,
        first_conversions.first_opportunity_id,
        aggregated.opportunity_ids,
        aggregated.source_records,
        aggregated.leads,
        aggregated.source_record_ids,
        aggregated.channels,
        aggregated.match_rules,
        aggregated.min_match_confidence,
        current_timestamp as refreshed_at
    from aggregated
    inner join first_sighting
        on aggregated.contact_id = first_sighting.contact_id
    left join contact_customer
        on aggregated.contact_id = contact_customer.contact_id
    left join latest_owners
        on aggregated.contact_id = latest_owners.contact_id
    left join first_conversions
        on aggregated.contact_id = first_conversions.contact_id

)

select * from final
