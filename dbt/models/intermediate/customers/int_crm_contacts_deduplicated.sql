-- The CRM contacts (stg_crm_export__contacts: one row per contact id, the
-- latest delivery), kept as a table: their email, phone and company cleaning
-- costs ~100 us a row, and identity resolution, company matching and their
-- tests read these records several times per build. Incremental: a run takes
-- the contacts whose latest delivery is in a batch the model does not hold yet
-- (incremental_window) and replaces their rows; a build without new CRM
-- contacts skips the view.
{{
    config(
        materialized='incremental',
        unique_key='contact_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['contact_id'], 'unique': true},
            {'columns': ['batch_id']},
            {'columns': ['batch_finished_at']},
        ],
    )
}}

with

contacts as (

    select * from {{ ref('stg_crm_export__contacts') }}
    {{ incremental_window('raw.crm_contacts') }}

),

batches as (

    select * from {{ ref('stg_ops__ingestion_batches') }}

),

final as (

    select
        contacts.contact_id,
        contacts.created_at,
        contacts.first_name,
        contacts.last_name,
        contacts.full_name,
        contacts.email,
        contacts.phone,
        contacts.phone_raw,
        contacts.company_name,
        contacts.company_key,
        contacts.account_id,
        contacts.country,
        contacts.country_code,
        contacts.region,
        contacts.job_title,
        contacts.lifecycle_stage,
        contacts.owner_name,
        contacts.batch_id,
        contacts.source_file,
        contacts.source_row_number,
        contacts.loaded_at,
        batches.batch_finished_at
    from contacts
    left join batches
        on contacts.batch_id = batches.batch_id

)

select * from final
