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
{{ config(materialized='table') }}

{%- set passes = var('identity_passes', 6) | int %}

with

records as (

    select
        unioned.*,
        -- name words in alphabetical order: 'Wang Wei' and 'wei wang' agree
        array_to_string(
            array(
                select name_word
                from
                    unnest(
                        string_to_array(lower(unioned.full_name), ' ')
                    ) as name_words (name_word)
                order by 1
            ),
            ' '
        ) as name_key
    from {{ ref('int_contact_records_unioned') }} as unioned

),

email_use as (

    select
        email,
        count(distinct name_key) as distinct_names
    from records
    where email is not null
    group by 1

),

phone_use as (

    select
        phone,
        count(distinct name_key) as distinct_names,
        count(distinct email) as distinct_emails
    from records
    where phone is not null
    group by 1

),

keyed as (

    select
        records.record_key,
        case
            when
                email_use.distinct_names
                <= {{ var('identity_shared_key_limit') }}
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
        record_key,
        email_key,
        phone_key,
        label,
        split_part(label, '|', 2) as anchor_record_key
    from labels_{{ passes }}

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

final as (

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
        end as match_confidence
    from matched

)

select * from final
