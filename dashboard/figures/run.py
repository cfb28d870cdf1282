"""Figure builders: pure functions from prepared series to plotly figures (no Streamlit here).

Every string that comes from a log (run, class and metric names) is HTML-escaped before it
reaches plotly, which renders a subset of HTML in titles, legends, ticks and hover labels.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.figures.prepare import Bad, Curve, Floats, RunPlot

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
HOVER = "%{y:.4f}"
HOVER_LR = "%{y:.4~e}"


def esc(text: object) -> str:
    """Text from a log, safe for plotly's HTML subset (shows ``<b>`` literally)."""
    return html.escape(str(text), quote=True)


LossAxis = Literal["all", "robust", "log"]
XAxis = Literal["step", "wall", "relative"]
X_TITLES = {"step": "step", "wall": "wall time", "relative": "hours since the first record"}
# short labels: a widget bound to the URL writes its label there (loss_axis=ignore+outliers)
LOSS_AXIS_LABELS = {"all": "all points", "robust": "ignore outliers", "log": "log"}
X_LABELS = {"step": "step", "wall": "wall time", "relative": "relative time"}
LOG_TICKS = {"dtick": "D2", "tickformat": ".3~g", "exponentformat": "power"}  # 500, 0.5


def run_figure(
    plot: RunPlot,
    *,
    loss_axis: LossAxis = "all",
    miou_full: bool = False,
    lr_log: bool = False,
    x: XAxis = "step",
    title: bool = False,
    height: int = 620,
) -> go.Figure:
    """Loss (left) and mIoU (right) against step or time, learning rate beneath, shared x-axis.

    The legend sits beneath the plot, so it can never cover the title (shown only with
    ``title=True``, for the standalone report; the page names the run in its header).
    """
    if plot.clock is None:
        x = "step"  # the logs carry no wall time: the page says so
    clock = _Clock(plot.clock, x)
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.76, 0.24],
        vertical_spacing=0.05,
        specs=[[{"secondary_y": True}], [{}]],
    )
    if plot.loss is not None:
        _add_curve(fig, plot.loss, "train loss", LOSS_COLOR, clock, row=1, secondary=False)
    if plot.miou is not None:
        _add_miou(fig, plot, clock)
    if plot.lr is not None:
        _add_curve(fig, plot.lr, "lr", LR_COLOR, clock, row=2, secondary=None)
    _add_bad_markers(fig, plot, clock)
    _shade_findings(fig, plot, clock)
    _loss_axis(fig, plot.loss, loss_axis)
    _miou_axis(fig, plot.miou, miou_full)
    _lr_axis(fig, plot.lr, lr_log)
    fig.update_xaxes(title_text=X_TITLES[x], row=2, col=1)
    fig.update_layout(
        title={"text": esc(plot.run), "x": 0, "xanchor": "left"} if title else None,
        height=height,
        hovermode="x unified",
        hoverlabel={"namelength": -1},
        legend={"orientation": "h", "y": -0.1, "yanchor": "top", "x": 0, "xanchor": "left"},
        margin={"t": 60 if title else 30, "r": 60, "l": 60, "b": 110},
        uirevision=esc(plot.run) if x == "step" else f"{esc(plot.run)}|{x}",
    )
    return fig


class _Clock:
    """Steps to the chosen x-axis: the step itself, wall time, or hours since the start."""

    def __init__(self, clock: tuple[Floats, Floats] | None, mode: XAxis) -> None:
        self.clock = clock if mode != "step" else None
        self.mode = mode

    def __call__(self, steps: object) -> object:
        s = np.asarray(steps, dtype=np.float64)
        if self.clock is None:
            return s
        known, wall = self.clock
        t = np.interp(s, known, wall)
        if self.mode == "relative":
            return (t - wall[0]) / 3600.0
        return pd.to_datetime(t, unit="s", utc=True).tz_localize(None).to_numpy()

    def one(self, step: float) -> object:
        out = self(np.array([step], dtype=np.float64))
        return out[0]  # type: ignore[index]


def _add_curve(
    fig: go.Figure,
    c: Curve,
    name: str,
    color: str,
    clock: _Clock,
    *,
    row: int,
    secondary: bool | None,
) -> None:
    raw_opacity = 0.25 if c.smooth is not None else 1.0
    kw = {"row": row, "col": 1}
    if secondary is not None:
        kw["secondary_y"] = secondary
    hover = HOVER_LR if name == "lr" else HOVER
    fig.add_trace(
        go.Scatter(
            x=clock(c.raw.x),
            y=c.raw.y,
            name=f"{name} (raw)" if c.smooth is not None else name,
            mode="lines",
            line={"color": color, "width": 1},
            opacity=raw_opacity,
            legendgroup=name,
            hovertemplate=hover,
        ),
        **kw,
    )
    if c.smooth is not None:
        fig.add_trace(
            go.Scatter(
                x=clock(c.smooth.x),
                y=c.smooth.y,
                name=f"{name} (smoothed)",
                mode="lines",
                line={"color": color, "width": 2.2},
                legendgroup=name,
                hovertemplate=hover,
            ),
            **kw,
        )


