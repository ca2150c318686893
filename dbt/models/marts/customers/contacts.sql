-- One row per resolved person: the records identity resolution merged (how
-- many, which, by which rules), the best value of each attribute, and PII
-- flags. BI readers get this table through a masked view; PII columns are
-- tagged in the docs.
-- Incremental: a run copies the contacts int_contacts_resolved derived since
-- its last run and deletes the contacts merged into others.
{{
    config(
        materialized='incremental',
        unique_key='contact_id',
        incremental_strategy='delete+insert',
        pre_hook=["{{ plan_for_change_sets() }}"],
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['refreshed_at']}],
        post_hook=["{{ delete_vanished_contacts('contact_id') }}"],
    )
}}

with

contacts as (

    select * from {{ ref('int_contacts_resolved') }}
    {% if is_incremental() -%}
        where
            refreshed_at > {{ last_refresh() }}
    {%- endif %}

),

final as (

    select
        contact_id,
        full_name,
        email,
        phone,
        company_name,
        customer_id,
        job_title,
        country,
        country_code,
        region,
        first_channel,
        first_seen_at,
        {{ utc_date('first_seen_at') }} as first_seen_date,
        last_seen_at,
        crm_owner_name,
        source_records,
        leads,
        source_record_ids,
        channels,
        match_rules,
        min_match_confidence,
        first_opportunity_id,
        cardinality(opportunity_ids) as opportunities,
        cardinality(opportunity_ids) > 0 as is_converted,
        source_records > 1 as is_merged,
        email is not null as has_email,
        phone is not null as has_phone,
        full_name is not null as has_name,
        (
            email is not null or phone is not null or full_name is not null
        ) as is_pii,
        refreshed_at
    from contacts

)

select * from final
