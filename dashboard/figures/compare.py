"""Several runs on one figure (mIoU above, smoothed loss beneath) and their side-by-side table.

Pure: prepared per-run series in, plotly figure or DataFrame out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from dashboard.figures.downsample import MAX_POINTS, Thinned, thin
from dashboard.figures.prepare import Floats, best_point, metric_series, robust_bounds, step_clock
from dashboard.figures.run import LOG_TICKS, esc
from metrics.schema import LOSS, MIOU
from metrics.stats.smoothing import ema

Align = Literal["step", "fraction", "time"]
X_TITLES = {
    "step": "step",
    "fraction": "fraction of planned iterations",
    "time": "hours since the run's first record",
}
HOVER = "%{y:.4f}"


def run_colors(names: Sequence[str]) -> dict[str, str]:
    """A colour per run from its place among all runs: the same on every chart and selection."""
    palette = qualitative.Plotly + qualitative.D3[1:] + qualitative.Dark24
    return {n: palette[i % len(palette)] for i, n in enumerate(names)}


@dataclass(frozen=True)
class CompareSeries:
    """One run as the compare page draws it."""

    run: str
    miou: Thinned
    loss: Thinned
    scale: float  # the step that maps to 1.0 when aligning by fraction
    planned: bool  # whether ``scale`` is the planned length (else the last logged step)
    clock: tuple[Floats, Floats] | None = None  # (step, wall time) for aligning by time

    def x(self, steps: Floats, align: Align) -> Floats:
        """Steps as the chosen x: the step, the fraction of the plan, or hours since start."""
        if align == "fraction":
            return steps / self.scale
        if align == "time" and self.clock is not None:
            known, wall = self.clock
            return (np.interp(steps, known, wall) - wall[0]) / 3600.0
        return steps


def compare_series(
    run: str,
    table: pd.DataFrame,
    planned: int | None,
    weight: float,
    n_out: int = MAX_POINTS // 2,
) -> CompareSeries:
    """mIoU raw and loss smoothed at full resolution, both thinned for an overlay."""
    ms, mv = metric_series(table, MIOU, "val")
    ls, lv = metric_series(table, LOSS, "train")
    smooth = ema(lv, weight) if len(lv) and weight > 0 else lv
    last = float(table["step"].max()) if len(table) else 1.0
    scale = float(planned) if planned else max(last, 1.0)
    return CompareSeries(
        run, thin(ms, mv, n_out), thin(ls, smooth, n_out), scale, bool(planned), step_clock(table)
    )


def compare_figure(
    series: Sequence[CompareSeries],
    align: Align = "step",
    *,
    colors: Mapping[str, str] | None = None,
    loss_axis: str = "all",
) -> go.Figure:
    """Overlay runs: x is the step, the fraction of each run's plan, or hours since its start.

    ``loss_axis``: "all" (every point), "robust" (5th–95th percentile of all runs: a diverged
    run no longer flattens the others) or "log".
    """
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.6, 0.4], vertical_spacing=0.05
    )
    colors = colors or run_colors([s.run for s in series])
    for s in series:
        color = colors.get(s.run, "#444")
        name = esc(s.run)
        fig.add_trace(
            go.Scatter(
                x=s.x(s.miou.x, align),
                y=s.miou.y,
                name=name,
                legendgroup=name,
                mode="lines+markers",
                marker={"size": 4},
                line={"color": color},
                hovertemplate=HOVER,
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=s.x(s.loss.x, align),
                y=s.loss.y,
                name=name,
                legendgroup=name,
                showlegend=False,
                mode="lines",
                line={"color": color, "width": 1.5},
                hovertemplate=HOVER,
            ),
            row=2,
            col=1,
        )
    fig.update_xaxes(title_text=X_TITLES[align], row=2, col=1)
    fig.update_yaxes(title_text="val mIoU", tickformat=".3~f", row=1, col=1)
    loss: dict[str, object] = {"title_text": "train loss (smoothed)"}
    every = np.concatenate([s.loss.y for s in series]) if series else np.empty(0)
    if loss_axis == "log":
        loss.update(type="log", **LOG_TICKS)
    elif loss_axis == "robust" and (bounds := robust_bounds(every)) is not None:
        loss["range"] = list(bounds)
    fig.update_yaxes(row=2, col=1, **loss)
    fig.update_layout(
        height=640,
        hovermode="x unified",
        hoverlabel={"namelength": -1},
        legend={"orientation": "h", "y": -0.1, "yanchor": "top", "x": 0},
        margin={"t": 30, "b": 100},
        uirevision="compare-" + align,
    )
    return fig


def compare_table(runs: Sequence[tuple[str, pd.DataFrame, int | None]]) -> pd.DataFrame:
    """Best and final metrics of each run, side by side (one row per run)."""
    rows = []
    for name, table, planned in runs:
        ms, mv = metric_series(table, MIOU, "val")
        _, lv = metric_series(table, LOSS, "train")
        best = best_point(ms, mv)
        fin_m = mv[np.isfinite(mv)]
        fin_l = lv[np.isfinite(lv)]
        last = int(table["step"].max()) if len(table) else None
        rows.append(
            {
                "run": name,
                "best mIoU": best[1] if best else None,
                "best @ step": best[0] if best else None,
                "final mIoU": float(fin_m[-1]) if len(fin_m) else None,
                "min train loss": float(fin_l.min()) if len(fin_l) else None,
                "final train loss": float(fin_l[-1]) if len(fin_l) else None,
                "last step": last,
                "planned": f"{planned:,}" if planned else "not logged",
                "evals": len(fin_m),
            }
        )
    return pd.DataFrame(rows)
