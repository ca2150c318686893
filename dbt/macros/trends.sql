{#- Month-over-month and year-over-year columns of a monthly performance mart, shared by
    rep_performance_monthly and team_performance_monthly so both define them alike.
    Expects won_revenue, won_revenue_prev_month, won_revenue_prev_year, win_rate and
    win_rate_prev_month in the relation selected from. -#}
{% macro revenue_trend_columns() -%}
        won_revenue_prev_month,
        won_revenue - won_revenue_prev_month as won_revenue_mom_change,
        {{ round_ratio(safe_divide(
            'won_revenue - won_revenue_prev_month', 'won_revenue_prev_month'
        )) }} as won_revenue_mom_pct,
        won_revenue_prev_year,
        won_revenue - won_revenue_prev_year as won_revenue_yoy_change,
        {{ round_ratio(safe_divide(
            'won_revenue - won_revenue_prev_year', 'won_revenue_prev_year'
        )) }} as won_revenue_yoy_pct,
        win_rate - win_rate_prev_month as win_rate_mom_change
{%- endmacro %}

{#- The ratios of a monthly performance mart, from the base sums of
    int_rep_months_aggregated (summed per team for team_performance_monthly), with the
    project's rounding. relation: the relation to qualify the columns with, if any. -#}
{% macro performance_ratio_columns(relation=none) -%}
    {%- set c = (relation ~ '.') if relation else '' -%}
        {{ round_ratio(safe_divide(c ~ 'deals_won', c ~ 'deals_won + ' ~ c ~ 'deals_lost')) }}
            as win_rate,
        {{ round_money(safe_divide(c ~ 'won_revenue', c ~ 'deals_won')) }} as avg_deal_size,
        {{ round_duration(safe_divide(c ~ 'won_days_to_close', c ~ 'won_deals_with_days')) }}
            as avg_days_to_close,
        {{ round_duration(safe_divide(c ~ 'first_response_hours_sum', c ~ 'leads_responded')) }}
            as avg_first_response_hours,
        {{ round_money(safe_divide(c ~ 'csat_score_sum', c ~ 'csat_responses')) }} as avg_csat
{%- endmacro %}
