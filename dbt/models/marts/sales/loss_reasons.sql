-- Lost deals by loss reason, month (first day of the close month) and rep. The
-- Maven export records no loss reason: its lost deals are counted under
-- 'unspecified'; a CRM export that carries one (Salesforce "Loss Reason",
-- HubSpot "Closed Lost Reason") fills it.
with

opportunities as (

    select * from {{ ref('int_opportunities_joined') }}

),

lost as (

    select
        loss_reason,
        closed_month as month,
        manager_name,
        region,
        coalesce(rep_name, '(no rep)') as rep_name,
        count(*) as deals_lost,
        coalesce(sum(list_price_usd), 0) as lost_list_value,
        count(*) filter (where has_unknown_account)
            as deals_lost_without_account
    from opportunities
    where is_closed and not is_won
    group by 1, 2, 3, 4, 5

),

final as (

    select
        loss_reason,
        month,
        rep_name,
        manager_name,
        region,
        deals_lost,
        lost_list_value,
        deals_lost_without_account,
        {{ round_ratio(
            'deals_lost::numeric / sum(deals_lost) over (partition by rep_name, month)'
        ) }} as share_of_rep_losses
    from lost

)

select * from final
