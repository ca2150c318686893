-- CRM accounts (Maven accounts.csv, Salesforce account reports): one row per
-- account, the latest delivery of each (natural key: the account id when the
-- export has ids, else the normalised account name). Accounts with the same
-- name but distinct ids stay distinct: their company_key carries the id
-- ('acme #001xyz'); a delivery by name only of a name one id holds is that
-- account. Fixable defects are mapped through documented seeds and flagged.
with

source as (

    {{ raw_rows(source('crm_export', 'crm_accounts')) }}

),

account_name_fixes as (

    select * from {{ ref('account_name_fixes') }}

),

industry_fixes as (

    select * from {{ ref('industry_fixes') }}

),

country_aliases as (

    select * from {{ ref('stg_reference__country_aliases') }}

),

renamed as (

    select
        {{ clean_text('account_name') }} as account_name_raw,
        {{ clean_id('account_id') }} as account_id,
        lower({{ clean_text('industry') }}) as industry_raw,
        year_established,
        annual_revenue_musd,
        employees,
        {{ clean_text('country') }} as country_raw,
        {{ clean_text('parent_account') }} as parent_account_name_raw,
        {{ load_metadata_columns() }}
    from source

),

keyed as (

    select
        renamed.*,
        coalesce(
            {{ normalize_company_name('renamed.account_name_raw') }},
            lower(renamed.account_name_raw)
        ) as name_key,
        coalesce(
            'id:' || renamed.account_id,
            'name:' || coalesce(
                {{ normalize_company_name('renamed.account_name_raw') }},
                lower(renamed.account_name_raw)
            )
        ) as account_key
    from renamed

),

deliveries as (

    {{ latest_delivery('keyed', 'account_key') }}

),

name_ids as (

    -- how many distinct account ids hold each name
    select
        name_key,
        count(distinct account_id) as account_ids
    from deliveries
    group by 1

),

latest as (

    select
        deliveries.*,
        case
            when name_ids.account_ids > 1 and deliveries.account_id is not null
                then deliveries.name_key || ' #' || lower(deliveries.account_id)
            else deliveries.name_key
        end as company_key,
        name_ids.account_ids > 1 as has_shared_name
    from deliveries
    inner join name_ids
        on deliveries.name_key = name_ids.name_key
    -- a delivery without id of a name that exactly one id holds is that account
    where deliveries.account_id is not null or name_ids.account_ids <> 1

),

final as (

    select
        latest.company_key,
        latest.name_key,
        latest.account_id,
        latest.has_shared_name,
        coalesce(name_fix.account_name, latest.account_name_raw)
            as account_name,
        latest.account_name_raw,
        name_fix.account_name is not null as has_fixed_account_name,
        coalesce(industry_fix.industry, latest.industry_raw) as industry,
        latest.industry_raw,
        industry_fix.industry is not null as has_fixed_industry,
        latest.year_established,
        latest.annual_revenue_musd,
        latest.employees,
        coalesce(country_alias.country, latest.country_raw) as country,
        country_alias.country_code,
        country_alias.region,
        latest.country_raw,
        coalesce(country_alias.is_fixed, false) as has_fixed_country,
        coalesce(parent_fix.account_name, latest.parent_account_name_raw)
            as parent_account_name,
        {{ normalize_company_name('latest.parent_account_name_raw') }}
            as parent_company_key,
        latest.parent_account_name_raw is not null as is_subsidiary,
        latest.batch_id,
        latest.source_file,
        latest.source_row_number,
        latest.loaded_at
    from latest
    left join account_name_fixes as name_fix
        on latest.account_name_raw = name_fix.raw_account_name
    left join account_name_fixes as parent_fix
        on latest.parent_account_name_raw = parent_fix.raw_account_name
    left join industry_fixes as industry_fix
        on latest.industry_raw = industry_fix.raw_industry
    left join country_aliases as country_alias
        on lower(latest.country_raw) = country_alias.alias_key

)

select * from final
