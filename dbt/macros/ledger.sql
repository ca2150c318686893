{#- Ledgers (docs/ledgers.md): decisions salesops makes once and people rely on live in
    append-only tables of schema `ledger` (salesops/migrations/V009), outside dbt's
    rebuildable schemas. A model reads its ledger through a staging view, keeps the
    decisions recorded there, and records the new ones it made in a post-hook, in the
    same transaction as the model's own rows: the table and the ledger agree after every
    run, and a failed run records nothing. Ledger tables are named directly: a hook
    resolved at run time cannot add source() dependencies (the model depends on the
    ledger through its staging view). -#}

{#- Pre-hook: one run at a time decides. A second build routing at the same time waits
    here (until the first commits) and then reads the first one's decisions, so it
    cannot hand the same lead, or the same queue position, to someone else. A
    transaction-level advisory lock: it needs no privilege on the table. -#}
{% macro lock_ledger(table) -%}
    select pg_advisory_xact_lock(hashtext('ledger.{{ table }}'))
{%- endmacro %}

{#- Post-hook of int_leads_routed: every round-robin decision the ledger does not hold
    yet (leads routed for the first time, in this run) is recorded, with the rep's CRM
    id when the reps export has one. Leads whose owner comes from the source data are
    facts of the CRM and are not recorded. Insert only: the ledger refuses updates. -#}
{% macro record_lead_assignments() -%}
    insert into ledger.lead_assignments (
        lead_key,
        assigned_rep_name,
        assigned_rep_id,
        assignment_method,
        routed_regional_office,
        routing_rule_priority,
        queue_position,
        recorded_by,
        dbt_invocation_id
    )
    select
        routed.lead_key,
        routed.assigned_rep_name,
        sales_reps.rep_id,
        routed.assignment_method,
        routed.routed_regional_office,
        routed.routing_rule_priority,
        routed.queue_position,
        '{{ this.identifier }}',
        '{{ invocation_id }}'
    from {{ this }} as routed
    left join {{ ref('stg_crm_export__sales_reps') }} as sales_reps
        on routed.assigned_rep_name = sales_reps.rep_name
    where
        routed.assignment_method = 'round_robin'
        and not exists (
            select from ledger.lead_assignments as held
            where held.lead_key = routed.lead_key
        )
    order by routed.routed_regional_office, routed.queue_position
    on conflict (lead_key) where assignment_method = 'round_robin' do nothing
{%- endmacro %}
