-- Lead -> rep assignments salesops decided (ledger.lead_assignments): every
-- row of the append-only ledger, and whether it is the lead's current
-- assignment (its latest row). int_leads_routed keeps these decisions and
-- records the new ones.
with

source as (

    select * from {{ source('ledger', 'lead_assignments') }}

),

final as (

    select
        assignment_id,
        lead_key,
        assigned_rep_name,
        assigned_rep_id,
        assignment_method,
        routed_regional_office,
        routing_rule_priority,
        queue_position,
        assigned_at,
        recorded_by,
        dbt_invocation_id,
        row_number() over (
            partition by lead_key
            order by assignment_id desc
        ) = 1 as is_current
    from source

)

select * from final
