"""The headline numbers of a run: best mIoU and its step, last step, record counts."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from metrics.schema import MIOU
from metrics.stats.series import Steps, Values, from_table
from metrics.stats.trends import best


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


def summarize(table: pd.DataFrame, run: str, path: str, format: str) -> RunSummary:
    """Best validation mIoU (NaN-skipping; first step at the best) and the run's extent."""
    steps, values = from_table(table, MIOU, "val")
    last_step = int(table["step"].max()) if len(table) else None
    return summarize_miou(steps, values, len(table), last_step, run, path, format)


def summarize_miou(
    steps: Steps,
    values: Values,
    records: int,
    last_step: int | None,
    run: str,
    path: str,
    format: str,
) -> RunSummary:
    """``summarize`` from the val mIoU series already pulled from the table (in step order),
    so a caller that has it (``check``: the diagnosis's series) does not filter the table again."""
    finite = np.isfinite(values)
    best_miou = best_step = latest = None
    if finite.any():
        top = best(steps, values, "max")
        best_miou, best_step, latest = top.value, top.step, top.last
    return RunSummary(
        run=run,
        path=path,
        format=format,
        records=records,
        last_step=last_step,
        best_miou=_round(best_miou),
        best_step=best_step,
        latest_miou=_round(latest),
        evals=int(finite.sum()),
    )


def _round(x: float | None) -> float | None:
    return None if x is None or math.isnan(x) else round(x, 6)
