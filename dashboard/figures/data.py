"""Figures of the Data page: the confusion matrix and per-class IoU of a saved ``segwatch eval``.

Pure functions from arrays to plotly figures (no Streamlit here). Class names come from files
and are escaped with ``figures.esc`` before they reach plotly's HTML subset.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from numpy.typing import ArrayLike

from dashboard.figures.run import BAD_COLOR, LOSS_COLOR, esc
from metrics.diagnosis import DiagnosisConfig

DEAD_IOU = DiagnosisConfig().dead_iou  # the diagnosis's own "dead class" threshold
UNDEFINED_COLOR = "#bbbbbb"
CELL_TEXT_MAX = 15  # print the percentage in each cell up to this many classes


def class_labels(names: Sequence[str]) -> list[str]:
    """Escaped axis labels, one per class, made unique (``id: name``) when names repeat."""
    labels = [esc(n) if str(n).strip() else str(i) for i, n in enumerate(names)]
    if len(set(labels)) == len(labels):
        return labels
    return [f"{i}: {label}" for i, label in enumerate(labels)]


def row_normalised(confusion: ArrayLike) -> np.ndarray:
    """Each ground-truth row divided by its total (NaN for a class with no labelled pixel)."""
    cm = np.asarray(confusion, dtype=np.float64)
    totals = cm.sum(axis=1, keepdims=True)
    out = np.full(cm.shape, np.nan)
    np.divide(cm, totals, out=out, where=totals > 0)
    return out


def confusion_figure(confusion: ArrayLike, names: Sequence[str], title: str = "") -> go.Figure:
    """Rows = ground truth, columns = prediction, each row normalised; counts in the hover."""
    counts = np.asarray(confusion, dtype=np.int64)
    labels = class_labels(names)
    k = len(labels)
    heat = go.Heatmap(
        z=row_normalised(counts),
        x=labels,
        y=labels,
        customdata=counts,
        zmin=0.0,
        zmax=1.0,
        colorscale="Blues",
        colorbar={"title": {"text": "share of<br>the row"}, "tickformat": ".0%"},
        hovertemplate="truth %{y} → predicted %{x}<br>%{z:.1%} of the truth's pixels"
        "<br>%{customdata:,} pixels<extra></extra>",
    )
    if k <= CELL_TEXT_MAX:
        heat.update(texttemplate="%{z:.0%}")
    fig = go.Figure(heat)
    side = max(420, min(1600, 24 * k + 180))
    fig.update_layout(
        title={"text": esc(title) if title else "confusion matrix (each row sums to 100%)"},
        xaxis={"title": {"text": "predicted class"}, "type": "category", "tickangle": -45},
        yaxis={
            "title": {"text": "ground-truth class"},
            "type": "category",
            "autorange": "reversed",
        },
        height=side,
    )
    return fig


def iou_bars_figure(
    names: Sequence[str],
    iou: ArrayLike,
    miou: float | None = None,
    dead_iou: float = DEAD_IOU,
) -> go.Figure:
    """Per-class IoU as horizontal bars, worst first; dead classes red, undefined ones grey."""
    values = np.asarray(iou, dtype=np.float64)
    labels = class_labels(names)
    undefined = np.isnan(values)
    order = [int(i) for i in np.argsort(np.where(undefined, np.inf, values), kind="stable")]
    dead = ~undefined & (values <= dead_iou)
    groups = (
        (f"IoU ≤ {dead_iou:g} (dead)", dead, BAD_COLOR),
        ("IoU", ~undefined & ~dead, LOSS_COLOR),
        ("no pixels in truth or prediction", undefined, UNDEFINED_COLOR),
    )
    fig = go.Figure()
    for name, mask, color in groups:
        idx = [i for i in order if mask[i]]
        if not idx:
            continue
        x = np.where(undefined[idx], 0.0, values[idx])
        fig.add_trace(
            go.Bar(
                x=x,
                y=[labels[i] for i in idx],
                orientation="h",
                name=name,
                marker={"color": color},
                text=["n/a" if undefined[i] else f"{values[i]:.3f}" for i in idx],
                textposition="outside",
                hovertemplate="%{y}: %{text}<extra></extra>",
            )
        )
    if miou is not None and np.isfinite(miou):
        fig.add_vline(
            x=miou,
            line={"dash": "dash", "color": "#444", "width": 1},
            annotation_text=f"mIoU {miou:.4f}",
            annotation_position="top",
        )
    fig.update_layout(
        title={"text": "per-class IoU, worst first"},
        xaxis={"title": {"text": "IoU"}, "range": [0, 1.08]},
        yaxis={
            "type": "category",
            "categoryorder": "array",
            "categoryarray": [labels[i] for i in order],
            "autorange": "reversed",
        },
        barmode="overlay",
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        height=max(300, 22 * len(labels) + 140),
    )
    return fig
