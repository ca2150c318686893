-- Customer survey responses (CSAT 1-5, NPS 0-10): one row per response id, the
-- latest delivery.
with

source as (

    {{ raw_rows(source('surveys', 'survey_responses')) }}

),

account_name_fixes as (

    select * from {{ ref('account_name_fixes') }}

),

renamed as (

    select
        {{ clean_text('response_id') }} as response_id,
        responded_at,
        lower({{ clean_text('survey_type') }}) as survey_type,
        score,
        {{ clean_text('account_name') }} as account_name_raw,
        {{ normalize_email('contact_email') }} as contact_email,
        {{ clean_text('opportunity_id') }} as opportunity_id,
        {{ clean_text('rep_name') }} as rep_name,
        {{ clean_text('comment') }} as comment,
        {{ load_metadata_columns() }}
    from source

),

latest as (

    {{ latest_delivery('renamed', 'response_id') }}

),

final as (

    select
        latest.response_id,
        latest.responded_at,
        latest.survey_type,
        latest.score,
        -- CSAT is 1-5: a CSAT score outside that scale is kept but not averaged
        (
            latest.survey_type = 'csat' and latest.score between 1 and 5
        ) as is_valid_csat,
        coalesce(account_fix.account_name, latest.account_name_raw)
            as account_name,
        {{ normalize_company_name('latest.account_name_raw') }} as company_key,
        latest.contact_email,
        latest.opportunity_id,
        latest.rep_name,
        latest.comment,
        latest.batch_id,
        latest.source_file,
        latest.source_row_number,
        latest.loaded_at
    from latest
    left join account_name_fixes as account_fix
        on latest.account_name_raw = account_fix.raw_account_name

)

select * from final
