"""``salesops forecast predict|backtest``: forecast the monthly series of a file (docs/forecasting.md)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ml.forecast import evaluate
from ml.forecast.money import cents
from ml.forecast.series import ForecastInputError, read_series_csv
from salesops.export import write_csv

COLUMNS = ["series_id", "period", "model", "forecast", "lower_80", "upper_80", "lower_95", "upper_95"]


def _write(frame: pd.DataFrame, columns: list[str], output: Path) -> int:
    if not Path(output).parent.is_dir():
        raise ForecastInputError(f"{output}: the folder {Path(output).parent} does not exist")

    def cell(column: str, value):
        if column in ("period", "cutoff"):
            return value.to_timestamp().date()
        return value if column in ("series_id", "model") else cents(value)

    rows = (
        tuple(cell(c, v) for c, v in zip(columns, values, strict=True))
        for values in frame[columns].itertuples(index=False)
    )
    return write_csv(Path(output), columns, rows)


def predict_file(input_path: Path, horizon: int, output: Path) -> tuple[pd.DataFrame, list[str]]:
    """Forecast every series of ``input_path`` ``horizon`` months ahead into ``output``."""
    series = read_series_csv(input_path)
    forecasts, notes = evaluate.predict(series, horizon)
    gaps = [f"series {s.series_id}: {s.filled} missing month(s) taken as zero" for s in series if s.filled]
    notes = gaps + notes
    _write(forecasts, COLUMNS, output)
    return forecasts, notes


def backtest_file(
    input_path: Path, horizon: int, cutoffs: int, output: Path
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rolling-origin backtest of ``input_path`` (the chosen models' predictions into ``output``)."""
    series = read_series_csv(input_path)
    longest = max(len(s.values) for s in series)
    if longest <= horizon:
        raise ForecastInputError(
            f"{input_path}: the longest series has {longest} months; a backtest with "
            f"--horizon {horizon} needs more than {horizon}"
        )
    predictions = evaluate.backtest(series, horizon, cutoffs)
    chosen = predictions[predictions["role"] == "chosen"]
    _write(chosen, [*COLUMNS, "cutoff", "actual"], output)
    return predictions, evaluate.metrics(predictions)
