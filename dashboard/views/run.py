"""One run: loss and mIoU on one figure, lr beneath, trajectory, per-class IoU, findings."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import cache
from dashboard.data_commands import DATA_FINDINGS, data_commands
from dashboard.figures.all_metrics import class_figure, metric_figure, metric_groups
from dashboard.figures.evidence import evidence_rows
from dashboard.figures.export import report_html, run_chart_csv, table_csv
from dashboard.figures.overview import fact_rows
from dashboard.figures.prepare import RunPlot, class_iou, prepare_run, trajectory
from dashboard.figures.run import (
    LOSS_AXIS_LABELS,
    PLOT_CONFIG,
    X_LABELS,
    class_heatmap_figure,
    run_figure,
    trajectory_figure,
)
from dashboard.views.common import (
    badge,
    error_card,
    live_marker,
    md,
    problem_card,
    refresh_seconds,
    refuse_unknown_run,
    show_bad_lines,
    sources,
    url_slider,
)
from metrics.diagnosis import CHECK_ADVICE, Finding, RunDiagnosis
from metrics.facts import RunFacts, export_advice
from metrics.runs import RunSource
from metrics.runs.live import RunState

SMOOTHING_HELP = (
    "TensorBoard's exponential moving average of the training loss (same weight, same result). "
    "The sparse validation mIoU is never smoothed."
)
DEFAULT_SMOOTHING = 0.6
DATA_URL = "data"  # the Data page, relative to this page's address


def main() -> None:
    srcs = sources()
    if srcs is None:
        return
    if not srcs:
        st.warning("No training logs found.")
        return
    by_name = {s.name: s for s in srcs}
    period = refresh_seconds()
    refuse_unknown_run(by_name)
    name = _pick_run(list(by_name))
    with st.sidebar:
        weight = url_slider(
            st, "Smoothing", "smoothing", DEFAULT_SMOOTHING, page="run", help=SMOOTHING_HELP
        )
        axes = _axes()
    if name is None:
        return
    st.fragment(run_every=period)(_live_run)(by_name[name], float(weight), axes)


def _pick_run(names: list[str]) -> str | None:
    """The run named in the URL (else the first), always written back as ``run=…``.

    Not bound to the URL: a bound widget leaves its default value out of the address, so a
    link to the first run would say only ``/run`` and later open another run.
    """
    asked = st.query_params.get("run")
    if asked in names and st.session_state.get("_run_in_url") != asked:
        st.session_state["run"] = asked  # the URL changed from outside: a link, Back
    name = st.selectbox("Run", names, key="run")
    st.session_state["_run_in_url"] = name
    if name is not None and st.query_params.get("run") != name:
        st.query_params["run"] = name
    return name


def _axes() -> dict[str, object]:
    """The chart's axis choices (each bound to the URL), as ``run_figure`` keywords."""
    x = st.radio("x-axis", list(X_LABELS.values()), key="x", bind="query-params")
    loss = st.radio(
        "Loss axis", list(LOSS_AXIS_LABELS.values()), key="loss_axis", bind="query-params",
        help="All points shows the start of training; ignore outliers fits the axis to the "
        "5th–95th percentile of the loss.",
    )  # fmt: skip
    full = st.toggle("mIoU axis from 0 to 1", key="miou_full", bind="query-params")
    lr_log = st.toggle("Log-scale lr", key="lr_log", bind="query-params")
    return {
        "loss_axis": _key(LOSS_AXIS_LABELS, loss, "all"),
        "miou_full": full,
        "lr_log": lr_log,
        "x": _key(X_LABELS, x, "step"),
    }


def _key(labels: Mapping[str, str], label: object, default: str) -> str:
    return next((k for k, v in labels.items() if v == label), default)


def _live_run(source: RunSource, weight: float, axes: dict[str, object]) -> None:
    """The self-refreshing part: new lines read in, figures redrawn (zoom kept by uirevision)."""
    state = cache.run_state(source)
    problem_card(state)
    if state.run is None:
        return
    try:
        _show_run(state, source, weight, axes)
    except Exception as exc:  # a message naming the run, never a traceback
        error_card(state.name, f"cannot show this run ({type(exc).__name__}: {exc})"[:400])


