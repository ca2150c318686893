{#- The one rounding policy of the marts: stored facts and sums are never rounded (money
    is exact numeric end to end); derived values are rounded once, at the last step:
    money averages to 2 decimals, ratios (rates, shares, attainment) to 4, durations in
    days or hours to 2. -#}
{% macro round_money(expr) -%}
    round(({{ expr }})::numeric, 2)
{%- endmacro %}

{% macro round_ratio(expr) -%}
    round(({{ expr }})::numeric, 4)
{%- endmacro %}

{% macro round_duration(expr) -%}
    round(({{ expr }})::numeric, 2)
{%- endmacro %}

{#- numerator / denominator, null when the denominator is 0 or null. -#}
{% macro safe_divide(numerator, denominator) -%}
    ({{ numerator }})::numeric / nullif({{ denominator }}, 0)
{%- endmacro %}
