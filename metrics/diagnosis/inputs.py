"""The series a diagnosis looks at, pulled once from a run's tidy table."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from metrics.schema import AACC, IOU_PREFIX, LOSS, LR, MIOU
from metrics.stats.series import Steps, Values


@dataclass(frozen=True)
class Series:
    """Steps and values of one metric, in step order (non-finite values kept)."""

    steps: Steps
    values: Values

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def finite(self) -> Series:
        keep = np.isfinite(self.values)
        return Series(self.steps[keep], self.values[keep])

    def between(self, start: int, end: int) -> Series:
        keep = (self.steps > start) & (self.steps <= end)
        return Series(self.steps[keep], self.values[keep])


EMPTY = Series(np.empty(0, np.int64), np.empty(0, np.float64))


@dataclass(frozen=True)
class RunSeries:
    """What the rules need: mIoU, losses, lr, aAcc, per-class IoU and a few run facts."""

    miou: Series
    loss: Series
    val_loss: Series
    lr: Series
    aacc: Series
    class_iou: Mapping[str, Series]
    planned_steps: int | None
    num_classes: int | None
    last_step: int | None
    updated: float | None  # when the run's files last changed (seconds since the epoch)
    wall_times: Values = field(default_factory=lambda: np.empty(0))

    @staticmethod
    def from_table(
        table: pd.DataFrame, meta: Mapping[str, Any] | None = None, updated: float | None = None
    ) -> RunSeries:
        meta = meta or {}
        groups: dict[tuple[str, str], Series] = {}
        if len(table):
            ordered = table.sort_values("step", kind="stable")
            for (split, metric), g in ordered.groupby(["split", "metric"], observed=True):
                groups[(str(split), str(metric))] = Series(
                    g["step"].to_numpy(np.int64), g["value"].to_numpy(np.float64)
                )
        class_iou = {
            m[len(IOU_PREFIX) :]: s
            for (split, m), s in groups.items()
            if split == "val" and m.startswith(IOU_PREFIX)
        }
        planned = meta.get("planned_steps")
        n_classes = meta.get("num_classes")
        if n_classes is None and meta.get("class_names"):
            n_classes = len(meta["class_names"])
        if n_classes is None and class_iou:
            n_classes = len(class_iou)
        walls = table["wall_time"].to_numpy(np.float64) if len(table) else np.empty(0)
        return RunSeries(
            miou=groups.get(("val", MIOU), EMPTY),
            loss=groups.get(("train", LOSS), EMPTY),
            val_loss=groups.get(("val", LOSS), EMPTY),
            lr=groups.get(("train", LR), EMPTY),
            aacc=groups.get(("val", AACC), EMPTY),
            class_iou=class_iou,
            planned_steps=int(planned) if planned else None,
            num_classes=int(n_classes) if n_classes else None,
            last_step=int(table["step"].max()) if len(table) else None,
            updated=updated if updated is not None and math.isfinite(updated) else None,
            wall_times=walls[np.isfinite(walls)],
        )
