{#- Fails on every row where the SQL expression is not true (rows where it is
    null fail too, unless the expression handles null). Optional where: rows to
    check. The dbt_utils test of the same name, written here (no hub packages
    offline). -#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not coalesce(
    ({{ column_name ~ ' ' if column_name else '' }}{{ expression }}), false
)

{% endtest %}
