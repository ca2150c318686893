-- One row per resolved customer (organisation): every canonical company of
-- int_company_names_matched. A CRM account gives its own attributes (name,
-- industry, country, size, parent); a company known only from person records
-- takes its most frequent spelling, industry and country from them.
{{ config(materialized='table') }}

with

company_names as (

    select * from {{ ref('int_company_names_matched') }}

),

accounts as (

    select * from {{ ref('stg_crm_export__accounts') }}

),

person_records as (

    select * from {{ ref('int_contact_records_unioned') }}

),

customers as (

    select distinct canonical_company_key
    from company_names

),

record_values as (

    -- person records counted per company name and attribute values: the modes
    -- below weigh these ~56k rows instead of sorting 1.2M records per column
    select
        company_names.canonical_company_key,
        person_records.company_name,
        person_records.industry,
        person_records.country,
        person_records.region,
        person_records.company_key
        = company_names.canonical_company_key as is_canonical_spelling,
        count(*) as records
    from person_records
    inner join company_names
        on person_records.company_key = company_names.company_key
    group by 1, 2, 3, 4, 5, 6

),

canonical_spellings as (

    {{ weighted_mode('record_values', 'canonical_company_key', 'company_name',
                     'records', where='is_canonical_spelling') }}

),

spellings as (

    {{ weighted_mode('record_values', 'canonical_company_key', 'company_name',
                     'records') }}

),

industries as (

    {{ weighted_mode('record_values', 'canonical_company_key', 'industry',
                     'records') }}

),

countries as (

    {{ weighted_mode('record_values', 'canonical_company_key', 'country',
                     'records') }}

),

regions as (

    {{ weighted_mode('record_values', 'canonical_company_key', 'region',
                     'records') }}

),

record_attributes as (

    select
        customers.canonical_company_key,
        canonical_spellings.mode_value as most_common_spelling,
        spellings.mode_value as any_spelling,
        industries.mode_value as most_common_industry,
        countries.mode_value as most_common_country,
        regions.mode_value as most_common_region
    from customers
    left join canonical_spellings
        on
            customers.canonical_company_key
            = canonical_spellings.canonical_company_key
    left join spellings
        on customers.canonical_company_key = spellings.canonical_company_key
    left join industries
        on customers.canonical_company_key = industries.canonical_company_key
    left join countries
        on customers.canonical_company_key = countries.canonical_company_key
    left join regions
        on customers.canonical_company_key = regions.canonical_company_key

),

parents as (

    select
        accounts.company_key,
        {{ surrogate_key(['parent_names.canonical_company_key']) }}
            as parent_customer_id
    from accounts
    inner join company_names as parent_names
        on accounts.parent_company_key = parent_names.company_key

),

final as (

    select
        {{ surrogate_key(['customers.canonical_company_key']) }} as customer_id,
        customers.canonical_company_key as company_key,
        coalesce(
            accounts.account_name,
            record_attributes.most_common_spelling,
            record_attributes.any_spelling,
            customers.canonical_company_key
        ) as customer_name,
        accounts.account_name,
        accounts.company_key is not null as is_crm_account,
        coalesce(accounts.industry, record_attributes.most_common_industry)
            as industry,
        coalesce(accounts.country, record_attributes.most_common_country)
            as country,
        coalesce(accounts.region, record_attributes.most_common_region)
            as region,
        accounts.employees,
        accounts.annual_revenue_musd,
        accounts.year_established,
        case
            when accounts.employees is null then 'unknown'
            when accounts.employees < 200 then 'small'
            when accounts.employees < 1000 then 'mid_market'
            when accounts.employees < 5000 then 'large'
            else 'enterprise'
        end as size_band,
        coalesce(accounts.is_subsidiary, false) as is_subsidiary,
        parents.parent_customer_id,
        accounts.parent_account_name as parent_customer_name,
        coalesce(accounts.has_fixed_account_name, false) as has_fixed_name,
        coalesce(accounts.has_fixed_industry, false) as has_fixed_industry,
        coalesce(accounts.has_fixed_country, false) as has_fixed_country
    from customers
    left join accounts
        on customers.canonical_company_key = accounts.company_key
    left join record_attributes
        on
            customers.canonical_company_key
            = record_attributes.canonical_company_key
    left join parents
        on customers.canonical_company_key = parents.company_key

)

select * from final
