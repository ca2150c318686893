-- Sales reps with their manager and regional office (Maven sales_teams.csv):
-- one row per rep, latest delivery by rep name. Opportunities join a rep by
-- rep_id when both carry one, else by name.
with

source as (

    {{ raw_rows(source('crm_export', 'crm_sales_reps')) }}

),

renamed as (

    select
        {{ clean_text('rep_name') }} as rep_name,
        {{ clean_id('rep_id') }} as rep_id,
        {{ clean_text('manager_name') }} as manager_name,
        {{ clean_text('regional_office') }} as regional_office,
        {{ normalize_email('email') }} as email,
        {{ load_metadata_columns() }}
    from source

),

latest as (

    {{ latest_delivery('renamed', 'rep_name') }}

),

final as (

    select
        rep_name,
        rep_id,
        manager_name,
        regional_office,
        email,
        batch_id,
        source_file,
        source_row_number,
        loaded_at
    from latest

)

select * from final
