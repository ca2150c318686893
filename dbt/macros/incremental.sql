{#- Where-clause of an incremental model over an append-only raw feed: on an incremental
    run, only rows loaded after the newest row already in the model, minus a lookback
    (var incremental_lookback) so that a batch whose transaction started earlier but
    committed later is still picked up (a batch is one transaction: all its rows carry
    the same _loaded_at and become visible together). Re-reading rows is harmless: the model dedupes
    the window and replaces rows by unique_key, latest delivery winning. -#}
{% macro incremental_window(loaded_at_column='loaded_at') -%}
    {%- if is_incremental() %}
    where {{ loaded_at_column }} > (
        select
            coalesce(max(loaded_at), '-infinity'::timestamptz)
            - interval '{{ var("incremental_lookback") }}'
        from {{ this }}
    )
    {%- endif %}
{%- endmacro %}