def _show_run(state: RunState, source: RunSource, weight: float, axes: dict[str, object]) -> None:
    assert state.run is not None
    run = state.run
    diag = cache.diagnosis(state)
    plot = cache.run_plot(state, weight)
    planned = cache.planned_steps(run)
    last = int(run.table["step"].max()) if len(run.table) else None
    st.subheader(md(run.name))
    marker = live_marker(state, diag.status, last, planned)
    st.markdown(f"**{md(badge(diag.status))}** · {md(marker)}")
    st.caption(_findings_line(diag))  # the diagnosis in words before the chart is drawn
    _headline(plot, last, planned)
    fig = run_figure(plot, **axes)  # type: ignore[arg-type]
    st.plotly_chart(fig, width="stretch", config=PLOT_CONFIG, key="run_plot")
    note, csv = st.columns([12, 1], vertical_alignment="center")
    note.caption(_points_caption(plot))
    csv.download_button(
        "CSV", data=functools.partial(run_chart_csv, run.name, run.table, weight),
        file_name=f"{_slug(run.name)}-chart.csv", mime="text/csv", key="csv-run-chart",
        icon=":material/download:", type="tertiary",
        help="This chart's curves at full resolution (before thinning), one row per point",
    )  # fmt: skip
    if axes.get("x") != "step" and plot.clock is None:
        st.caption("This run's logs carry no wall time, so it is drawn by step.")
    tabs = st.tabs(list(TABS), key="tab", on_change="rerun", bind="query-params")
    for label, tab in zip(TABS, tabs, strict=True):
        if tab.open:  # only the open tab is built and sent: a page of 13 charts took seconds
            with tab:
                TABS[label](state, source, diag, plot)


def _findings_tab(state: RunState, source: RunSource, diag: RunDiagnosis, _p: RunPlot) -> None:
    st.caption(f"{len(diag.findings)} finding(s)")
    _findings(diag, source)
    show_bad_lines([state])


def _metrics_tab(state: RunState, _s: RunSource, _d: RunDiagnosis, _p: RunPlot) -> None:
    assert state.run is not None
    _all_metrics(state.run.table, state.run.meta)


def _trajectory_tab(state: RunState, _s: RunSource, diag: RunDiagnosis, _p: RunPlot) -> None:
    assert state.run is not None
    frame = trajectory(state.run.table)
    if frame.empty:
        st.info("Needs validation mIoU and training loss.")
        return
    st.plotly_chart(
        trajectory_figure(frame, diag.status, state.run.name),
        width="stretch", config=PLOT_CONFIG, key="trajectory_plot",
    )  # fmt: skip


def _classes_tab(state: RunState, _s: RunSource, _d: RunDiagnosis, _p: RunPlot) -> None:
    assert state.run is not None
    wide = class_iou(state.run.table, state.run.meta)
    if wide.empty:
        st.info("This run's logs hold no per-class IoU.")
        return
    st.plotly_chart(
        class_heatmap_figure(wide, state.run.name),
        width="stretch", config=PLOT_CONFIG, key="class_plot",
    )  # fmt: skip


def _facts_tab(_st: RunState, source: RunSource, _d: RunDiagnosis, _p: RunPlot) -> None:
    _facts(cache.run_facts(source))


def _export_tab(state: RunState, _s: RunSource, diag: RunDiagnosis, plot: RunPlot) -> None:
    _export(state, diag, plot)


TabFn = Callable[[RunState, RunSource, RunDiagnosis, RunPlot], None]
# labels are the URL's tab= values: keep them stable (no counts in them)
TABS: dict[str, TabFn] = {
    "Findings": _findings_tab,
    "All metrics": _metrics_tab,
    "Loss vs mIoU": _trajectory_tab,
    "Per-class IoU": _classes_tab,
    "Run facts": _facts_tab,
    "Export": _export_tab,
}


