"""Turn a run's tidy table into what its figures draw: smoothed at full resolution, then thinned.

Pure (no Streamlit, no plotly): the dashboard caches the result per (files, smoothing) and the
figure builders in ``dashboard.figures.run`` only lay it out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from dashboard.figures.downsample import MAX_POINTS, Thinned, thin
from metrics.diagnosis import Finding, RunDiagnosis
from metrics.readers.base import LogMeta
from metrics.schema import IOU_PREFIX, LOSS, LR, MIOU
from metrics.stats.forecast import Forecast, forecast, saturating_curve
from metrics.stats.intervals import loss_vs_metric
from metrics.stats.series import as_series
from metrics.stats.smoothing import ema
from metrics.stats.trends import best

Floats = npt.NDArray[np.float64]
EMPTY = np.empty(0, np.float64)


@dataclass(frozen=True)
class Bad:
    """Steps where a series holds NaN or ±inf (drawn as markers, never hidden)."""

    steps: Floats = field(default_factory=lambda: EMPTY)
    kinds: tuple[str, ...] = ()  # "NaN", "+inf", "-inf" per step

    def __len__(self) -> int:
        return len(self.steps)


@dataclass(frozen=True)
class Curve:
    """One metric ready to draw: raw and smoothed (both thinned) and its non-finite points."""

    raw: Thinned
    smooth: Thinned | None
    bad: Bad
    bounds: tuple[float, float] | None  # 5th–95th percentile range, padded (outliers ignored)


@dataclass(frozen=True)
class ForecastLine:
    """The fitted saturating curve from the last eval to the planned end, and its end band."""

    x: Floats
    y: Floats
    end_step: int
    value: float
    low: float
    high: float
    level: float


@dataclass(frozen=True)
class RunPlot:
    """Everything the run page draws for one run."""

    run: str
    loss: Curve | None
    miou: Curve | None
    lr: Curve | None
    status: str
    findings: tuple[Finding, ...]
    best: tuple[int, float] | None
    forecast: ForecastLine | None
    planned_steps: int | None
    extra: Mapping[str, Any] = field(default_factory=dict)
    clock: tuple[Floats, Floats] | None = None  # (step, wall time in s) for a time x-axis


def metric_series(table: pd.DataFrame, metric: str, split: str) -> tuple[Floats, Floats]:
    """(steps, values) of one metric, in step order, non-finite values kept."""
    mask = (table["metric"] == metric).to_numpy() & (table["split"] == split).to_numpy()
    steps, values = as_series(table["step"].to_numpy()[mask], table["value"].to_numpy()[mask])
    return steps.astype(np.float64), values


def step_clock(table: pd.DataFrame) -> tuple[Floats, Floats] | None:
    """Each logged step and the first wall time seen at it (never decreasing), or None.

    Figures map any step to a time by interpolating between these, so every curve (loss, mIoU,
    lr) can be drawn against wall time or time since the start.
    """
    wall = table["wall_time"].to_numpy(np.float64, na_value=np.nan)
    ok = np.isfinite(wall)
    if ok.sum() < 2:
        return None
    steps = table["step"].to_numpy(np.float64)[ok]
    order = np.argsort(steps, kind="stable")
    steps, idx = np.unique(steps[order], return_index=True)
    times = np.maximum.accumulate(wall[ok][order][idx])
    if len(steps) < 2 or times[-1] <= times[0]:
        return None
    return steps, times


def bad_points(steps: Floats, values: Floats) -> Bad:
    """The NaN / ±inf points of a series with their kind."""
    idx = np.flatnonzero(~np.isfinite(values))
    kinds = tuple("NaN" if math.isnan(v) else ("+inf" if v > 0 else "-inf") for v in values[idx])
    return Bad(steps[idx], kinds)


def robust_bounds(values: Floats, lo: float = 5.0, hi: float = 95.0) -> tuple[float, float] | None:
    """The lo–hi percentile range of the finite values, padded by 10 % (None when empty)."""
    v = values[np.isfinite(values)]
    if not len(v):
        return None
    a, b = (float(q) for q in np.percentile(v, [lo, hi]))
    pad = (b - a) * 0.1 or max(abs(a) * 0.05, 1e-6)
    return a - pad, b + pad


def curve(
    steps: Floats, values: Floats, weight: float | None, n_out: int = MAX_POINTS
) -> Curve | None:
    """A curve with optional TensorBoard EMA (``weight``; None = never smooth), then thinned."""
    if not len(steps):
        return None
    smooth = None
    if weight is not None and weight > 0:
        smooth = thin(steps, ema(values, weight), n_out)
    raw = thin(steps, values, n_out)
    return Curve(raw, smooth, bad_points(steps, values), robust_bounds(values))


def best_point(steps: Floats, values: Floats) -> tuple[int, float] | None:
    """The first step holding the best finite value (the best checkpoint), or None."""
    if not np.isfinite(values).any():
        return None
    top = best(steps, values, "max")
    return top.step, top.value


def run_forecast(
    steps: Floats, values: Floats, planned: int | None, n_boot: int = 100
) -> Forecast | None:
    """mIoU forecast at the planned last step (None without a plan or when already there)."""
    finite = np.isfinite(values)
    if not planned or not finite.any() or planned <= int(steps[finite].max()):
        return None
    if float(values[finite].max()) > 1.0:
        return None  # not a fraction: no bounded forecast
    fc = forecast(steps[finite].astype(np.int64), values[finite], last_step=planned, n_boot=n_boot)
    return fc if fc.ok else None


def forecast_line(fc: Forecast, from_step: float) -> ForecastLine:
    """Sample the fitted curve from ``from_step`` to the forecast's end for drawing."""
    x = np.linspace(max(from_step, 1.0), float(fc.last_step), 60)
    y = saturating_curve(x, fc.a, fc.b, fc.c)
    y = np.minimum(y, 1.0)
    return ForecastLine(x, y, fc.last_step, fc.value, fc.value_low, fc.value_high, fc.level)


