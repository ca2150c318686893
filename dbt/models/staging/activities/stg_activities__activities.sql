-- Sales activities (calls, emails, meetings, tasks): one row per raw row.
-- Activities are the largest fact: duplicates across batches are removed by the
-- incremental int_activities_deduplicated, which reads only new batches through
-- this view.
with

source as (

    {{ raw_rows(source('activities', 'activities')) }}

),

renamed as (

    select
        {{ clean_code('activity_id') }} as activity_id,
        lower({{ clean_code('activity_type') }}) as activity_type,
        occurred_at,
        {{ clean_text('rep_name') }} as rep_name,
        {{ clean_code('lead_id') }} as lead_id,
        {{ normalize_email('contact_email') }} as contact_email,
        {{ clean_code('opportunity_id') }} as opportunity_id,
        lower({{ clean_code('direction') }}) as direction,
        {{ clean_code('subject') }} as subject,
        lower({{ clean_code('outcome') }}) as outcome,
        duration_minutes,
        {{ load_metadata_columns() }}
    from source

),

final as (

    select
        activity_id,
        activity_type,
        occurred_at,
        rep_name,
        lead_id,
        contact_email,
        opportunity_id,
        direction,
        subject,
        outcome,
        duration_minutes,
        batch_id,
        source_file,
        source_row_number,
        loaded_at,
        -- a rep reaching out: a call, email or meeting that is not inbound
        (
            activity_type in ('call', 'email', 'meeting')
            and direction is distinct from 'inbound'
        ) as is_rep_response
    from renamed

)

select * from final
