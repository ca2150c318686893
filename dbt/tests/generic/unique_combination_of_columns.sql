{#- Fails when a combination of the columns appears more than once (nulls
    compare equal, so a null in a grain column cannot hide a duplicate). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

select
    {{ combination_of_columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
