-- When each company name last changed the customer it maps to (new name,
-- remapped, or gone: customer_id null). The per-person models re-derive the
-- people at companies changed since their last run: company matching is
-- global, so a new name can remap old ones.
{{
    config(
        materialized='incremental',
        unique_key='company_key',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['company_key'], 'unique': true},
            {'columns': ['changed_at']},
        ],
    )
}}

with

company_customers as (

    select * from {{ ref('int_company_customers_mapped') }}

),

{% if is_incremental() -%}
    final as (

        select
            company_customers.customer_id,
            company_customers.is_crm_account,
            coalesce(
                company_customers.company_key, held.company_key
            ) as company_key,
            current_timestamp as changed_at
        from company_customers
        full outer join {{ this }} as held
            on company_customers.company_key = held.company_key
        where
            held.company_key is null
            or company_customers.customer_id is distinct from held.customer_id
            or company_customers.is_crm_account
            is distinct from held.is_crm_account

    )
{%- else -%}
    final as (

        select
            company_key,
            customer_id,
            is_crm_account,
            current_timestamp as changed_at
        from company_customers

    )
{%- endif %}

select * from final
