{#- A stable text key from several columns (md5 of their values joined by '-', nulls as
    '_null_'): the dbt_utils.generate_surrogate_key recipe, written here because no hub
    package can be downloaded. -#}
{% macro surrogate_key(fields) -%}
    md5(concat_ws('-'
    {%- for field in fields %},
        coalesce(cast({{ field }} as text), '_null_')
    {%- endfor %}
    ))
{%- endmacro %}

{#- The latest delivery of each natural key: raw tables are append-only, so a record sent
    again in a later batch (or twice in one file) appears more than once. The most recent
    load wins: latest _loaded_at, then the higher batch id, then the later row in the file.
    Used as: select * from ({{ latest_delivery('renamed', 'opportunity_id') }}) as x -#}
{% macro latest_delivery(relation, partition_by) -%}
    select *
    from (
        select
            {{ relation }}.*,
            row_number() over (
                partition by {{ partition_by }}
                order by loaded_at desc, batch_id desc, source_row_number desc
            ) as delivery_rank
        from {{ relation }}
    ) as ranked_deliveries
    where delivery_rank = 1
{%- endmacro %}

{#- What an activity is linked through: its lead id, contact email and opportunity id
    (int_activity_links_aggregated aggregates activities per link key). -#}
{% macro activity_link_key(relation) -%}
    {{ surrogate_key([relation ~ '.lead_id', relation ~ '.contact_email', relation ~ '.opportunity_id']) }}
{%- endmacro %}

{#- A pseudonym for personal data used inside a key: the md5 of the value (null stays
    null). Keys built from an email, phone or name (an attendee list has no attendee
    id) must not carry that value into every table, masked view and log that shows
    the key. It is pseudonymous, not anonymous: whoever holds the email can recompute
    it, so the columns that hold the value itself stay tagged as PII. -#}
{% macro pseudonym(expression) -%}
    md5({{ expression }})
{%- endmacro %}

{#- `left join` of the row of relation whose columns equal the given expressions (keys:
    {column: expression}), looked up through its index one outer row at a time (lateral
    ... limit 1: a plain join of a few thousand new rows was planned as a hash of all
    1.3M): alias.is_present is true when it exists; columns: what else to take from it. -#}
{% macro join_row_by_key(relation, keys, alias, columns='') -%}
    left join
        lateral (
            select
                true as is_present{{ ',' if columns }}
                {{ columns }}
            from {{ relation }} as looked_up
            where
                {%- for column, expression in keys.items() %}
                {{ 'and ' if not loop.first }}looked_up.{{ column }} = {{ expression }}
                {%- endfor %}
            order by 1
            limit 1
        ) as {{ alias }}
        on true
{%- endmacro %}

{#- What int_activity_links_aggregated keeps of a link key's activities (grouped by
    link_key): the same for a key counted from all its rows and for the new rows merged
    into a held key. -#}
{% macro link_aggregates() -%}
    min(lead_id) as lead_id,
    min(contact_email) as contact_email,
    min(opportunity_id) as opportunity_id,
    max(occurred_at) as last_activity_at,
    array_agg(occurred_at order by occurred_at)
    filter (where is_rep_response) as rep_response_times,
    count(*) as activities,
    max(merged_at) as merged_through
{%- endmacro %}
