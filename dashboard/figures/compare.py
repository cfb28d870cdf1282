"""Several runs on one figure (mIoU above, smoothed loss beneath) and their side-by-side table.

Pure: prepared per-run series in, plotly figure or DataFrame out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from dashboard.figures.downsample import MAX_POINTS, Thinned, thin
from dashboard.figures.prepare import best_point, metric_series
from dashboard.figures.run import esc
from metrics.runs.diff import RunDiff
from metrics.schema import LOSS, MIOU
from metrics.stats.smoothing import ema

Align = Literal["step", "fraction"]


@dataclass(frozen=True)
class CompareSeries:
    """One run as the compare page draws it."""

    run: str
    miou: Thinned
    loss: Thinned
    scale: float  # the step that maps to 1.0 when aligning by fraction
    planned: bool  # whether ``scale`` is the planned length (else the last logged step)


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
    return CompareSeries(run, thin(ms, mv, n_out), thin(ls, smooth, n_out), scale, bool(planned))


def compare_figure(series: Sequence[CompareSeries], align: Align = "step") -> go.Figure:
    """Overlay runs: x is the step, or the fraction of each run's planned iterations."""
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.6, 0.4], vertical_spacing=0.05
    )
    palette = qualitative.Plotly
    for i, s in enumerate(series):
        color = palette[i % len(palette)]
        div = s.scale if align == "fraction" else 1.0
        name = esc(s.run)
        fig.add_trace(
            go.Scatter(
                x=s.miou.x / div,
                y=s.miou.y,
                name=name,
                legendgroup=name,
                mode="lines+markers",
                marker={"size": 4},
                line={"color": color},
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scattergl(
                x=s.loss.x / div,
                y=s.loss.y,
                name=name,
                legendgroup=name,
                showlegend=False,
                mode="lines",
                line={"color": color, "width": 1.5},
            ),
            row=2,
            col=1,
        )
    xlabel = "step" if align == "step" else "fraction of planned iterations"
    fig.update_xaxes(title_text=xlabel, row=2, col=1)
    fig.update_yaxes(title_text="val mIoU", row=1, col=1)
    fig.update_yaxes(title_text="train loss (smoothed)", row=2, col=1)
    fig.update_layout(
        height=640,
        hovermode="x unified",
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
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
                "planned": planned,
                "evals": len(fin_m),
            }
        )
    return pd.DataFrame(rows)


def diff_rows(diff: RunDiff) -> list[dict[str, str]]:
    """The result lines, then one line per changed config key (values as text)."""

    def text(v: object) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return v if isinstance(v, str) else json.dumps(v, default=str)

    rows = [
        {"what": "best mIoU", "A": text(diff.a.best_miou), "B": text(diff.b.best_miou)},
        {"what": "reached at step", "A": text(diff.a.best_step), "B": text(diff.b.best_step)},
    ]
    rows += [{"what": c.key, "A": text(c.a), "B": text(c.b)} for c in diff.changes]
    return rows
