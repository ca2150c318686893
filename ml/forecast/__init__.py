"""Revenue forecasts: models, selection by rolling-origin backtest, metrics (issue 10)."""
