-- Narrowing V011-V013 (review): BI and finance read forecasts and scores through the marts
-- (forecast_vs_actual, forecast_adjusted, pipeline_forecast), as V003 has it for every layer
-- below the marts — not in the ml schema, whose opportunity factors carry per-rep and
-- per-account win rates unmasked. And the ML role only upserts quotas: no delete.
revoke select on table ml.forecast_runs, ml.revenue_forecasts, ml.opportunity_scores
    from bi_reader, finance_reader;
revoke usage on schema ml from bi_reader, finance_reader;
revoke delete on table finance.quotas from salesops_ml;
