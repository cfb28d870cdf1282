"""The series a diagnosis looks at, pulled once from a run's tidy table."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd

from metrics.readers.base import LogMeta
from metrics.schema import AACC, IOU_PREFIX, LOSS, LR, MIOU
from metrics.stats.series import Steps, Values

T = TypeVar("T")


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
class Lifecycle:
    """Where a run is in its life: still written, finished, or stopped short of its plan."""

    live: bool  # its files changed recently (or nothing says otherwise)
    finished: bool  # reached its planned steps, says it ended, or is no longer written
    why: str = ""  # what says so, for messages ("reached its 20000 planned steps")
    silent_s: float | None = None  # since its files last changed
    stamp_age_s: float | None = None  # since the log's own last time stamp
    limit_s: float = 0.0  # silence after which a run counts as no longer written


#: Nothing known: judged as a run still training.
UNKNOWN_LIFE = Lifecycle(live=True, finished=False)


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
    wall_times: Values = field(default_factory=lambda: np.empty(0))  # distinct finite, sorted
    ended: bool = False  # the log says training ended (HF's train summary, Detectron2's final test)
    ignore_index: int | None = None
    class_names: tuple[str, ...] = ()
    life: Lifecycle = UNKNOWN_LIFE  # set by ``diagnose_table`` (it depends on the clock)
    #: statistics several rules read, computed once per diagnosis (``cached``); not copied by
    #: ``dataclasses.replace``, so a series with another ``life`` starts afresh
    _memo: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def cached(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per ``key`` for this series (e.g. the mIoU plateau statistics
        that four rules read)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return cast(T, self._memo[key])

    @staticmethod
    def from_table(
        table: pd.DataFrame,
        meta: LogMeta | Mapping[str, Any] | None = None,
        updated: float | None = None,
    ) -> RunSeries:
        facts = LogMeta.of(meta)
        groups = _needed_series(table)
        class_iou = {
            m[len(IOU_PREFIX) :]: s
            for (split, m), s in groups.items()
            if split == "val" and m.startswith(IOU_PREFIX)
        }
        planned = facts.planned_steps
        n_classes = facts.num_classes
        if n_classes is None and facts.class_names:
            n_classes = len(facts.class_names)
        if n_classes is None and class_iou:
            n_classes = len(class_iou)
        walls = _distinct_times(table["wall_time"].to_numpy(np.float64))
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
            wall_times=walls,
            ended=facts.ended or bool(facts.train_summary),
            ignore_index=_int_or_none(facts.ignore_index),
            class_names=tuple(str(n) for n in facts.class_names or ()),
        )

    @property
    def last_wall(self) -> float | None:
        """The log's own latest time stamp (seconds since the epoch), if it has any."""
        return float(self.wall_times.max()) if len(self.wall_times) else None


#: The (split, metric) series the rules read; ``val``/``iou/<class>`` too.
_NEEDED = (("val", MIOU), ("train", LOSS), ("val", LOSS), ("train", LR), ("val", AACC))


def _needed_series(table: pd.DataFrame) -> dict[tuple[str, str], Series]:
    """The series the rules read, each in step order (stable), pulled from the table without
    a sorted copy of it: a 1M-line log's table is ~130 MB, these series a few MB."""
    if not len(table):
        return {}
    split = _categorical(table["split"])
    metric = _categorical(table["metric"])
    splits = [str(c) for c in split.categories]
    metrics = [str(c) for c in metric.categories]
    wanted = [
        (s, m)
        for s in splits
        for m in metrics
        if (s, m) in _NEEDED or (s == "val" and m.startswith(IOU_PREFIX))
    ]
    if not wanted:
        return {}
    split_codes = np.asarray(split.codes)
    metric_codes = np.asarray(metric.codes)
    steps = table["step"].to_numpy(np.int64)
    values = table["value"].to_numpy(np.float64)
    out: dict[tuple[str, str], Series] = {}
    for s, m in wanted:
        idx = np.flatnonzero((split_codes == splits.index(s)) & (metric_codes == metrics.index(m)))
        if not len(idx):
            continue
        idx = idx[np.argsort(steps[idx], kind="stable")]
        out[(s, m)] = Series(steps[idx], values[idx])
    return out


def _categorical(column: pd.Series) -> Any:
    """The column as a ``pd.Categorical`` (tables from the readers are already)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.array
    return pd.Categorical(column.astype(str))


def _distinct_times(walls: np.ndarray, piece: int = 1 << 20) -> Values:
    """The distinct finite wall times, sorted (what the lifecycle reads), a piece at a time so
    a 5M-record table costs no full-size temporary copies."""
    found = [np.unique(w[np.isfinite(w)]) for w in np.split(walls, range(piece, len(walls), piece))]
    return np.unique(np.concatenate(found)) if found else np.empty(0)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
