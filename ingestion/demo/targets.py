"""targets/targets.csv: finance's targets for the demo, which `salesops run` splits into quotas.

The last two quarters with won deals in the Maven window: the first as one company target,
the second by region, each at 95% of what was won then, rounded down to 10,000 USD (the
demo's sales beat them a little). The format is docs/quotas.md's (level,key,period,target).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import config as C
from .maven import Maven

FOLDER, FILE = "targets", "targets.csv"
SHARE, STEP = 0.95, 10_000


def write(landing_dir: Path, mv: Maven) -> list[tuple[Path, int]]:
    won = (mv.close_day >= 0) & (mv.close_cents > 0) & (mv.col("deal_stage") == "Won")
    if not won.any():
        return []
    day = pd.Timestamp(C.PERIOD_START) + pd.to_timedelta(mv.close_day[won], unit="D")
    deals = pd.DataFrame({"quarter": day.to_period("Q"), "usd": mv.close_cents[won] / 100,
                          "region": mv.region[won], "company": "all"})
    rows = []
    for level, quarter in zip(("company", "region"), sorted(deals["quarter"].unique())[-2:], strict=False):
        won_then = deals[deals["quarter"] == quarter].groupby(level)["usd"].sum()
        rows += [(level, key, f"{quarter.year}-Q{quarter.quarter}", f"{int(usd * SHARE // STEP * STEP)}.00")
                 for key, usd in won_then.items() if key]
    folder = Path(landing_dir) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILE
    frame = pd.DataFrame(rows, columns=["level", "key", "period", "target"])
    frame.to_csv(path, index=False, lineterminator="\n")
    return [(path, len(rows))]
