{#- The rep quotas the finance area publishes, as a select of (rep_name, month, quota),
    or an empty select of the same shape while finance.quotas does not exist (or lacks
    those columns): the performance marts build either way and show quota/attainment as
    null until finance publishes. Interface expected from finance:
        finance.quotas(rep_name text, month date (first day), quota numeric). -#}
{% macro rep_quotas_select() -%}
    {%- set relation = none -%}
    {%- if execute -%}
        {%- set relation = adapter.get_relation(
            database=target.database, schema='finance', identifier='quotas') -%}
        {%- if relation is not none -%}
            {%- set names = adapter.get_columns_in_relation(relation)
                | map(attribute='name') | map('lower') | list -%}
            {%- if not ('rep_name' in names and 'month' in names and 'quota' in names) -%}
                {{ log("finance.quotas has no (rep_name, month, quota) columns: "
                       ~ "quota and attainment stay null", info=true) }}
                {%- set relation = none -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {%- if relation is not none %}
    select
        rep_name::text as rep_name,
        date_trunc('month', month)::date as month,
        sum(quota)::numeric as quota
    from {{ relation }}
    group by 1, 2
    {%- else %}
    select
        null::text as rep_name,
        null::date as month,
        null::numeric as quota
    where false
    {%- endif %}
{%- endmacro %}
