{#- Display name of a person from first/last name parts: "Given Family" for Latin script,
    "FamilyGiven" (no space) when either part is written in CJK ideographs, as Chinese
    names are written. Null when both parts are empty. -#}
{% macro person_full_name(first_name, last_name) -%}
    case
        when concat({{ first_name }}, {{ last_name }}) ~ '[\u4e00-\u9fff]'
            then nullif(concat({{ last_name }}, {{ first_name }}), '')
        else nullif(concat_ws(' ', {{ first_name }}, {{ last_name }}), '')
    end
{%- endmacro %}

{#- The load metadata every staging model carries forward, renamed to the project's style. -#}
{% macro load_metadata_columns() -%}
    _batch_id as batch_id,
    _source_file as source_file,
    _row_number as source_row_number,
    _loaded_at as loaded_at
{%- endmacro %}
