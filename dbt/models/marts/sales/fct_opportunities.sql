-- One row per CRM opportunity (all 8,800 of the Maven export: nothing is
-- filtered out). Defects that cannot be fixed are flagged (has_unknown_account,
-- has_unknown_stage, is_missing_amount, is_missing_rate, ...; their tests warn
-- with counts); fixable ones were mapped in staging (product, account names).
with

opportunities as (

    select * from {{ ref('int_opportunities_joined') }}

),

final as (

    select
        opportunity_id,
        opportunity_name,
        account_name,
        account_id,
        customer_id,
        customer_source,
        contact_id,
        product_name,
        product_series,
        rep_name,
        rep_id,
        manager_name,
        region,
        stage,
        stage_order,
        stage_semantics_source,
        pipeline,
        is_closed,
        is_won,
        created_date,
        engaged_date,
        closed_date,
        closed_month,
        amount,
        currency,
        amount_usd,
        usd_per_unit,
        rate_source,
        list_price,
        list_price_usd,
        open_amount,
        open_amount_currency,
        open_amount_usd,
        open_pipeline_value_usd,
        price_variance_pct,
        days_to_close,
        loss_reason,
        lead_source,
        probability_pct,
        has_unknown_account,
        has_unknown_product,
        has_unknown_rep,
        has_unknown_stage,
        has_fixed_product_name,
        has_fixed_account_name,
        is_missing_close_date,
        is_missing_amount,
        is_missing_engaged_date,
        is_closed_without_date,
        is_missing_rate,
        is_open_amount_from_list_price,
        is_account_matched_by_id,
        is_rep_matched_by_id,
        product_name_raw,
        account_name_raw,
        stage_raw,
        amount_raw,
        batch_id,
        loaded_at
    from opportunities

)

select * from final