def _all_metrics(table: pd.DataFrame, meta: Mapping[str, Any]) -> None:
    """A small chart for every metric the run logged, train and val apart, per class folded."""
    groups = metric_groups(table)
    if not groups:
        st.info("This run logged no metrics yet.")
        return
    for g in groups:
        st.markdown(f"**{md(g.split)}** · {len(g.scalars)} metric(s)")
        cols = st.columns(3)
        for i, metric in enumerate(g.scalars):
            with cols[i % 3]:
                st.plotly_chart(
                    metric_figure(table, g.split, metric), width="stretch", config=PLOT_CONFIG,
                    key=f"metric-{g.split}-{metric}",
                )  # fmt: skip
                _download(table, g.split, metric)
        for prefix in g.per_class:
            n = table["metric"].astype(str).str.startswith(prefix) & (table["split"] == g.split)
            count = table.loc[n, "metric"].nunique()
            with st.expander(f"{md(g.split)} · per-class {md(prefix)} ({count} classes)"):
                st.plotly_chart(
                    class_figure(table, g.split, prefix), width="stretch", config=PLOT_CONFIG,
                    key=f"class-{g.split}-{prefix}",
                )  # fmt: skip


def _download(table: pd.DataFrame, split: str, metric: str) -> None:
    rows = table[(table["split"] == split) & (table["metric"] == metric)]
    slug = "".join(ch if ch.isalnum() else "_" for ch in f"{split}_{metric}")[:60]
    st.download_button(
        "CSV", data=functools.partial(table_csv, rows), file_name=f"{slug}.csv",
        mime="text/csv", key=f"csv-{split}-{metric}", icon=":material/download:",
        type="tertiary",
    )  # fmt: skip


def _facts(facts: RunFacts | None) -> None:
    """What the logged config says, and the export advice that follows from it."""
    if facts is not None and facts.unavailable:
        st.warning(f"Facts unavailable: {md(facts.unavailable)}", icon="⚠️")
    rows = fact_rows(facts)
    if not rows:
        st.info("This run's logs print no training config segwatch can read.")
        return
    if facts is not None and facts.source:
        st.caption(f"From {md(facts.source)}")
    st.dataframe(rows, hide_index=True, column_config={"fact": "fact", "value": "value"})
    for advice in export_advice(facts) if facts is not None else []:
        st.warning(md(advice))


def _headline(plot: RunPlot, last: int | None, planned: int | None) -> None:
    best, latest, step, fc = st.columns(4)
    if plot.best is not None:
        best.metric("best mIoU", f"{plot.best[1]:.4f}", f"@ step {plot.best[0]:,}", "off")
    else:
        best.metric("best mIoU", "—")
    ys = plot.miou.raw.y if plot.miou is not None else np.empty(0)  # finite; last one kept
    latest.metric("latest mIoU", f"{ys[-1]:.4f}" if len(ys) else "—")
    of = f" / {planned:,}" if planned else ""
    step.metric("step", "—" if last is None else f"{last:,}{of}")
    if plot.forecast is not None:
        f = plot.forecast
        band = "" if math.isnan(f.low) else f"{f.level:.0%}: {f.low:.3f}–{f.high:.3f}"
        fc.metric(f"forecast @ {f.end_step:,}", f"{f.value:.4f}", band, "off")
    else:
        fc.metric("forecast @ end", "—", help="Needs ≥ 5 evals and a planned length in the log.")


def _points_caption(plot: RunPlot) -> str:
    parts = []
    for label, c in (("loss", plot.loss), ("mIoU", plot.miou), ("lr", plot.lr)):
        if c is not None:
            parts.append(f"{label}: {c.raw.shown:,} of {c.raw.total:,} points shown")
    return " · ".join(parts) + " (min/max-preserving downsampling after full-resolution smoothing)"


SEVERITY_ICON = {"critical": "🔴", "warning": "🟠"}  # else 🔵 (info)


def _findings_line(diag: RunDiagnosis) -> str:
    """One line naming every finding, worst first, above the chart (details in the tab)."""
    if not diag.findings:
        return "No findings: nothing looks wrong."
    order = {"critical": 0, "warning": 1}
    found = sorted(diag.findings, key=lambda f: order.get(f.severity, 2))
    names = " · ".join(f"{SEVERITY_ICON.get(f.severity, '🔵')} {md(f.code)}" for f in found)
    return f"{len(found)} finding(s): {names} — details under Findings below"


