-- Label propagation ran long enough: every identity key (email, phone) used to
-- link records belongs to exactly one contact. A row here means one more pass
-- would still merge contacts: raise var('identity_passes').
-- An incremental build checks the keys of the records resolved differently
-- since the last succeeded build (new_rows_filter on resolved_at), each over
-- all its holders (index lookups on the table, not on the clusters CTE, which
-- Postgres materializes): a key none of whose holders changed
-- contact or keys still has the one contact it had when it was last checked.
{%- set scoped = not is_full_refresh() %}

with

clusters as (

    select * from {{ ref('int_contact_records_clustered') }}

),

{% if scoped -%}
    changed_records as (

        select
            email_key,
            phone_key
        from clusters
        where {{ new_rows_filter('resolved_at') }}

    ),

    key_contacts as (
        {%- for key_type in ['email', 'phone'] %}
            {{ 'union all' if not loop.first }}
            select
                '{{ key_type }}' as key_type,
                changed.identity_key,
                holders.contacts
            from (
                select distinct {{ key_type }}_key as identity_key
                from changed_records
                where {{ key_type }}_key is not null
            ) as changed
            cross join
                lateral (
                    select count(distinct holder.contact_id) as contacts
                    from {{ ref('int_contact_records_clustered') }} as holder
                    where holder.{{ key_type }}_key = changed.identity_key
                ) as holders
        {%- endfor %}

    )
{%- else -%}
    key_contacts as (

        select
            'email' as key_type,
            email_key as identity_key,
            count(distinct contact_id) as contacts
        from clusters
        where email_key is not null
        group by 1, 2
        union all
        select
            'phone' as key_type,
            phone_key as identity_key,
            count(distinct contact_id) as contacts
        from clusters
        where phone_key is not null
        group by 1, 2

    )
{%- endif %}

select
    key_type,
    identity_key,
    contacts
from key_contacts
where contacts > 1
