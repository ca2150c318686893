{#- Contract check of the marts on Postgres, without dbt's "numeric type and unspecified
    precision/scale" warning: that warning protects warehouses where a bare numeric means
    scale 0; on Postgres a bare numeric is arbitrary-precision and exact, which is what
    money needs here (sums are never rounded). Otherwise identical to dbt's
    default__get_empty_schema_sql (dbt-core 1.11). -#}
{% macro postgres__get_empty_schema_sql(columns) %}
    {%- set col_err = [] -%}
    select
    {% for i in columns %}
      {%- set col = columns[i] -%}
      {%- if col['data_type'] is not defined -%}
        {%- do col_err.append(col['name']) -%}
      {%- endif -%}
      {% set col_name = adapter.quote(col['name']) if col.get('quote') else col['name'] %}
      {{ cast('null', col['data_type']) }} as {{ col_name }}{{ ", " if not loop.last }}
    {%- endfor -%}
    {%- if (col_err | length) > 0 -%}
      {{ exceptions.column_type_missing(column_names=col_err) }}
    {%- endif -%}
{% endmacro %}
