"""Monthly series: read from a ``series_id,period,value`` file or a frame, made complete.

A month a series has no row for is a month without sales: it becomes a zero, not a gap
(``Series.filled`` counts them). Each series runs from its own first to its own last period.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from salesops.reference import csv_rows, parse_month


class ForecastInputError(ValueError):
    """A series file that cannot be forecast; the message is one line for a person."""


@dataclass(frozen=True)
class Series:
    series_id: str
    start: pd.Period  # monthly
    values: np.ndarray  # float64, one per month from ``start``, no gaps
    filled: int = 0  # months absent from the input, taken as zero
    # the open pipeline known at each month's end, (months, pipeline.STEPS): row i is what was
    # expected at the end of month i to close in months i+1 .. i+STEPS (``ml.forecast.pipeline``);
    # None when the series has none (a file of your own)
    pipeline: np.ndarray | None = None

    @property
    def periods(self) -> pd.PeriodIndex:
        return pd.period_range(self.start, periods=len(self.values), freq="M")

    @property
    def end(self) -> pd.Period:
        return self.start + (len(self.values) - 1)

    def upto(self, cutoff: pd.Period) -> Series:
        """The history up to and including ``cutoff`` (what a forecast made then could see)."""
        n = cutoff.ordinal - self.start.ordinal + 1
        return Series(
            self.series_id,
            self.start,
            self.values[:n],
            pipeline=None if self.pipeline is None else self.pipeline[:n],
        )

    def context(self):
        """What a model may know besides the values: the calendar and the pipeline."""
        from ml.forecast.models import Context

        return Context(self.start.month, self.pipeline)


def read_series_csv(path: Path) -> list[Series]:
    """The series of a CSV with columns series_id,period,value (period: ``YYYY-MM-01``)."""
    path = Path(path)
    seen: dict[tuple[str, pd.Period], int] = {}
    ids, periods, values = [], [], []
    for line, row in csv_rows(path, ("series_id", "period", "value"), error=ForecastInputError):
        where = f"{path}, line {line}"
        if not row["series_id"]:
            raise ForecastInputError(f"{where}: series_id is empty")
        month = parse_month(row["period"])
        if month is None:
            raise ForecastInputError(
                f"{where}: period {row['period']!r} is not the first day of a month (YYYY-MM-01)"
            )
        text = row["value"].replace(",", "")
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            hint = "; write 0 for a month without sales" if not text else ""
            raise ForecastInputError(f"{where}: value {row['value']!r} is not a number{hint}")
        key = (row["series_id"], pd.Period(month, freq="M"))
        if key in seen:
            raise ForecastInputError(f"{where}: {key[0]} {key[1]} is also on line {seen[key]}")
        seen[key] = line
        ids.append(key[0])
        periods.append(key[1])
        values.append(value)
    return from_frame(pd.DataFrame({"series_id": ids, "period": periods, "value": values}))


def from_frame(frame: pd.DataFrame) -> list[Series]:
    """Series from rows (series_id, period, value); periods are monthly Periods or dates."""
    frame = frame.assign(period=pd.PeriodIndex(frame["period"], freq="M"))
    out = []
    for series_id, rows in frame.groupby("series_id", sort=True):
        rows = rows.groupby("period")["value"].sum()
        start, end = rows.index.min(), rows.index.max()
        full = rows.reindex(pd.period_range(start, end, freq="M"), fill_value=0.0)
        out.append(Series(str(series_id), start, full.to_numpy(dtype="float64"), len(full) - len(rows)))
    return out


def to_frame(series: list[Series]) -> pd.DataFrame:
    """The complete series as rows (series_id, period, value), zeros filled in."""
    return pd.concat(
        [pd.DataFrame({"series_id": s.series_id, "period": s.periods, "value": s.values}) for s in series],
        ignore_index=True,
    )
