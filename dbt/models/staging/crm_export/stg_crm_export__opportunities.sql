-- CRM opportunities (Maven sales_pipeline.csv, Salesforce/HubSpot/Zoho deal
-- exports): one row per opportunity id, the latest delivery. Product and
-- account names go through the fix seeds. What a stage means (won, lost, open)
-- is decided by the first of (docs/stage-maps-and-rates.md):
--   1. the export's own is_won / is_closed columns,
--   2. its forecast category (Closed -> won, Omitted -> lost),
--   3. the user's stage map (salesops stages load),
--   4. seeds/opportunity_stages.csv (the stages of the CRMs we know),
--   5. the label rule (macro stage_semantics_from_label: won / lost / closed
--      words in English, Spanish and Chinese),
--   6. else open, flagged has_unknown_stage (a warning, never a failed build).
-- Empty Salesforce lookups (000000000000000AAA) are null ids (macro clean_id).
with

source as (

    {{ raw_rows(source('crm_export', 'crm_opportunities')) }}

),

product_name_fixes as (

    select * from {{ ref('product_name_fixes') }}

),

account_name_fixes as (

    select * from {{ ref('account_name_fixes') }}

),

known_stages as (

    select * from {{ ref('opportunity_stages') }}

),

user_stages as (

    select * from {{ ref('stg_reference__user_stages') }}

),

renamed as (

    select
        {{ clean_text('opportunity_id') }} as opportunity_id,
        {{ clean_text('opportunity_name') }} as opportunity_name,
        {{ clean_text('rep_name') }} as rep_name,
        {{ clean_id('rep_id') }} as rep_id,
        {{ clean_text('product_name') }} as product_name_raw,
        {{ clean_text('account_name') }} as account_name_raw,
        {{ clean_id('account_id') }} as account_id,
        {{ clean_text('stage') }} as stage_raw,
        is_closed as is_closed_exported,
        is_won as is_won_exported,
        {{ clean_text('forecast_category') }} as forecast_category,
        {{ clean_text('pipeline') }} as pipeline,
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

stage_readings as (

    -- what each rule says about the stage (null: the rule does not know)
    select
        latest.*,
        case
            when latest.is_won_exported then 'won'
            when not latest.is_closed_exported then 'open'
            when latest.is_closed_exported and not latest.is_won_exported
                then 'lost'
        end as export_semantics,
        {{ stage_semantics_from_forecast('latest.forecast_category') }}
            as forecast_semantics,
        user_stages.stage_semantics as user_semantics,
        user_stages.stage_order as user_stage_order,
        case
            when known_stages.is_won then 'won'
            when known_stages.is_closed then 'lost'
            when known_stages.raw_stage is not null then 'open'
        end as seed_semantics,
        known_stages.stage_order as seed_stage_order,
        {{ stage_semantics_from_label('latest.stage_raw') }} as label_semantics
    from latest
    left join known_stages
        on lower(latest.stage_raw) = known_stages.raw_stage
    left join user_stages
        on lower(latest.stage_raw) = user_stages.stage_key

),

stage_decided as (

    select
        stage_readings.*,
        coalesce(
            stage_readings.forecast_semantics,
            stage_readings.user_semantics,
            stage_readings.seed_semantics,
            stage_readings.label_semantics
        ) as stage_semantics_read,
        case
            when stage_readings.export_semantics is not null then 'export'
            when
                stage_readings.is_closed_exported
                or stage_readings.is_won_exported is not null
                then 'export_and_stage'
            when
                stage_readings.forecast_semantics is not null
                then 'forecast_category'
            when stage_readings.user_semantics is not null then 'stage_map'
            when stage_readings.seed_semantics is not null then 'seed'
            when stage_readings.label_semantics is not null then 'label_rule'
            else 'unknown'
        end as stage_semantics_source
    from stage_readings

),

stage_semantic as (

    select
        stage_decided.*,
        case
            when
                stage_decided.export_semantics is not null
                then stage_decided.export_semantics
            -- closed (or not won) per the export, the outcome from the stage
            when
                stage_decided.is_closed_exported
                or stage_decided.is_won_exported is not null
                then
                    case
                        when
                            stage_decided.stage_semantics_read = 'won'
                            and stage_decided.is_won_exported is null
                            then 'won'
                        when
                            stage_decided.is_closed_exported
                            or stage_decided.stage_semantics_read in (
                                'won', 'lost'
                            )
                            then 'lost'
                        else 'open'
                    end
            else coalesce(stage_decided.stage_semantics_read, 'open')
        end as stage_semantics
    from stage_decided

),

stage_ordered as (

    -- funnel position: closed deals 3; an open stage where the user map or
    -- the seed places it, else 2 ("in progress")
    select
        stage_semantic.*,
        case
            when stage_semantic.stage_semantics <> 'open' then 3
            else
                coalesce(
                    stage_semantic.user_stage_order,
                    case
                        when stage_semantic.seed_semantics = 'open'
                            then stage_semantic.seed_stage_order
                    end,
                    2
                )
        end as stage_order
    from stage_semantic

),

final as (

    select
        stage_resolved.opportunity_id,
        stage_resolved.opportunity_name,
        stage_resolved.rep_name,
        stage_resolved.rep_id,
        coalesce(product_fix.product_name, stage_resolved.product_name_raw)
            as product_name,
        stage_resolved.product_name_raw,
        product_fix.product_name is not null as has_fixed_product_name,
        coalesce(account_fix.account_name, stage_resolved.account_name_raw)
            as account_name,
        stage_resolved.account_name_raw,
        account_fix.account_name is not null as has_fixed_account_name,
        stage_resolved.account_id,
        coalesce(
            {{ normalize_company_name('stage_resolved.account_name_raw') }},
            lower(stage_resolved.account_name_raw)
        ) as company_key,
        -- the common vocabulary; stage_raw keeps the CRM's own label
        case
            when stage_resolved.stage_semantics = 'won' then 'Won'
            when stage_resolved.stage_semantics = 'lost' then 'Lost'
            when stage_resolved.stage_order = 1 then 'Prospecting'
            else 'Engaging'
        end as stage,
        stage_resolved.stage_raw,
        stage_resolved.stage_semantics,
        stage_resolved.stage_semantics_source,
        stage_resolved.stage_order,
        stage_resolved.stage_semantics <> 'open' as is_closed,
        stage_resolved.stage_semantics = 'won' as is_won,
        stage_resolved.stage_semantics_source = 'unknown' as has_unknown_stage,
        stage_resolved.forecast_category,
        stage_resolved.pipeline,
        stage_resolved.created_date,
        stage_resolved.engaged_date,
        stage_resolved.closed_date,
        stage_resolved.amount,
        stage_resolved.currency,
        stage_resolved.probability_pct,
        stage_resolved.lead_source,
        stage_resolved.loss_reason,
        stage_resolved.batch_id,
        stage_resolved.source_file,
        stage_resolved.source_row_number,
        stage_resolved.loaded_at
    from stage_ordered as stage_resolved
    left join product_name_fixes as product_fix
        on stage_resolved.product_name_raw = product_fix.raw_product_name
    left join account_name_fixes as account_fix
        on stage_resolved.account_name_raw = account_fix.raw_account_name

)

select * from final
