-- CRM opportunities (Maven sales_pipeline.csv, Salesforce/HubSpot deal
-- exports): one row per opportunity id, the latest delivery. Product and
-- account names go through the fix seeds, stages through
-- seeds/opportunity_stages.csv (one vocabulary for every CRM).
with

source as (

    select * from {{ source('crm_export', 'crm_opportunities') }}

),

product_name_fixes as (

    select * from {{ ref('product_name_fixes') }}

),

account_name_fixes as (

    select * from {{ ref('account_name_fixes') }}

),

stages as (

    select * from {{ ref('opportunity_stages') }}

),

renamed as (

    select
        {{ clean_text('opportunity_id') }} as opportunity_id,
        {{ clean_text('opportunity_name') }} as opportunity_name,
        {{ clean_text('rep_name') }} as rep_name,
        {{ clean_text('product_name') }} as product_name_raw,
        {{ clean_text('account_name') }} as account_name_raw,
        {{ clean_text('stage') }} as stage_raw,
        created_date,
        engaged_date,
        closed_date,
        amount,
        coalesce(upper(btrim(currency)), '{{ var("reporting_currency") }}')
            as currency,
        probability_pct,
        {{ clean_text('lead_source') }} as lead_source,
        {{ clean_text('loss_reason') }} as loss_reason,
        {{ load_metadata_columns() }}
    from source

),

latest as (

    {{ latest_delivery('renamed', 'opportunity_id') }}

),

final as (

    select
        latest.opportunity_id,
        latest.opportunity_name,
        latest.rep_name,
        coalesce(product_fix.product_name, latest.product_name_raw)
            as product_name,
        latest.product_name_raw,
        product_fix.product_name is not null as has_fixed_product_name,
        coalesce(account_fix.account_name, latest.account_name_raw)
            as account_name,
        latest.account_name_raw,
        account_fix.account_name is not null as has_fixed_account_name,
        coalesce(
            {{ normalize_company_name('latest.account_name_raw') }},
            lower(latest.account_name_raw)
        ) as company_key,
        coalesce(stages.stage, latest.stage_raw) as stage,
        latest.stage_raw,
        stages.stage_order,
        stages.is_closed,
        stages.is_won,
        latest.created_date,
        latest.engaged_date,
        latest.closed_date,
        latest.amount,
        latest.currency,
        latest.probability_pct,
        latest.lead_source,
        latest.loss_reason,
        latest.batch_id,
        latest.source_file,
        latest.source_row_number,
        latest.loaded_at
    from latest
    left join product_name_fixes as product_fix
        on latest.product_name_raw = product_fix.raw_product_name
    left join account_name_fixes as account_fix
        on latest.account_name_raw = account_fix.raw_account_name
    left join stages
        on lower(latest.stage_raw) = stages.raw_stage

)

select * from final
