"""Figure builders: pure functions from prepared series to plotly figures (no Streamlit here).

Every string that comes from a log (run, class and metric names) is HTML-escaped before it
reaches plotly, which renders a subset of HTML in titles, legends, ticks and hover labels.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.figures.prepare import Bad, Curve, RunPlot
from metrics.diagnosis import Finding

LOSS_COLOR, MIOU_COLOR, LR_COLOR = "#1f77b4", "#d62728", "#7f7f7f"
BAD_COLOR = "#e41a1c"
SEVERITY_FILL = {"critical": "rgba(228,26,28,0.12)", "warning": "rgba(255,127,0,0.12)"}
INFO_FILL = "rgba(55,126,184,0.08)"
READINGS = {
    "ok": "healthy: loss falls while mIoU rises",
    "overfitting": "overfitting: loss keeps falling while mIoU drops",
    "stalled": "stalled: mIoU no longer rises beyond its noise",
    "diverging": "diverging: loss rises or turns NaN, mIoU collapses",
    "no_eval": "no evaluation yet: nothing to read",
    "converged": "converged: finished, its last part added nothing beyond noise",
    "broken_eval": "broken evaluation: mIoU cannot measure the model",
    "stopped": "stopped: no longer written before its planned end",
    "attention": "a finding needs a look (see below)",
}
PLOT_CONFIG = {"displaylogo": False, "scrollZoom": False}


def esc(text: object) -> str:
    """Text from a log, safe for plotly's HTML subset (shows ``<b>`` literally)."""
    return html.escape(str(text), quote=True)


def run_figure(
    plot: RunPlot, *, fit_outliers: bool = False, log_loss: bool = False, height: int = 620
) -> go.Figure:
    """Loss (left) and mIoU (right) against step, learning rate beneath on a shared x-axis."""
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.76, 0.24],
        vertical_spacing=0.04,
        specs=[[{"secondary_y": True}], [{}]],
    )
    if plot.loss is not None:
        _add_curve(fig, plot.loss, "train loss", LOSS_COLOR, row=1, secondary=False)
    if plot.miou is not None:
        _add_miou(fig, plot)
    if plot.lr is not None:
        _add_curve(fig, plot.lr, "lr", LR_COLOR, row=2, secondary=None)
    _add_bad_markers(fig, plot)
    _shade_findings(fig, plot.findings)
    _loss_axis(fig, plot.loss, fit_outliers, log_loss)
    fig.update_yaxes(
        title_text="val mIoU",
        secondary_y=True,
        row=1,
        col=1,
        rangemode="tozero",
        tickmode="auto",
        tickformat=".2f",
        showgrid=False,
    )
    fig.update_yaxes(title_text="lr", row=2, col=1, exponentformat="e")
    fig.update_xaxes(title_text="step", row=2, col=1)
    fig.update_layout(
        title={"text": esc(plot.run)},
        height=height,
        hovermode="x unified",
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        margin={"t": 80, "r": 60, "l": 60, "b": 40},
        uirevision=esc(plot.run),
    )
    return fig


def _add_curve(
    fig: go.Figure, c: Curve, name: str, color: str, *, row: int, secondary: bool | None
) -> None:
    raw_opacity = 0.25 if c.smooth is not None else 1.0
    kw = {"row": row, "col": 1}
    if secondary is not None:
        kw["secondary_y"] = secondary
    fig.add_trace(
        go.Scattergl(
            x=c.raw.x,
            y=c.raw.y,
            name=f"{name} (raw)" if c.smooth is not None else name,
            mode="lines",
            line={"color": color, "width": 1},
            opacity=raw_opacity,
            legendgroup=name,
        ),
        **kw,
    )
    if c.smooth is not None:
        fig.add_trace(
            go.Scattergl(
                x=c.smooth.x,
                y=c.smooth.y,
                name=f"{name} (smoothed)",
                mode="lines",
                line={"color": color, "width": 2.2},
                legendgroup=name,
            ),
            **kw,
        )


def _add_miou(fig: go.Figure, plot: RunPlot) -> None:
    assert plot.miou is not None
    c = plot.miou
    fig.add_trace(
        go.Scatter(
            x=c.raw.x,
            y=c.raw.y,
            name="val mIoU",
            mode="lines+markers",
            line={"color": MIOU_COLOR, "width": 2},
            marker={"size": 5},
        ),
        row=1,
        col=1,
        secondary_y=True,
    )
    if plot.best is not None:
        step, value = plot.best
        fig.add_trace(
            go.Scatter(
                x=[step],
                y=[value],
                name=f"best checkpoint: {value:.4f} @ {step}",
                mode="markers",
                marker={"symbol": "star", "size": 15, "color": "gold", "line": {"width": 1}},
            ),
            row=1,
            col=1,
            secondary_y=True,
        )
        fig.add_vline(x=step, line={"dash": "dot", "color": "goldenrod", "width": 1})
    fl = plot.forecast
    if fl is not None:
        fig.add_trace(
            go.Scatter(
                x=fl.x,
                y=fl.y,
                name=f"forecast @ {fl.end_step}: {fl.value:.4f}",
                mode="lines",
                line={"color": MIOU_COLOR, "dash": "dash", "width": 1.5},
                opacity=0.7,
            ),
            row=1,
            col=1,
            secondary_y=True,
        )
        fig.add_trace(
            go.Scatter(
                x=[fl.end_step],
                y=[fl.value],
                name=f"{fl.level:.0%} band: {fl.low:.4f}–{fl.high:.4f}",
                mode="markers",
                marker={"color": MIOU_COLOR, "symbol": "diamond-open", "size": 9},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [max(fl.high - fl.value, 0.0)],
                    "arrayminus": [max(fl.value - fl.low, 0.0)],
                },
            ),
            row=1,
            col=1,
            secondary_y=True,
        )