def _findings(diag: RunDiagnosis, source: RunSource) -> None:
    if not diag.findings:
        st.success("No findings: nothing looks wrong.")
        return
    for f in diag.findings:
        _finding(f, source)


def _finding(f: Finding, source: RunSource) -> None:
    icon = SEVERITY_ICON.get(f.severity, "🔵")
    with st.container(border=True):
        steps = f" · steps {f.steps[0]:,}–{f.steps[1]:,} (shaded on the plot)" if f.steps else ""
        st.markdown(f"{icon} **{md(f.code)}** · {md(f.severity)}{md(steps)}")
        st.markdown(md(f.message))
        for c in f.checks:
            st.markdown(f"- **Check {md(c)}:** {CHECK_ADVICE.get(c, '')}")
        if f.code in DATA_FINDINGS:
            _data_link(source)
        if f.evidence:
            with st.expander("Evidence"):
                st.markdown(_evidence_table(f.evidence))


def _evidence_table(evidence: Mapping[str, object]) -> str:
    """A finding's evidence as a Markdown table (st.table would load the Arrow front end, ~0.9 MB
    of JavaScript parsed while the first chart is drawn)."""
    rows = evidence_rows(evidence)
    cells = (f"| {_cell(r['evidence'])} | {_cell(r['value'])} |" for r in rows)
    return "\n".join(["| evidence | value |", "| --- | --- |", *cells])


def _cell(text: object) -> str:
    return md(" ".join(str(text).split()))  # one line; md() escapes "|" too


def _data_link(source: RunSource) -> None:
    """A link to this run on the Data page, and the commands that save its data check there."""
    href = f"{DATA_URL}?run={quote(source.name, safe='')}"  # only %XX, letters, digits, -_.~
    st.markdown(f"🔬 [Check the data: confusion matrix and label audit]({href})")
    st.code("\n".join(data_commands(source.path, cache.run_facts(source))), language="bash")


def _export(state: RunState, diag: RunDiagnosis, plot: RunPlot) -> None:
    assert state.run is not None
    run = state.run
    slug = _slug(run.name)
    weight = float(st.session_state.get("smoothing", 0.6))  # read now: the file is made later
    st.download_button(
        "Report (HTML, small: loads plotly.js from its CDN)",
        data=functools.partial(_report, state, diag, plot, weight, offline=False),
        file_name=f"{slug}-report.html",
        mime="text/html",
        key="export_html_small",
    )
    st.download_button(
        "Report (standalone HTML, works offline, ~5 MB)",
        data=functools.partial(_report, state, diag, plot, weight),
        file_name=f"{slug}-report-offline.html",
        mime="text/html",
        key="export_html",
    )
    st.download_button(
        "Tidy table (CSV)",
        data=functools.partial(table_csv, run.table),
        file_name=f"{slug}.csv",
        mime="text/csv",
        key="export_csv",
    )


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)[:80] or "run"


REPORT_POINTS = 600  # per trace: the report stays a few hundred kB beside plotly.js
REPORT_EVALS = 80  # heatmap columns


def _report(
    state: RunState, diag: RunDiagnosis, plot: RunPlot, weight: float, offline: bool = True
) -> str:
    """The standalone report: the page's figures, thinned further (a file to mail, not a tab)."""
    assert state.run is not None
    run = state.run
    planned = cache.planned_steps(run)
    small = prepare_run(
        run.name, run.table, diag, cache.forecast(state), planned, weight, REPORT_POINTS
    )
    figs = [run_figure(small, title=True, height=560)]
    frame = trajectory(run.table)
    if not frame.empty:
        figs.append(trajectory_figure(frame, diag.status, run.name))
    wide = class_iou(run.table, run.meta)
    if not wide.empty:
        figs.append(class_heatmap_figure(wide, run.name, max_cols=REPORT_EVALS))
    facts = {
        "path": run.path,
        "format": run.format,
        "records": len(run.table),
        "last step": int(run.table["step"].max()) if len(run.table) else "—",
        "planned steps": planned or "—",
        "best mIoU": f"{plot.best[1]:.4f} @ step {plot.best[0]}" if plot.best else "—",
    }
    return report_html(run.name, figs, diag, facts, offline=offline)


main()
