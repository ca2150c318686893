{#- Change sets of the per-person and per-lead models: what changed since `since` (a SQL
    timestamp expression, usually last_refresh()). -#}

{#- The model's watermark: when it last derived a row; -infinity before its first run. -#}
{% macro last_refresh() -%}
    coalesce((select max(refreshed_at) from {{ this }}), '-infinity'::timestamptz)
{%- endmacro %}

{#- The contacts a change since `since` can reach: those of the records identity
    resolution changed, the contacts these records left, and the contacts with a record
    at a company whose customer changed; with responses=true also the contacts whose
    activity links (rep responses) changed. -#}
{% macro contacts_changed_since(since, responses=false) -%}
    {%- set clusters = ref('int_contact_records_clustered') -%}
    {%- set after = "> " ~ since -%}
    select re_resolved.contact_id
    from {{ clusters }} as re_resolved
    where re_resolved.resolved_at {{ after }}
    union
    select re_resolved.previous_contact_id
    from {{ clusters }} as re_resolved
    where
        re_resolved.resolved_at {{ after }}
        and re_resolved.previous_contact_id is not null
    union
    select at_changed_company.contact_id
    from {{ clusters }} as at_changed_company
    where at_changed_company.record_key = any(array(
        {{ contact_records_matching(
            {'company_key': 'select changes.company_key from '
                ~ ref('int_company_customers_tracked')
                ~ ' as changes where changes.changed_at ' ~ after},
            'record_key',
        ) }}
    ))
    {%- if responses %}
    union
    select with_new_responses.contact_id
    from {{ ref('int_activity_links_resolved') }} as with_new_responses
    where with_new_responses.changed_at {{ after }}
    {%- endif %}
{%- endmacro %}

{#- Post-hook: delete the rows of contacts no record belongs to any more (merged into
    another). Candidates are the contacts records left; the delete+insert of a run only
    replaces the contacts that still exist. -#}
{% macro delete_vanished_contacts(column) -%}
    {%- set clusters = ref('int_contact_records_clustered') -%}
    delete from {{ this }} as held
    where
        held.{{ column }} in (
            select moved.previous_contact_id
            from {{ clusters }} as moved
            where moved.previous_contact_id != moved.contact_id
        )
        and not exists (
            select
            from {{ clusters }} as clusters
            where clusters.contact_id = held.{{ column }}
        )
{%- endmacro %}

{#- Post-hook of every model: fresh planner statistics for the models downstream (views
    have none of their own). A table is analyzed whenever it is built. An incremental
    model only when this run wrote (inserted or updated) more than
    var('analyze_changed_share') of its rows, as Postgres counts them for the current
    transaction (pg_stat_get_xact_*; it may count a just-finished earlier write too, which
    only analyzes once more): sampling 30k rows of a 10M-row table costs seconds, and a
    1% delta leaves its statistics good, while an 8% rewrite of the identity table over
    stale statistics planned a 6-minute nested loop. A table never analyzed (reltuples
    < 0) always is. -#}
{% macro analyze_table() -%}
    {%- set materialized = config.get('materialized') -%}
    {%- if materialized == 'table' -%}
        analyze {{ this }}
    {%- elif materialized == 'incremental' -%}
        do $analyze$
        begin
            if (
                select
                    stats.reltuples < 0
                    or pg_stat_get_xact_tuples_inserted(stats.oid)
                    + pg_stat_get_xact_tuples_updated(stats.oid)
                    > {{ var('analyze_changed_share') }} * stats.reltuples
                from pg_class as stats
                where stats.oid = '{{ this }}'::regclass
            ) then
                analyze {{ this }};
            end if;
        end
        $analyze$
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of int_funnel_journeys_unioned: delete the opportunity journeys of
    opportunities gone or now credited to a person journey (a run re-emits every
    opportunity journey that still stands). -#}
{% macro delete_credited_opportunity_journeys() -%}
    delete from {{ this }} as journeys
    where
        journeys.journey_type = 'opportunity'
        and (
            not exists (
                select
                from {{ ref('int_opportunities_joined') }} as opportunities
                where opportunities.opportunity_id = journeys.opportunity_id
            )
            or exists (
                select
                from {{ this }} as people
                where
                    people.journey_type = 'person'
                    and people.opportunity_id = journeys.opportunity_id
            )
        )
{%- endmacro %}

{#- Pre-hook of the models that read change sets: in an incremental run, no nested-loop
    joins. The planner cannot size a change set (`= any(array(...))` is estimated at ten
    rows) and loops over 100k-row sets for hours; hash joins cost little when it is small. -#}
{% macro plan_for_change_sets() -%}
    {%- if is_incremental() -%}
        set local enable_nestloop = off
    {%- endif -%}
{%- endmacro %}

{#- The rows of `relation` that belong to the contacts a CTE lists (by its contact_id
    column): an index scan on relation.contact_id. Every row outside incremental runs. -#}
{% macro rows_of_contacts(relation, contacts='affected_contacts', columns='*') -%}
    select {{ columns }}
    from {{ relation }}
    {%- if is_incremental() %}
    where
        contact_id = any(
            array(select {{ contacts }}.contact_id from {{ contacts }})
        )
    {%- endif %}
{%- endmacro %}

{#- A row's change time: the one held (right.stamp) when the re-derived row (left) agrees
    with the held row on `columns`, else new_stamp; for the models that keep a row's
    change time when a run re-derives it unchanged. NULL-safe: the row texts print NULL
    and '' differently. -#}
{% macro stamp_unless_changed(left, right, stamp, columns, new_stamp) -%}
    case
        when
            row(
                {%- for column in columns %}
                {{ left }}.{{ column }}{{ ',' if not loop.last }}
                {%- endfor %}
            )::text
            = row(
                {%- for column in columns %}
                {{ right }}.{{ column }}{{ ',' if not loop.last }}
                {%- endfor %}
            )::text
            then {{ right }}.{{ stamp }}
        else {{ new_stamp }}
    end
{%- endmacro %}
