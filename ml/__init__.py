"""Machine learning on the warehouse: forecasts (ml.forecast)."""
