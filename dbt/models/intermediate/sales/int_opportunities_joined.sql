-- Opportunities with everything the marts need beside them: the product (list
-- price, series), the rep's manager and regional office, the resolved customer,
-- the contact whose lead converted into it, and amounts in the reporting
-- currency.
-- No nested loops: the planner sizes the unnested converted opportunities at a
-- few hundred rows and looped over them for each of the 8,800 opportunities
-- (39M join-filter checks, most of this model's time).
{{
    config(
        materialized='table',
        pre_hook=['set local enable_nestloop = off'],
    )
}}

with

opportunities as (

    select * from {{ ref('stg_crm_export__opportunities') }}

),

products as (

    select * from {{ ref('stg_crm_export__products') }}

),

sales_reps as (

    select * from {{ ref('stg_crm_export__sales_reps') }}

),

company_customers as (

    select * from {{ ref('int_company_customers_mapped') }}

),

contacts as (

    select * from {{ ref('int_contacts_resolved') }}

),

currency_rates as (

    select * from {{ ref('currency_rates') }}

),

converting_contacts as (

    -- a contact's opportunities: those its CRM leads converted into
    select distinct on (converted.opportunity_id)
        converted.opportunity_id,
        contacts.contact_id,
        contacts.customer_id,
        contacts.first_channel,
        contacts.first_seen_at
    from contacts
    cross join unnest(contacts.opportunity_ids) as converted (opportunity_id)
    order by 1, 5, 2

),

joined as (

    select
        opportunities.opportunity_id,
        opportunities.opportunity_name,
        opportunities.account_name,
        opportunities.account_name_raw,
        converting_contacts.contact_id,
        opportunities.product_name,
        opportunities.product_name_raw,
        products.product_series,
        opportunities.rep_name,
        sales_reps.manager_name,
        sales_reps.regional_office as region,
        opportunities.stage,
        opportunities.stage_raw,
        opportunities.stage_order,
        opportunities.created_date,
        opportunities.engaged_date,
        opportunities.closed_date,
        opportunities.amount as amount_raw,
        opportunities.currency,
        products.list_price,
        opportunities.probability_pct,
        opportunities.lead_source,
        converting_contacts.first_channel as contact_first_channel,
        opportunities.has_fixed_product_name,
        opportunities.has_fixed_account_name,
        opportunities.batch_id,
        opportunities.loaded_at,
        coalesce(account_customers.customer_id, converting_contacts.customer_id)
            as customer_id,
        case
            when account_customers.customer_id is not null then 'account'
            when
                converting_contacts.customer_id is not null
                then 'converted_lead'
        end as customer_source,
        coalesce(opportunities.is_closed, false) as is_closed,
        coalesce(opportunities.is_won, false) as is_won,
        opportunities.stage_order is null as has_unknown_stage,
        -- won value; a Maven lost deal carries 0, which is no amount
        case when opportunities.is_won then opportunities.amount end as amount,
        case
            when opportunities.is_won
                then opportunities.amount * opportunity_rates.usd_per_unit
        end as amount_usd,
        products.list_price * product_rates.usd_per_unit as list_price_usd,
        case
            when opportunities.is_closed and not opportunities.is_won
                then coalesce(opportunities.loss_reason, 'unspecified')
        end as loss_reason,
        opportunities.account_name is null as has_unknown_account,
        products.product_name is null as has_unknown_product,
        sales_reps.rep_name is null as has_unknown_rep,
        opportunities.is_closed and opportunities.closed_date is null
            as is_closed_without_date,
        not coalesce(opportunities.is_closed, false)
        and opportunities.closed_date is null as is_missing_close_date,
        not coalesce(opportunities.is_won, false)
        and not coalesce(opportunities.is_closed, false)
        and opportunities.amount is null as is_missing_amount,
        opportunities.engaged_date is null
        and coalesce(opportunities.stage_order, 0)
        >= 2 as is_missing_engaged_date
    from opportunities
    left join products
        on opportunities.product_name = products.product_name
    left join sales_reps
        on opportunities.rep_name = sales_reps.rep_name
    left join company_customers as account_customers
        on opportunities.company_key = account_customers.company_key
    left join converting_contacts
        on opportunities.opportunity_id = converting_contacts.opportunity_id
    left join currency_rates as opportunity_rates
        on opportunities.currency = opportunity_rates.currency
    left join currency_rates as product_rates
        on products.currency = product_rates.currency

),

final as (

    select
        joined.*,
        {{ month_start('joined.closed_date') }} as closed_month,
        -- open deals carry no value in Maven: the list price stands in for
        -- forecasts
        case
            when not joined.is_closed then joined.list_price_usd
        end as open_pipeline_value_usd,
        case
            when joined.is_won and joined.list_price > 0
                then {{ round_ratio('joined.amount / joined.list_price - 1') }}
        end as price_variance_pct,
        case
            when joined.is_closed then joined.closed_date - joined.engaged_date
        end as days_to_close
    from joined

)

select * from final
