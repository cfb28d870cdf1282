"""The headline numbers of a run: best mIoU and its step, last step, record counts."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from metrics.schema import MIOU


@dataclass(frozen=True)
class RunSummary:
    """What ``segwatch check`` prints for one run (``best_miou`` is a fraction or None)."""

    run: str
    path: str
    format: str
    records: int
    last_step: int | None
    best_miou: float | None
    best_step: int | None
    latest_miou: float | None
    evals: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def series(table: pd.DataFrame, metric: str, split: str) -> pd.DataFrame:
    """One metric's ``step``/``value`` rows of a tidy table, in step order."""
    mask = (table["metric"] == metric) & (table["split"] == split)
    return table.loc[mask, ["step", "value", "wall_time"]].sort_values("step", kind="stable")


def summarize(table: pd.DataFrame, run: str, path: str, format: str) -> RunSummary:
    """Best validation mIoU (NaN-skipping; first step at the best) and the run's extent."""
    miou = series(table, MIOU, "val")
    values = miou["value"].to_numpy()
    finite = np.isfinite(values)
    best_miou = best_step = latest = None
    if finite.any():
        i = int(np.argmax(np.where(finite, values, -np.inf)))
        best_miou = float(values[i])
        best_step = int(miou["step"].iloc[i])
        latest = float(values[np.flatnonzero(finite)[-1]])
    last_step = int(table["step"].max()) if len(table) else None
    return RunSummary(
        run=run,
        path=path,
        format=format,
        records=len(table),
        last_step=last_step,
        best_miou=_round(best_miou),
        best_step=best_step,
        latest_miou=_round(latest),
        evals=int(finite.sum()),
    )


def _round(x: float | None) -> float | None:
    return None if x is None or math.isnan(x) else round(x, 6)
