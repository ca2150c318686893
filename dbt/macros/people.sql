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

{#- A raw table's rows and, as _source_file, the file each came from: the
    file is its batch's (ops.ingestion_batches, one batch per file), not stored
    on every row (migration V010). -#}
{% macro raw_rows(relation) -%}
    select
        raw_rows.*,
        batches.source_file as _source_file
    from {{ relation }} as raw_rows
    left join {{ source('ops', 'ingestion_batches') }} as batches
        on raw_rows._batch_id = batches.batch_id
{%- endmacro %}

{#- The load metadata every staging model carries forward, renamed to the project's style. -#}
{% macro load_metadata_columns() -%}
    _batch_id as batch_id,
    _source_file as source_file,
    _row_number as source_row_number,
    _loaded_at as loaded_at
{%- endmacro %}