def trajectory(table: pd.DataFrame) -> pd.DataFrame:
    """Mean train loss over each eval interval against that eval's mIoU (one row per eval)."""
    ts, tv = metric_series(table, LOSS, "train")
    es, ev = metric_series(table, MIOU, "val")
    frame = loss_vs_metric(ts.astype(np.int64), tv, es.astype(np.int64), ev)
    keep = np.isfinite(frame["train_mean"].to_numpy()) & np.isfinite(frame["value"].to_numpy())
    out: pd.DataFrame = frame.loc[keep].reset_index(drop=True)
    return out


def class_iou(table: pd.DataFrame, meta: LogMeta | None = None) -> pd.DataFrame:
    """Per-class IoU as a wide frame: one row per class, one column per eval step."""
    rows = table[(table["split"] == "val") & table["metric"].astype(str).str.startswith(IOU_PREFIX)]
    if rows.empty:
        return pd.DataFrame()
    wide = rows.assign(cls=rows["metric"].astype(str).str[len(IOU_PREFIX) :]).pivot_table(
        index="cls", columns="step", values="value", aggfunc="last", dropna=False
    )
    names = list(meta.class_names or []) if meta is not None else []
    rest = sorted((c for c in wide.index if c not in names), key=_class_key)
    order = [c for c in names if c in wide.index] + rest
    out: pd.DataFrame = wide.loc[order]
    return out


def _class_key(name: object) -> tuple[int, float, str]:
    """Class ids in numeric order ('2' before '10'), names after them alphabetically."""
    text = str(name)
    try:
        return (0, float(text), text)
    except ValueError:
        return (1, 0.0, text)


def prepare_run(
    run: str,
    table: pd.DataFrame,
    diagnosis: RunDiagnosis,
    fc: Forecast | None,
    planned: int | None,
    weight: float,
    n_out: int = MAX_POINTS,
) -> RunPlot:
    """The run page's curves: loss smoothed (``weight``), mIoU raw, lr raw, markers, forecast."""
    ls, lv = metric_series(table, LOSS, "train")
    ms, mv = metric_series(table, MIOU, "val")
    rs, rv = metric_series(table, LR, "train")
    line = None
    if fc is not None and len(ms):
        line = forecast_line(fc, float(ms[np.isfinite(mv)].max(initial=ms.min())))
    return RunPlot(
        run=run,
        loss=curve(ls, lv, weight, n_out),
        miou=curve(ms, mv, None, n_out),
        lr=curve(rs, rv, None, n_out),
        status=diagnosis.status,
        findings=diagnosis.findings,
        best=best_point(ms, mv),
        forecast=line,
        planned_steps=planned,
        clock=step_clock(table),
    )
