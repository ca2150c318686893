{#- The most frequent value per group, from rows already counted (weight): what
    mode() within group (order by value) gives over the uncounted rows, nulls ignored
    and ties to the first value in sort order, without sorting every row. -#}
{% macro weighted_mode(relation, group_column, value_column, weight_column, where='true') -%}
    select distinct on ({{ group_column }})
        {{ group_column }},
        {{ value_column }} as mode_value
    from (
        select
            {{ group_column }},
            {{ value_column }},
            sum({{ weight_column }}) as weight
        from {{ relation }}
        where {{ value_column }} is not null and {{ where }}
        group by 1, 2
    ) as weighed
    order by {{ group_column }}, weight desc, {{ value_column }}
{%- endmacro %}
