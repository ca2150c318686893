-- Opportunities with everything the marts need beside them: the product (list
-- price, series), the rep (by rep_id when both carry one, else by name) with
-- manager and regional office, the account (by account_id when the export has
-- ids, else by name) and its resolved customer, the contact whose lead
-- converted into it, and amounts in the reporting currency: at the user's rate
-- of the close month (reference.currency_rates), else the seed's average, else
-- the user's average for the currency; none -> is_missing_rate, never a silent
-- null. Rows that cannot count are flagged, not dropped (docs/data_quality.md).
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

accounts as (

    select * from {{ ref('stg_crm_export__accounts') }}

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

user_rates as (

    select * from {{ ref('stg_reference__user_currency_rates') }}

),

user_average_rates as (

    select
        currency,
        avg(usd_per_unit) as usd_per_unit
    from user_rates
    group by 1

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

opportunities_matched as (

    -- the rep and the account by id when both sides carry one, else by name
    select
        opportunities.*,
        coalesce(rep_by_id.rep_name, opportunities.rep_name)
            as rep_name_matched,
        coalesce(account_by_id.company_key, opportunities.company_key)
            as company_key_matched,
        coalesce(opportunities.account_name, account_by_id.account_name)
            as account_name_matched,
        account_by_id.account_id is not null as is_account_matched_by_id,
        rep_by_id.rep_id is not null as is_rep_matched_by_id
    from opportunities
    left join sales_reps as rep_by_id
        on opportunities.rep_id = rep_by_id.rep_id
    left join accounts as account_by_id
        on opportunities.account_id = account_by_id.account_id

),

joined as (

    select
        opportunities.opportunity_id,
        opportunities.opportunity_name,
        opportunities.account_name_matched as account_name,
        opportunities.account_name_raw,
        opportunities.account_id,
        opportunities.is_account_matched_by_id,
        converting_contacts.contact_id,
        opportunities.product_name,
        opportunities.product_name_raw,
        products.product_series,
        opportunities.rep_name_matched as rep_name,
        opportunities.rep_id,
        opportunities.is_rep_matched_by_id,
        sales_reps.manager_name,
        sales_reps.regional_office as region,
        opportunities.stage,
        opportunities.stage_raw,
        opportunities.stage_order,
        opportunities.stage_semantics_source,
        opportunities.pipeline,
        opportunities.created_date,
        opportunities.engaged_date,
        opportunities.closed_date,
        opportunities.amount as amount_raw,
        opportunities.currency,
        products.list_price,
        products.currency as list_price_currency,
        opportunities.probability_pct,
        opportunities.lead_source,
        converting_contacts.first_channel as contact_first_channel,
        opportunities.has_fixed_product_name,
        opportunities.has_fixed_account_name,
        opportunities.batch_id,
        opportunities.loaded_at,
        opportunities.is_closed,
        opportunities.is_won,
        opportunities.has_unknown_stage,
        coalesce(account_customers.customer_id, converting_contacts.customer_id)
            as customer_id,
        case
            when account_customers.customer_id is not null then 'account'
            when
                converting_contacts.customer_id is not null
                then 'converted_lead'
        end as customer_source,
        -- the deal's rate to USD: the user's rate of the close month, else the
        -- seed's average, else the user's average for the currency
        coalesce(
            month_rates.usd_per_unit,
            opportunity_rates.usd_per_unit,
            user_average_rates.usd_per_unit
        ) as usd_per_unit,
        case
            when month_rates.usd_per_unit is not null then 'user_month'
            when opportunity_rates.usd_per_unit is not null then 'seed_average'
            when user_average_rates.usd_per_unit is not null then 'user_average'
        end as rate_source,
        coalesce(product_rates.usd_per_unit, product_user_rates.usd_per_unit)
            as list_price_usd_per_unit,
        -- won value; a Maven lost deal carries 0, which is no amount
        case when opportunities.is_won then opportunities.amount end as amount,
        case
            when opportunities.is_closed and not opportunities.is_won
                then coalesce(opportunities.loss_reason, 'unspecified')
        end as loss_reason,
        opportunities.account_name_matched is null as has_unknown_account,
        products.product_name is null as has_unknown_product,
        sales_reps.rep_name is null as has_unknown_rep,
        opportunities.is_closed and opportunities.closed_date is null
            as is_closed_without_date,
        not opportunities.is_closed
        and opportunities.closed_date is null as is_missing_close_date,
        -- a won or open deal whose export carries no amount (a lost deal
        -- needs none)
        opportunities.amount is null
        and (opportunities.is_won or not opportunities.is_closed)
            as is_missing_amount,
        opportunities.engaged_date is null
        and opportunities.stage_order >= 2 as is_missing_engaged_date
    from opportunities_matched as opportunities
    left join products
        on opportunities.product_name = products.product_name
    left join sales_reps
        on opportunities.rep_name_matched = sales_reps.rep_name
    left join company_customers as account_customers
        on opportunities.company_key_matched = account_customers.company_key
    left join converting_contacts
        on opportunities.opportunity_id = converting_contacts.opportunity_id
    left join user_rates as month_rates
        on
            opportunities.currency = month_rates.currency
            and {{ month_start('opportunities.closed_date') }}
            = month_rates.rate_month
    left join currency_rates as opportunity_rates
        on opportunities.currency = opportunity_rates.currency
    left join user_average_rates
        on opportunities.currency = user_average_rates.currency
    left join currency_rates as product_rates
        on products.currency = product_rates.currency
    left join user_average_rates as product_user_rates
        on products.currency = product_user_rates.currency

),

valued as (

    select
        joined.*,
        joined.amount * joined.usd_per_unit as amount_usd,
        joined.list_price * joined.list_price_usd_per_unit as list_price_usd,
        -- an open deal is worth its own amount; the list price stands in only
        -- when the export carries none
        not joined.is_closed
        and joined.amount_raw is null
        and joined.list_price is not null as is_open_amount_from_list_price
    from joined

),

derived as (

    select
        valued.*,
        {{ month_start('valued.closed_date') }} as closed_month,
        case
            when valued.is_open_amount_from_list_price then valued.list_price
            when not valued.is_closed then valued.amount_raw
        end as open_amount,
        case
            when
                valued.is_open_amount_from_list_price
                then valued.list_price_currency
            when
                not valued.is_closed and valued.amount_raw is not null
                then valued.currency
        end as open_amount_currency,
        case
            when
                valued.is_open_amount_from_list_price
                then valued.list_price_usd
            when
                not valued.is_closed
                then valued.amount_raw * valued.usd_per_unit
        end as open_amount_usd,
        case
            when valued.is_won and valued.list_price > 0
                then {{ round_ratio('valued.amount / valued.list_price - 1') }}
        end as price_variance_pct,
        -- from engagement, else from creation; a close before the start is
        -- no duration (expression test on stg_crm_export__opportunities)
        case
            when
                valued.is_closed
                and valued.closed_date
                >= coalesce(valued.engaged_date, valued.created_date)
                then
                    valued.closed_date
                    - coalesce(valued.engaged_date, valued.created_date)
        end as days_to_close
    from valued

),

final as (

    select
        derived.*,
        -- what forecasts read for an open deal (the name they know it by)
        derived.open_amount_usd as open_pipeline_value_usd,
        -- an amount in a currency no rate table knows has no USD value
        (derived.amount is not null and derived.amount_usd is null)
        or (
            derived.open_amount is not null and derived.open_amount_usd is null
        ) as is_missing_rate
    from derived

)

select * from final
