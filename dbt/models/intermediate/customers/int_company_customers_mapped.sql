-- Every normalised company name mapped to the customer it resolves to: its
-- canonical company (int_company_names_matched, exact or fuzzy) and that
-- company's customer (int_customers_resolved). The one lookup for every model
-- that reaches a customer through a company name.
with

company_names as (

    select * from {{ ref('int_company_names_matched') }}

),

customers as (

    select * from {{ ref('int_customers_resolved') }}

),

final as (

    select
        company_names.company_key,
        customers.customer_id,
        customers.is_crm_account
    from company_names
    inner join customers
        on company_names.canonical_company_key = customers.company_key

)

select * from final