def _add_miou(fig: go.Figure, plot: RunPlot, clock: _Clock) -> None:
    assert plot.miou is not None
    c = plot.miou
    on_y2 = {"row": 1, "col": 1, "secondary_y": True}
    fig.add_trace(
        go.Scatter(
            x=clock(c.raw.x),
            y=c.raw.y,
            name="val mIoU",
            mode="lines+markers",
            line={"color": MIOU_COLOR, "width": 2},
            marker={"size": 5},
            hovertemplate=HOVER,
        ),
        **on_y2,
    )
    if plot.best is not None:
        step, value = plot.best
        fig.add_trace(
            go.Scatter(
                x=[clock.one(step)],
                y=[value],
                name=f"best checkpoint: {value:.4f} @ {step}",
                mode="markers",
                marker={"symbol": "star", "size": 15, "color": "gold", "line": {"width": 1}},
                hovertemplate=HOVER,
            ),
            **on_y2,
        )
        fig.add_vline(x=clock.one(step), line={"dash": "dot", "color": "goldenrod", "width": 1})
    fl = plot.forecast
    if fl is not None and clock.mode == "step":  # the forecast is in steps: no time to draw it at
        fig.add_trace(
            go.Scatter(
                x=fl.x,
                y=fl.y,
                name=f"forecast @ {fl.end_step}: {fl.value:.4f}",
                mode="lines",
                line={"color": MIOU_COLOR, "dash": "dash", "width": 1.5},
                opacity=0.7,
                hovertemplate=HOVER,
            ),
            **on_y2,
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
                hovertemplate=HOVER,
            ),
            **on_y2,
        )


def _add_bad_markers(fig: go.Figure, plot: RunPlot, clock: _Clock) -> None:
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
                x=clock(bad.steps),
                y=np.full(len(bad), 0.97 - 0.04 * i),
                text=[f"{name} = {k}" for k in bad.kinds],
                name=f"{name}: {len(bad)} non-finite",
                mode="markers",
                marker={"symbol": "x", "size": 10, "color": BAD_COLOR},
                hovertemplate="%{text}<extra></extra>",
                xaxis="x",
                yaxis="y4",
            )
        )


def label_rows(spans: Sequence[tuple[float, float]], width: float, char: float) -> list[int]:
    """A text row for each band's label so that no two labels on one row overlap.

    Labels start at their band's left edge and are ``char`` x-units per character wide
    (``width`` is each label's length in characters times that); greedy, first row that fits.
    """
    ends: list[float] = []  # per row, where its last label ends
    rows = []
    for a, _b in spans:
        for r, end in enumerate(ends):
            if a >= end:
                ends[r] = a + width * char
                rows.append(r)
                break
        else:
            ends.append(a + width * char)
            rows.append(len(ends) - 1)
    return rows


def _shade_findings(fig: go.Figure, plot: RunPlot, clock: _Clock) -> None:
    """Each finding's step range shaded; its label on the first text row where it fits."""
    banded = [f for f in plot.findings if f.steps is not None]
    spans = sorted((float(a), float(max(b, a + 1))) for f in banded for a, b in [f.steps or (0, 0)])
    if not spans:
        return
    banded.sort(key=lambda f: f.steps or (0, 0))
    ends = [float(c.raw.x.max()) for c in (plot.loss, plot.miou, plot.lr) if c and c.raw.shown]
    starts = [float(c.raw.x.min()) for c in (plot.loss, plot.miou, plot.lr) if c and c.raw.shown]
    lo, hi = min([*starts, spans[0][0]]), max(ends + [b for _, b in spans])
    char = max(hi - lo, 1.0) / 140.0  # ~140 characters of 10-px text across a wide chart
    rows = label_rows(spans, max(len(f.code) for f in banded) + 2, char)
    for f, (a, b), row in zip(banded, spans, rows, strict=True):
        fig.add_vrect(
            x0=clock.one(a),
            x1=clock.one(b),
            fillcolor=SEVERITY_FILL.get(f.severity, INFO_FILL),
            line_width=0,
            layer="below",
        )
        fig.add_annotation(
            x=clock.one(a),
            y=1.0 - 0.045 * row,
            xref="x",
            yref="paper",
            text=esc(f.code),
            showarrow=False,
            xanchor="left",
            yanchor="top",
            font={"size": 10},
            bgcolor="rgba(255,255,255,0.7)",
        )


