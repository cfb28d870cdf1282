"""A run's report as one standalone HTML file (plotly.js inlined: works offline) and its CSV.

Pure: figures and a diagnosis in, text out. Every string from a log is HTML-escaped.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.compare import compare_series
from dashboard.figures.evidence import evidence_rows
from dashboard.figures.prepare import metric_series
from metrics.diagnosis import CHECK_ADVICE, RunDiagnosis
from metrics.schema import LOSS, LR, MIOU
from metrics.stats.smoothing import ema

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1200px;color:#222;padding:0 1rem}
h1{margin-bottom:.2rem} .muted{color:#666}
.finding{border-left:4px solid #999;padding:.4rem .8rem;margin:.8rem 0;background:#fafafa}
.critical{border-color:#e41a1c} .warning{border-color:#ff7f00} .info{border-color:#377eb8}
table{border-collapse:collapse} td,th{border:1px solid #ddd;padding:.2rem .6rem;text-align:left}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def report_html(
    run: str,
    figures: Sequence[go.Figure],
    diagnosis: RunDiagnosis,
    facts: Mapping[str, Any],
    generated: dt.datetime | None = None,
    *,
    offline: bool = True,
) -> str:
    """An HTML page: the run's facts, its findings with checks, its figures.

    ``offline`` inlines plotly.js (~4.8 MB, opens without a network); otherwise the page loads
    it from plotly's CDN and weighs only its data (tens of kB).
    """
    when = (generated or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>segwatch report: {_e(run)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(run)}</h1>",
        f'<p class="muted">segwatch report · generated {_e(when)} · '
        f"status: <b>{_e(diagnosis.status)}</b></p>",
        _facts_table(facts),
        "<h2>Findings</h2>",
        _findings(diagnosis),
        "<h2>Curves</h2>",
    ]
    for i, fig in enumerate(figures):
        parts.append(
            fig.to_html(
                full_html=False,
                include_plotlyjs=(True if offline else "cdn") if i == 0 else False,
                config={"displaylogo": False},
            )
        )
    parts.append("</body></html>")
    return "\n".join(parts)


def _facts_table(facts: Mapping[str, Any]) -> str:
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in facts.items())
    return f"<table>{rows}</table>"


def _findings(diagnosis: RunDiagnosis) -> str:
    if not diagnosis.findings:
        return "<p>No findings.</p>"
    out = []
    for f in diagnosis.findings:
        steps = f" · steps {f.steps[0]}–{f.steps[1]}" if f.steps else ""
        evidence = "".join(
            f"<li>{_e(r['evidence'])}: {_e(r['value'])}</li>" for r in evidence_rows(f.evidence)
        )
        checks = "".join(
            f"<li><b>{_e(c)}</b>: {_e(CHECK_ADVICE.get(c, ''))}</li>" for c in f.checks
        )
        out.append(
            f'<div class="finding {_e(f.severity)}"><b>{_e(f.code)}</b> ({_e(f.severity)}'
            f"{_e(steps)})<p>{_e(f.message)}</p>"
            + (f"<p>Evidence:</p><ul>{evidence}</ul>" if evidence else "")
            + (f"<p>Checks to try:</p><ol>{checks}</ol>" if checks else "")
            + "</div>"
        )
    return "\n".join(out)


def table_csv(table: pd.DataFrame) -> bytes:
    """The run's tidy table as CSV (NaN as ``nan``, ±inf as ``inf``/``-inf``: kept, not blank)."""
    out = table.astype({"run": str, "split": str, "metric": str})
    return out.to_csv(index=False, na_rep="nan").encode("utf-8")


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, na_rep="nan").encode("utf-8")


def run_chart_csv(run: str, table: pd.DataFrame, weight: float) -> bytes:
    """The Run page's main chart as data: every curve at full resolution (before thinning).

    Long format, one row per point: ``run, curve, step, value``; ``curve`` is the legend's name
    (``train loss``, ``train loss (smoothed 0.6)``, ``val mIoU``, ``lr``). Non-finite values are
    kept (``nan``, ``inf``), as the chart marks them.
    """
    parts = []
    loss_s, loss_v = metric_series(table, LOSS, "train")
    curves = [("train loss", loss_s, loss_v)]
    if weight > 0 and len(loss_v):
        curves.append((f"train loss (smoothed {weight:g})", loss_s, ema(loss_v, weight)))
    curves += [("val mIoU", *metric_series(table, MIOU, "val"))]
    curves += [("lr", *metric_series(table, LR, "train"))]
    for name, steps, values in curves:
        if len(steps):
            parts.append(
                pd.DataFrame(
                    {"run": run, "curve": name, "step": steps.astype(np.int64), "value": values}
                )
            )
    columns = ["run", "curve", "step", "value"]
    return _csv(pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns))


def compare_csv(rows: Sequence[tuple[str, pd.DataFrame, int | None]], weight: float) -> bytes:
    """The Compare page's chart as data: each run's val mIoU and smoothed train loss.

    Full resolution, long format: ``run, curve, step, fraction of plan, hours since start,
    value`` (the three x-axes the page aligns by; hours blank when the run logs no time).
    """
    parts = []
    for name, table, planned in rows:
        one = compare_series(name, table, planned, weight)
        loss_s, loss_v = metric_series(table, LOSS, "train")
        smooth = ema(loss_v, weight) if len(loss_v) and weight > 0 else loss_v
        miou = ("val mIoU", *metric_series(table, MIOU, "val"))
        for curve, steps, values in (miou, (f"train loss (smoothed {weight:g})", loss_s, smooth)):
            if not len(steps):
                continue
            hours = one.x(steps, "time") if one.clock is not None else np.full(len(steps), np.nan)
            parts.append(
                pd.DataFrame(
                    {
                        "run": name,
                        "curve": curve,
                        "step": steps.astype(np.int64),
                        "fraction of plan": one.x(steps, "fraction"),
                        "hours since start": hours,
                        "value": values,
                    }
                )
            )
    columns = ["run", "curve", "step", "fraction of plan", "hours since start", "value"]
    return _csv(pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns))
