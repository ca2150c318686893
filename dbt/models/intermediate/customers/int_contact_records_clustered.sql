-- Identity resolution of people: records that share a normalised email or an
-- E.164 phone are the same person (transitively: A shares an email with B, B a
-- phone with C -> one person). Connected components are found by label
-- propagation: every record starts with its own label (its sort key:
-- created_at, record_key); each pass gives every record the smallest label
-- among the records sharing its email or its phone. After
-- var('identity_passes') passes the labels are the components (a singular test
-- checks that one more pass changes nothing). The label's record is the
-- contact's anchor: the earliest record, so a contact id is stable as later
-- records join. Keys shared by more distinct names than
-- var('identity_shared_key_limit') (shared inboxes, switchboards) are not used,
-- nor is a phone that records with two different emails and two different names
-- carry: two people on one line (an office number, a recycled number); one name
-- with two emails is one person with two addresses. Each record carries the
-- rule that joined it to its contact and a confidence.
-- Incremental and exact: a run re-resolves only the people a change can
-- reach. Changed records are those whose delivery (batch, row) this model does
-- not hold; the keys they carry now or carried before, every record holding
-- one of those keys, and every record of the contacts all of these belonged
-- to are resolved again, with key use counted over all records. No other
-- record shares a usable key with them (else it would be in one of those
-- contacts) and no other key changed use, so everything else keeps its
-- contact, as a full refresh would find.
-- depends_on: {{ ref('stg_ops__ingestion_batches') }}
{{
    config(
        materialized='incremental',
        unique_key='record_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['record_key'], 'unique': true},
            {'columns': ['contact_id']},
            {'columns': ['email']},
            {'columns': ['phone']},
            {'columns': ['resolved_at']},
            {'columns': ['email_key']},
            {'columns': ['phone_key']},
            {'columns': ['batch_id']},
        ],
    )
}}

{%- set passes = var('identity_passes', 6) | int %}
{%- set unheld_batch_ids -%}
    array(
        select batches.batch_id
        from {{ ref('stg_ops__ingestion_batches') }} as batches
        where not exists (
            select from {{ this }} as held
            where held.batch_id = batches.batch_id
        )
    )
{%- endset %}

with

{% if is_incremental() -%}
    -- Lookups by key: lead records through the indexes of int_leads_unioned
    -- (`= any(array(...))`, the contact branch pruned by record_type), the few
    -- CRM contacts by hash join. The planner cannot size the change sets, so
    -- plain joins against 1.3M records would be planned for billions of rows.
    changed as (

        -- deliveries this model does not hold: new records, re-sent ones. Only
        -- a batch with no record here can carry one: a run holds every record
        -- of the batches it read until a later delivery replaces it (batch_id
        -- is indexed upstream, so this reads the new batches, not 1.3M rows)
        select
            unioned.record_key,
            unioned.email,
            unioned.phone
        from {{ ref('int_contact_records_unioned') }} as unioned
        {{ join_row_by_key(this, {
            'record_key': 'unioned.record_key',
            'batch_id': 'unioned.batch_id',
            'source_row_number': 'unioned.source_row_number',
        }, 'held') }}
        where
            held.is_present is null
            and {{ batch_in('unioned.batch_id', unheld_batch_ids) }}

    ),

    -- the keys the changed records carried before (their rows held here)
    carried_before as (

        select
            held.email,
            held.phone
        from {{ this }} as held
        where
            held.record_key = any(
                array(select changed.record_key from changed)
            )

    ),

    -- Keys a changed record carries now that the records held here already
    -- share unusably (over the shared-key limit, or two people on one line)
    -- and that no changed record carried before. Key use only grows with more
    -- holders, so such a key stays unusable: it links nobody, and nobody
    -- holding it needs resolving again (a recycled demo phone is held by
    -- dozens of people; a 1% delta reached 67k records through them).
    {%- for column in ['email', 'phone'] %}
        shared_{{ column }}s as (

            select held.{{ column }}
            from {{ this }} as held
            where
                held.{{ column }}
                = any(array(select changed.{{ column }} from changed))
            except
            select held.{{ column }}_key
            from {{ this }} as held
            where
                held.{{ column }}_key
                = any(array(select changed.{{ column }} from changed))
            except
            select carried_before.{{ column }} from carried_before

        ),
    {% endfor %}
    -- the keys the changed records carry now or carried before, except the
    -- shared ones: through these a change can reach other records
    changed_keys as (

        select
            linking_emails.email,
            null::text as phone
        from (
            select changed.email from changed
            union
            select carried_before.email from carried_before
            except
            select shared_emails.email from shared_emails
        ) as linking_emails
        union all
        select
            null::text as email,
            linking_phones.phone
        from (
            select changed.phone from changed
            union
            select carried_before.phone from carried_before
            except
            select shared_phones.phone from shared_phones
        ) as linking_phones

    ),

    touched_contacts as (

        select held.contact_id
        from {{ this }} as held
        where
            held.record_key = any(
                array(select changed.record_key from changed)
            )
            or held.email = any(
                array(select changed_keys.email from changed_keys)
            )
            or held.phone = any(
                array(select changed_keys.phone from changed_keys)
            )

    ),

    in_scope as (

        select changed.record_key from changed
        union
        select held.record_key
        from {{ this }} as held
        where
            held.contact_id = any(
                array(select touched_contacts.contact_id from touched_contacts)
            )
        union
        {{ contact_records_holding('changed_keys', 'record_key') }}

    ),

    scoped_records as (

        {{ contact_records_matching(
            {'record_key': 'select in_scope.record_key from in_scope'}
        ) }}

    ),

    -- the keys of the records in scope whose use is counted: shared ones stay
    -- unusable without counting
    counted_keys as (

        select
            counted_emails.email,
            null::text as phone
        from (
            select scoped_records.email from scoped_records
            except
            select shared_emails.email from shared_emails
        ) as counted_emails
        union all
        select
            null::text as email,
            counted_phones.phone
        from (
            select scoped_records.phone from scoped_records
            except
            select shared_phones.phone from shared_phones
        ) as counted_phones

    ),

    -- every record holding a counted key of the records in scope: key use is
    -- counted over all of them
    key_holders as (

        {{ contact_records_holding('counted_keys', '*') }}

    ),
{%- else -%}
    shared_emails as (

        select null::text as email
        where false

    ),

    shared_phones as (

        select null::text as phone
        where false

    ),

    scoped_records as (

        select * from {{ ref('int_contact_records_unioned') }}

    ),

    key_holders as (

        select * from scoped_records

    ),
{%- endif %}

