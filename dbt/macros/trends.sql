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
