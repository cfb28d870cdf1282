"""Every scalar a run logged, one small chart each (TensorBoard's Scalars tab). Pure.

Metrics are grouped by split (train, val, …); per-class series (``iou/…``, ``acc/…``) are
collapsed into one chart per prefix. Each chart carries its own buttons for a log y-axis and
for ignoring outliers, so switching costs no rerun.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from dashboard.figures.downsample import MAX_POINTS, thin
from dashboard.figures.prepare import metric_series, robust_bounds
from dashboard.figures.run import esc
from metrics.schema import ACC_PREFIX, IOU_PREFIX

PER_CLASS = (IOU_PREFIX, ACC_PREFIX)
CHART_HEIGHT = 260


@dataclass(frozen=True)
class MetricGroup:
    """One split's metrics: the scalars, then the per-class prefixes that split logged."""

    split: str
    scalars: tuple[str, ...]
    per_class: tuple[str, ...]


def metric_groups(table: pd.DataFrame) -> list[MetricGroup]:
    """Every (split, metric) the table holds, train first, then val, then the rest."""
    pairs = table[["split", "metric"]].astype(str).drop_duplicates()
    out = []
    for split in sorted(
        pairs["split"].unique(), key=lambda s: ({"train": 0, "val": 1}.get(s, 2), s)
    ):
        names = sorted(pairs.loc[pairs["split"] == split, "metric"])
        scalars = tuple(m for m in names if not m.startswith(PER_CLASS))
        prefixes = tuple(p for p in PER_CLASS if any(m.startswith(p) for m in names))
        out.append(MetricGroup(split, scalars, prefixes))
    return out


def metric_figure(
    table: pd.DataFrame, split: str, metric: str, n_out: int = MAX_POINTS // 2
) -> go.Figure:
    """One logged scalar against step, hover at 4 significant digits, log/outlier buttons."""
    steps, values = metric_series(table, metric, split)
    t = thin(steps, values, n_out)
    name = f"{split}/{metric}"
    fig = go.Figure(
        go.Scatter(
            x=t.x,
            y=t.y,
            mode="lines+markers" if t.shown <= 60 else "lines",
            marker={"size": 4},
            name=esc(name),
            hovertemplate="step %{x}: %{y:.6~g}<extra></extra>",
        )
    )
    _layout(fig, esc(name), t.y)
    return fig


def class_figure(
    table: pd.DataFrame, split: str, prefix: str, names: Sequence[str] = ()
) -> go.Figure:
    """Every class of one per-class metric (``iou/``, ``acc/``) as lines on one chart."""
    rows = table[(table["split"] == split) & table["metric"].astype(str).str.startswith(prefix)]
    classes = sorted(rows["metric"].astype(str).unique(), key=lambda m: _class_key(m, prefix))
    fig = go.Figure()
    palette = qualitative.Dark24
    ys = []
    for i, metric in enumerate(classes):
        steps, values = metric_series(rows, metric, split)
        t = thin(steps, values, MAX_POINTS // 8)
        ys.append(t.y)
        label = esc(metric[len(prefix) :])
        fig.add_trace(
            go.Scatter(
                x=t.x,
                y=t.y,
                mode="lines",
                name=label,
                line={"color": palette[i % len(palette)], "width": 1.2},
                hovertemplate=f"{label}: %{{y:.4f}}<extra></extra>",
            )
        )
    _layout(fig, esc(f"{split}/{prefix}<class>"), np.concatenate(ys) if ys else np.empty(0))
    fig.update_layout(height=CHART_HEIGHT + 120, hovermode="x", showlegend=True)
    return fig


def _class_key(metric: str, prefix: str) -> tuple[int, float, str]:
    text = metric[len(prefix) :]
    try:
        return (0, float(text), text)
    except ValueError:
        return (1, 0.0, text)


def _layout(fig: go.Figure, title: str, ys: np.ndarray) -> None:
    """A small chart: title above, no legend in the plot, and two client-side toggles."""
    bounds = robust_bounds(np.asarray(ys, dtype=np.float64))
    fit = [list(bounds)] if bounds is not None else [None]
    positive = bool(len(ys)) and bool(np.all(np.asarray(ys)[np.isfinite(ys)] > 0))
    buttons = [
        {"label": "linear", "method": "relayout", "args": [{"yaxis.type": "linear"}]},
    ]
    if positive:
        buttons.append({"label": "log", "method": "relayout", "args": [{"yaxis.type": "log"}]})
    outliers = [
        {"label": "all points", "method": "relayout", "args": [{"yaxis.autorange": True}]},
        {"label": "ignore outliers", "method": "relayout", "args": [{"yaxis.range": fit[0]}]},
    ]
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "y": 0.97, "yanchor": "top",
               "font": {"size": 13}},
        height=CHART_HEIGHT,
        margin={"t": 64, "r": 10, "l": 50, "b": 30},
        showlegend=False,
        hovermode="x unified",
        hoverlabel={"namelength": -1},
        xaxis={"title": {"text": None}},
        yaxis={"exponentformat": "e", "tickformat": "~g"},
        updatemenus=[_menu(buttons, 0.0, "left"), _menu(outliers, 1.0, "right")],
    )  # fmt: skip
    finite = np.asarray(ys, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if len(finite) and finite.min() == finite.max():  # a constant: at its value, not at 0
        v = float(finite[0])
        pad = abs(v) * 0.5 or 1.0
        fig.update_yaxes(range=[v - pad, v + pad])


def _menu(buttons: list[dict[str, object]], x: float, anchor: str) -> dict[str, object]:
    return {
        "type": "buttons",
        "direction": "right",
        "buttons": buttons,
        "x": x,
        "xanchor": anchor,
        "y": 1.0,
        "yanchor": "bottom",
        "pad": {"t": 2, "b": 2},
        "font": {"size": 10},
        "showactive": True,
    }
