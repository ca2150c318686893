-- One row per resolved customer (organisation): who they are (industry, region,
-- size, tags), how they came (first channel, first seen), and what they did
-- (contacts, leads, opportunities, won deals and revenue, orders, last
-- activity, satisfaction, RFM).
with

customers as (

    select * from {{ ref('int_customers_resolved') }}

),

company_customers as (

    select * from {{ ref('int_company_customers_mapped') }}

),

contacts as (

    select * from {{ ref('int_contacts_resolved') }}

),

leads as (

    select * from {{ ref('int_leads_enriched') }}

),

opportunities as (

    select * from {{ ref('int_opportunities_joined') }}

),

orders as (

    select * from {{ ref('stg_orders__orders') }}

),

survey_responses as (

    select * from {{ ref('stg_surveys__responses') }}

),

activity_links as (

    select * from {{ ref('int_activity_links_resolved') }}

),

as_of as (

    -- RFM recency is measured at the end of the data, not the wall clock, so a
    -- rebuild of the same data gives the same segments
    select max(closed_date) as as_of_date
    from opportunities

),

contact_sightings as (

    -- one pass over the people: how many per customer and channel, and the
    -- first sighting of each (first_sightings only needs each group's earliest)
    select
        customer_id,
        first_channel as channel,
        {{ utc_date('min(first_seen_at)') }} as seen_date,
        count(*) as records
    from contacts
    where customer_id is not null
    group by 1, 2

),

lead_sightings as (

    select
        customer_id,
        acquisition_channel as channel,
        min(created_date) as seen_date,
        count(*) as records
    from leads
    where customer_id is not null
    group by 1, 2

),

contact_stats as (

    select
        customer_id,
        sum(records)::bigint as contacts
    from contact_sightings
    group by 1

),

lead_stats as (

    select
        customer_id,
        sum(records)::bigint as leads
    from lead_sightings
    group by 1

),

sightings as (

    -- every first contact with the customer, from whichever side it happened;
    -- on the same day a channel sighting wins over the CRM's own record of it
    select
        customer_id,
        seen_date,
        channel,
        1 as source_priority
    from contact_sightings
    union all
    select
        customer_id,
        seen_date,
        channel,
        1 as source_priority
    from lead_sightings
    union all
    select
        customer_id,
        coalesce(created_date, engaged_date) as seen_date,
        'crm_export' as channel,
        2 as source_priority
    from opportunities
    where customer_id is not null

),

first_sightings as (

    select distinct on (customer_id)
        customer_id,
        seen_date as first_seen_date,
        channel as first_channel,
        source_priority
    from sightings
    where seen_date is not null
    order by 1, 2, 4, 3

),

opportunity_stats as (

    select
        customer_id,
        count(*) as opportunities,
        count(*) filter (where is_won) as deals_won,
        count(*) filter (where is_closed and not is_won) as deals_lost,
        count(*) filter (where not is_closed) as open_opportunities,
        coalesce(sum(amount_usd) filter (where is_won), 0) as lifetime_revenue,
        max(closed_date) filter (where is_won) as last_won_date
    from opportunities
    where customer_id is not null
    group by 1

),

order_customers as (

    select
        orders.order_id,
        orders.amount_usd,
        orders.is_revenue,
        orders.order_date,
        coalesce(
            opportunities.customer_id, order_customer.customer_id
        ) as customer_id
    from orders
    left join opportunities
        on orders.opportunity_id = opportunities.opportunity_id
    left join company_customers as order_customer
        on orders.company_key = order_customer.company_key

),

order_stats as (

    select
        customer_id,
        count(*) filter (where is_revenue) as orders,
        coalesce(sum(amount_usd) filter (where is_revenue), 0) as order_revenue,
        max(order_date) filter (where is_revenue) as last_order_date
    from order_customers
    where customer_id is not null
    group by 1

),

survey_customers as (

    select
        survey_responses.response_id,
        survey_responses.score,
        survey_responses.survey_type,
        survey_responses.is_valid_csat,
        coalesce(
            opportunities.customer_id, survey_customer.customer_id
        ) as customer_id
    from survey_responses
    left join opportunities
        on survey_responses.opportunity_id = opportunities.opportunity_id
    left join company_customers as survey_customer
        on survey_responses.company_key = survey_customer.company_key

),

survey_stats as (

    select
        customer_id,
        count(*) filter (where is_valid_csat) as csat_responses,
        {{ round_money('avg(score) filter (where is_valid_csat)') }}
            as avg_csat,
        count(*) filter (where survey_type = 'nps') as nps_responses,
        {{ round_ratio(
            "100.0 * (count(*) filter (where survey_type = 'nps' and score >= 9)"
            ~ " - count(*) filter (where survey_type = 'nps' and score <= 6))"
            ~ " / nullif(count(*) filter (where survey_type = 'nps'), 0)"
        ) }} as nps
    from survey_customers
    where customer_id is not null
    group by 1

),

activity_stats as (

    select
        customer_id,
        sum(activities)::bigint as activities,
        max(last_activity_at) as last_activity_at
    from activity_links
    where customer_id is not null
    group by 1

),

combined as (

    select
        customers.*,
        opportunity_stats.last_won_date,
        order_stats.last_order_date,
        activity_stats.last_activity_at,
        survey_stats.csat_responses,
        survey_stats.avg_csat,
        survey_stats.nps,
        first_sightings.first_seen_date,
        coalesce(activity_stats.activities, 0) as activities,
        -- a customer never seen with a date is known from the CRM export (an
        -- account, a parent account or an undated deal)
        coalesce(first_sightings.first_channel, 'crm_export') as first_channel,
        coalesce(contact_stats.contacts, 0) as contacts,
        coalesce(lead_stats.leads, 0) as leads,
        coalesce(opportunity_stats.opportunities, 0) as opportunities,
        coalesce(opportunity_stats.deals_won, 0) as deals_won,
        coalesce(opportunity_stats.deals_lost, 0) as deals_lost,
        coalesce(opportunity_stats.open_opportunities, 0) as open_opportunities,
        coalesce(opportunity_stats.lifetime_revenue, 0) as lifetime_revenue,
        coalesce(order_stats.orders, 0) as orders,
        coalesce(order_stats.order_revenue, 0) as order_revenue,
        as_of.as_of_date - opportunity_stats.last_won_date as recency_days
    from customers
    cross join as_of
    left join contact_stats
        on customers.customer_id = contact_stats.customer_id
    left join lead_stats
        on customers.customer_id = lead_stats.customer_id
    left join opportunity_stats
        on customers.customer_id = opportunity_stats.customer_id
    left join order_stats
        on customers.customer_id = order_stats.customer_id
    left join survey_stats
        on customers.customer_id = survey_stats.customer_id
    left join activity_stats
        on customers.customer_id = activity_stats.customer_id
    left join first_sightings
        on customers.customer_id = first_sightings.customer_id

),

rfm_scored as (

    -- terciles among customers with won deals: 3 = most recent / most frequent
    -- / highest revenue
    select
        customer_id,
        ntile(3)
            over (order by recency_days desc, customer_id asc)
            as recency_score,
        ntile(3) over (order by deals_won, customer_id) as frequency_score,
        ntile(3) over (order by lifetime_revenue, customer_id) as monetary_score
    from combined
    where deals_won > 0

),

segmented as (

    select
        combined.*,
        rfm_scored.recency_score,
        rfm_scored.frequency_score,
        rfm_scored.monetary_score,
        case
            when rfm_scored.customer_id is null then 'prospect'
            when
                rfm_scored.recency_score = 3
                and rfm_scored.frequency_score + rfm_scored.monetary_score >= 5
                then 'champion'
            when rfm_scored.frequency_score + rfm_scored.monetary_score >= 5
                then 'loyal'
            when rfm_scored.recency_score = 3 then 'promising'
            when
                rfm_scored.recency_score = 1
                and rfm_scored.frequency_score + rfm_scored.monetary_score >= 4
                then 'at_risk'
            else 'needs_attention'
        end as rfm_segment
    from combined
    left join rfm_scored
        on combined.customer_id = rfm_scored.customer_id

),

tagged as (

    select
        segmented.*,
        array_remove(
            array[
                'industry:' || segmented.industry,
                'region:' || segmented.region,
                'size:' || segmented.size_band,
                'rfm:' || segmented.rfm_segment
            ],
            null
        ) as tags
    from segmented

),

final as (

    select
        customer_id,
        customer_name,
        account_name,
        is_crm_account,
        industry,
        country,
        region,
        size_band,
        employees,
        annual_revenue_musd,
        parent_customer_id,
        parent_customer_name,
        is_subsidiary,
        rfm_segment,
        recency_score,
        frequency_score,
        monetary_score,
        tags,
        first_channel,
        first_seen_date,
        contacts,
        leads,
        opportunities,
        open_opportunities,
        deals_won,
        deals_lost,
        lifetime_revenue,
        last_won_date,
        recency_days,
        orders,
        order_revenue,
        last_order_date,
        activities,
        last_activity_at,
        csat_responses,
        avg_csat,
        nps,
        has_fixed_name,
        has_fixed_industry,
        has_fixed_country
    from tagged

)

select * from final