records as (

    select
        scoped_records.*,
        {{ name_key('scoped_records.full_name') }} as name_key
    from scoped_records

),

key_holder_names as (

    select
        email,
        phone,
        {{ name_key('full_name') }} as name_key
    from key_holders

),

email_use as (

    select
        email,
        count(distinct name_key) as distinct_names
    from key_holder_names
    where email is not null
    group by 1

),

phone_use as (

    select
        phone,
        count(distinct name_key) as distinct_names,
        count(distinct email) as distinct_emails
    from key_holder_names
    where phone is not null
    group by 1

),

keyed as (

    select
        records.record_key,
        records.email,
        records.phone,
        records.batch_id,
        records.source_row_number,
        case
            when
                email_use.distinct_names
                <= {{ var('identity_shared_key_limit') }}
                and shared_emails.email is null
                then records.email
        end as email_key,
        case
            when
                phone_use.distinct_names
                <= {{ var('identity_shared_key_limit') }}
                and (
                    phone_use.distinct_emails <= 1
                    or phone_use.distinct_names <= 1
                )
                and shared_phones.phone is null
                then records.phone
        end as phone_key,
        coalesce(
            to_char(
                records.created_at at time zone 'UTC', 'YYYYMMDDHH24MISS'
            ),
            '99999999999999'
        ) || '|' || records.record_key as sort_key
    from records
    left join email_use
        on records.email = email_use.email
    left join phone_use
        on records.phone = phone_use.phone
    left join shared_emails
        on records.email = shared_emails.email
    left join shared_phones
        on records.phone = shared_phones.phone

),

labels_0 as (

    select
        record_key,
        email_key,
        phone_key,
        sort_key as label
    from keyed

),
{% for i in range(passes) %}
email_labels_{{ i }} as (

    select
        email_key,
        min(label) as label
    from labels_{{ i }}
    where email_key is not null
    group by 1

),

phone_labels_{{ i }} as (

    select
        phone_key,
        min(label) as label
    from labels_{{ i }}
    where phone_key is not null
    group by 1

),

labels_{{ i + 1 }} as (

    select
        labels_{{ i }}.record_key,
        labels_{{ i }}.email_key,
        labels_{{ i }}.phone_key,
        least(
            labels_{{ i }}.label,
            email_labels_{{ i }}.label,
            phone_labels_{{ i }}.label
        ) as label
    from labels_{{ i }}
    left join email_labels_{{ i }}
        on labels_{{ i }}.email_key = email_labels_{{ i }}.email_key
    left join phone_labels_{{ i }}
        on labels_{{ i }}.phone_key = phone_labels_{{ i }}.phone_key

),
{% endfor %}
clustered as (

    select
        labels.record_key,
        labels.email_key,
        labels.phone_key,
        labels.label,
        keyed.email,
        keyed.phone,
        keyed.batch_id,
        keyed.source_row_number,
        split_part(labels.label, '|', 2) as anchor_record_key
    from labels_{{ passes }} as labels
    inner join keyed
        on labels.record_key = keyed.record_key

),

matched as (

    select
        clustered.*,
        count(*) over (
            partition by clustered.label, clustered.email_key
        ) as records_sharing_email,
        count(*) over (
            partition by clustered.label, clustered.phone_key
        ) as records_sharing_phone
    from clustered

),

resolved as (

    select
        record_key,
        {{ surrogate_key(['anchor_record_key']) }} as contact_id,
        anchor_record_key,
        email_key,
        phone_key,
        case
            when record_key = anchor_record_key then 'anchor'
            when email_key is not null and records_sharing_email > 1
                then 'email'
            else 'phone'
        end as match_rule,
        case
            when record_key = anchor_record_key then 1.00
            when email_key is not null and records_sharing_email > 1
                then 1.00
            else 0.90
        end as match_confidence,
        -- the delivery resolved and its raw keys: what the next incremental
        -- run compares against
        email,
        phone,
        batch_id,
        source_row_number
    from matched

),

final as (

    {% if is_incremental() -%}
        -- when the record's resolution or delivery last changed, and the
        -- contact it had before: what the per-person models downstream
        -- re-derive (records re-resolved to the same result keep both)
        select
            resolved.*,
            {{ stamp_unless_changed('resolved', 'held', 'resolved_at', [
                'contact_id',
                'anchor_record_key',
                'email_key',
                'phone_key',
                'match_rule',
                'match_confidence',
                'batch_id',
                'source_row_number'
            ], 'current_timestamp') }} as resolved_at,
            case
                when resolved.contact_id = held.contact_id
                    then held.previous_contact_id
                else held.contact_id
            end as previous_contact_id
        from resolved
        {{ join_row_by_key(
            this, {'record_key': 'resolved.record_key'}, 'held', 'looked_up.*'
        ) }}
    {%- else -%}
        select
            *,
            current_timestamp as resolved_at,
            null::text as previous_contact_id
        from resolved
    {%- endif %}

)

select * from final