def _add_bad_markers(fig: go.Figure, plot: RunPlot) -> None:
    """NaN/inf points as red crosses pinned to the top of the plot (on a fixed 0–1 axis)."""
    marks: list[tuple[str, Bad]] = []
    if plot.loss is not None and len(plot.loss.bad):
        marks.append(("train loss", plot.loss.bad))
    if plot.miou is not None and len(plot.miou.bad):
        marks.append(("val mIoU", plot.miou.bad))
    if not marks:
        return
    fig.update_layout(
        yaxis4={"overlaying": "y", "range": [0, 1], "visible": False, "fixedrange": True}
    )
    for i, (name, bad) in enumerate(marks):
        fig.add_trace(
            go.Scatter(
                x=bad.steps,
                y=np.full(len(bad), 0.97 - 0.04 * i),
                text=[f"{name} = {k}" for k in bad.kinds],
                name=f"{name}: {len(bad)} non-finite",
                mode="markers",
                marker={"symbol": "x", "size": 10, "color": BAD_COLOR},
                hovertemplate="step %{x}: %{text}<extra></extra>",
                xaxis="x",
                yaxis="y4",
            )
        )


def _shade_findings(fig: go.Figure, findings: Sequence[Finding]) -> None:
    for f in findings:
        if f.steps is None:
            continue
        a, b = f.steps
        fig.add_vrect(
            x0=a,
            x1=max(b, a + 1),
            fillcolor=SEVERITY_FILL.get(f.severity, INFO_FILL),
            line_width=0,
            layer="below",
            annotation_text=esc(f.code),
            annotation_position="top left",
            annotation_font_size=10,
        )


def _loss_axis(fig: go.Figure, loss: Curve | None, fit_outliers: bool, log_loss: bool) -> None:
    kw: dict[str, object] = {"title_text": "train loss", "row": 1, "col": 1, "secondary_y": False}
    if log_loss:
        kw["type"] = "log"
    elif not fit_outliers and loss is not None and loss.bounds is not None:
        kw["range"] = list(loss.bounds)
    fig.update_yaxes(**kw)


def trajectory_figure(frame: pd.DataFrame, status: str, run: str = "") -> go.Figure:
    """Mean train loss per eval interval against that eval's mIoU, coloured by step."""
    fig = go.Figure(
        go.Scatter(
            x=frame["train_mean"].to_numpy(),
            y=frame["value"].to_numpy(),
            mode="lines+markers",
            line={"color": "rgba(120,120,120,0.4)"},
            marker={
                "color": frame["step"].to_numpy(),
                "colorscale": "Viridis",
                "size": 9,
                "colorbar": {"title": {"text": "step"}},
                "showscale": True,
            },
            customdata=frame["step"].to_numpy(),
            hovertemplate="step %{customdata}<br>mean train loss %{x:.4f}<br>"
            "mIoU %{y:.4f}<extra></extra>",
            name="eval",
        )
    )
    reading = READINGS.get(status, status)
    title = f"{esc(run)} — loss vs mIoU: {reading}" if run else f"loss vs mIoU: {reading}"
    fig.update_layout(
        title={"text": title},
        xaxis={
            "title": {"text": "mean train loss over the eval interval (falling →)"},
            "autorange": "reversed",
        },
        yaxis={"title": {"text": "val mIoU"}},
        height=420,
        uirevision=esc(run),
    )
    return fig


def class_heatmap_figure(wide: pd.DataFrame, run: str = "", max_cols: int = 200) -> go.Figure:
    """Per-class IoU: classes down, evals across (NaN cells left blank)."""
    if wide.shape[1] > max_cols:
        keep = np.unique(np.linspace(0, wide.shape[1] - 1, max_cols).astype(int))
        wide = wide.iloc[:, keep]
    labels = [esc(c) for c in wide.index]
    fig = go.Figure(
        go.Heatmap(
            z=wide.to_numpy(np.float64),
            x=np.asarray(wide.columns, dtype=np.float64),
            y=labels,
            zmin=0.0,
            zmax=1.0,
            colorscale="Viridis",
            colorbar={"title": {"text": "IoU"}},
            hovertemplate="%{y} @ step %{x}: IoU %{z:.4f}<extra></extra>",
        )
    )
    fig.update_layout(
        title={"text": f"per-class IoU — {esc(run)}" if run else "per-class IoU"},
        xaxis={"title": {"text": "step"}},
        yaxis={"autorange": "reversed", "type": "category"},
        height=max(300, 22 * len(labels) + 120),
        uirevision=esc(run),
    )
    return fig