def _loss_axis(fig: go.Figure, loss: Curve | None, mode: LossAxis) -> None:
    kw: dict[str, object] = {"title_text": "train loss", "row": 1, "col": 1, "secondary_y": False}
    if mode == "log":
        kw.update(type="log", **LOG_TICKS)
    elif mode == "robust" and loss is not None and loss.bounds is not None:
        kw["range"] = list(loss.bounds)
    fig.update_yaxes(**kw)


def _miou_axis(fig: go.Figure, miou: Curve | None, full: bool) -> None:
    """Fitted to the data (a 0.03 drop stays visible), or the whole 0–1 range."""
    kw: dict[str, object] = {"title_text": "val mIoU", "tickformat": ".3~f", "showgrid": False}
    if full:
        kw["range"] = [0.0, 1.0]
    elif miou is not None and len(miou.raw.y):
        a, b = float(np.min(miou.raw.y)), float(np.max(miou.raw.y))
        pad = max((b - a) * 0.08, 0.005)
        kw["range"] = [a - pad, b + pad]
    fig.update_yaxes(row=1, col=1, secondary_y=True, **kw)


def _lr_axis(fig: go.Figure, lr: Curve | None, log: bool) -> None:
    """The lr on its own scale: a constant lr is drawn mid-axis at its value, not at 0."""
    kw: dict[str, object] = {"title_text": "lr", "exponentformat": "e"}
    ys = lr.raw.y if lr is not None else np.empty(0)
    pos = ys[ys > 0]
    if log and len(pos):
        kw.update(type="log", **LOG_TICKS)
        kw["exponentformat"] = "e"
    elif len(ys):
        a, b = float(np.min(ys)), float(np.max(ys))
        pad = (b - a) * 0.08 or max(abs(a) * 0.5, 1e-12)
        kw["range"] = [a - pad, b + pad]
    fig.update_yaxes(row=2, col=1, **kw)


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


LABEL_CHARS = 36  # class names longer than this are shortened on the axis (full in the hover)
LABEL_PX = 7.5  # width of one character of a 12-px tick label, generously


def short_labels(names: Sequence[object], limit: int = LABEL_CHARS) -> list[str]:
    """Axis labels of at most ``limit`` characters, still distinct (a category axis merges twins).

    A long name keeps its start and its end (``cityscapes/void/…/ego vehicle``): both tell
    classes apart.
    """
    out: list[str] = []
    seen: set[str] = set()
    for i, name in enumerate(str(n) for n in names):
        label = name
        if len(name) > limit:
            head = (limit - 1) * 2 // 3
            label = name[:head] + "…" + name[len(name) - (limit - 1 - head) :]
        if label in seen:  # two long names with the same ends
            tag = f"#{i}"
            label = label[: limit - len(tag) - 1] + "…" + tag
        seen.add(label)
        out.append(label)
    return out


def class_heatmap_figure(wide: pd.DataFrame, run: str = "", max_cols: int = 200) -> go.Figure:
    """Per-class IoU: classes down, evals across (NaN cells left blank).

    Long class names are shortened on the axis and the left margin is made wide enough for the
    longest label, so a name never runs off the figure's edge (plotly's automargin alone gives
    up when a label is wider than the figure allows; the hover shows the full name).
    """
    if wide.shape[1] > max_cols:
        keep = np.unique(np.linspace(0, wide.shape[1] - 1, max_cols).astype(int))
        wide = wide.iloc[:, keep]
    shown = short_labels(list(wide.index))
    labels = [esc(c) for c in shown]
    full = np.repeat(np.array([[esc(c)] for c in wide.index], dtype=object), wide.shape[1], axis=1)
    fig = go.Figure(
        go.Heatmap(
            z=wide.to_numpy(np.float64),
            x=np.asarray(wide.columns, dtype=np.float64),
            y=labels,
            customdata=full,
            zmin=0.0,
            zmax=1.0,
            colorscale="Viridis",
            colorbar={"title": {"text": "IoU"}},
            hovertemplate="%{customdata} @ step %{x}: IoU %{z:.4f}<extra></extra>",
        )
    )
    longest = max((len(c) for c in shown), default=0)
    fig.update_layout(
        title={"text": f"per-class IoU — {esc(run)}" if run else "per-class IoU"},
        xaxis={"title": {"text": "step"}},
        yaxis={"autorange": "reversed", "type": "category", "automargin": True},
        margin={"l": int(LABEL_PX * longest) + 20, "r": 20},
        height=max(300, 22 * len(labels) + 120),
        uirevision=esc(run),
    )
    return fig
