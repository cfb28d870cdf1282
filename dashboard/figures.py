"""Figure builders: plain functions from tidy tables to plotly figures (no Streamlit here)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from metrics.schema import LOSS, MIOU
from metrics.summary import series


def loss_miou_figure(table: pd.DataFrame, title: str = "") -> go.Figure:
    """Training loss (left axis) and validation mIoU (right axis) against step."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    loss = series(table, LOSS, "train")
    miou = series(table, MIOU, "val")
    fig.add_trace(
        go.Scattergl(x=loss["step"], y=loss["value"], name="train loss", mode="lines"),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(x=miou["step"], y=miou["value"], name="val mIoU", mode="lines+markers"),
        secondary_y=True,
    )
    fig.update_layout(title=title, hovermode="x unified", legend={"orientation": "h"})
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(title_text="loss", secondary_y=False)
    fig.update_yaxes(title_text="mIoU", secondary_y=True, rangemode="tozero")
    return fig
