"""Compare runs: mIoU and smoothed loss overlaid, by step or by fraction of planned iterations."""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dashboard import cache
from dashboard.figures.changes import what_changed
from dashboard.figures.compare import (
    X_TITLES,
    compare_figure,
    compare_series,
    compare_table,
    run_colors,
)
from dashboard.figures.export import compare_csv
from dashboard.figures.overview import name_matches
from dashboard.figures.run import LOSS_AXIS_LABELS, PLOT_CONFIG
from dashboard.views.common import (
    error_card,
    md,
    problem_card,
    refresh_seconds,
    sources,
    url_slider,
)
from metrics.runs import RunSource

# plain option labels: a widget bound to the URL writes its displayed label there
ALIGN = tuple(X_TITLES)
MAX_RUNS = 20
DEFAULT_SMOOTHING = 0.6


def main() -> None:
    st.title("Compare runs")
    srcs = sources()
    if srcs is None:
        return
    by_name = {s.name: s for s in srcs}
    colors = run_colors(list(by_name))  # fixed per run, whatever is selected
    period = refresh_seconds()
    pattern = st.text_input(
        "Runs matching (regex)", key="q", bind="query-params", placeholder="cityscapes|voc",
        help="Compare every run whose name matches; leave empty to pick runs below.",
    )  # fmt: skip
    if pattern:
        mask = name_matches(pd.Series(list(by_name)), pattern)
        names = [n for n, keep in zip(by_name, mask, strict=True) if keep][:MAX_RUNS]
        st.caption(
            f"{len(names)} run(s) match"
            + (f" (first {MAX_RUNS})" if len(names) == MAX_RUNS else "")
        )
    else:
        names = st.multiselect(
            "Runs", list(by_name), default=_recent(srcs), key="runs", bind="query-params"
        )
    left, mid, right = st.columns(3)
    align = left.radio(
        "Align by step, fraction of the plan or time since start", ALIGN, horizontal=True,
        key="align", bind="query-params",
    )  # fmt: skip
    loss_label = mid.radio(
        "Loss axis", list(LOSS_AXIS_LABELS.values()), horizontal=True, key="loss_axis",
        bind="query-params",
    )  # fmt: skip
    loss_axis = next((k for k, v in LOSS_AXIS_LABELS.items() if v == loss_label), "all")
    weight = url_slider(right, "Loss smoothing", "smoothing", DEFAULT_SMOOTHING, page="compare")
    if not names:
        st.info("Pick runs to compare.")
        return
    picked = [by_name[n] for n in names if n in by_name]
    view = View(str(align or "step"), float(weight), str(loss_axis or "all"), colors)
    st.fragment(run_every=period)(_live_compare)(picked, view)


@dataclass(frozen=True)
class View:
    """The compare page's choices."""

    align: str
    weight: float
    loss_axis: str
    colors: dict[str, str]


def _recent(srcs: Sequence[RunSource], n: int = 3) -> list[str]:
    """The runs whose logs were written last (a fresh page shows what is happening now)."""

    def mtime(s: RunSource) -> float:
        try:
            return max(os.path.getmtime(f.path) for f in s.files)
        except (OSError, ValueError):
            return 0.0

    return [s.name for s in sorted(srcs, key=mtime, reverse=True)[:n]]


def _live_compare(picked: Sequence[RunSource], view: View) -> None:
    series, rows = [], []
    for source in picked:
        state = cache.run_state(source)
        problem_card(state)
        if state.run is None:
            continue
        try:
            planned = cache.planned_steps(state.run)
            one = compare_series(state.run.name, state.run.table, planned, view.weight)
        except Exception as exc:  # one run's failure never hides the others
            error_card(state.name, f"cannot compare this run ({type(exc).__name__}: {exc})"[:400])
            continue
        series.append(one)
        rows.append((state.run.name, state.run.table, planned))
    if not series:
        return
    unplanned = [s.run for s in series if not s.planned]
    if view.align == "fraction" and unplanned:
        st.caption(
            "No planned length in the log of: "
            + ", ".join(md(n) for n in unplanned)
            + " — their last logged step stands for 100 %."
        )
    fig = compare_figure(
        series,
        view.align,
        colors=view.colors,
        loss_axis=view.loss_axis,  # type: ignore[arg-type]
    )
    st.plotly_chart(fig, width="stretch", config=PLOT_CONFIG, key="compare_plot")
    st.download_button(
        "CSV", data=functools.partial(compare_csv, rows, view.weight),
        file_name="compare-chart.csv", mime="text/csv", key="csv-compare-chart",
        icon=":material/download:", type="tertiary",
        help="Each run's val mIoU and smoothed train loss at full resolution, with the step, "
        "the fraction of its plan and the hours since its start",
    )  # fmt: skip
    st.dataframe(
        compare_table(rows),
        hide_index=True,
        placeholder="—",
        column_config={
            "best mIoU": st.column_config.NumberColumn(format="%.4f"),
            "final mIoU": st.column_config.NumberColumn(format="%.4f"),
            "min train loss": st.column_config.NumberColumn(format="%.4f"),
            "final train loss": st.column_config.NumberColumn(format="%.4f"),
        },
    )
    _what_changed(picked)


def _what_changed(picked: Sequence[RunSource]) -> None:
    """Config keys that differ across every picked run; keys only one run logged set apart."""
    if len(picked) < 2:
        return
    facts = {s.name: cache.run_facts(s) for s in picked}
    configs = {name: (f.config if f is not None else None) for name, f in facts.items()}
    shared, single = what_changed(configs)
    with st.expander(
        f"What changed across these {len(picked)} runs ({len(shared)} keys)", expanded=True
    ):
        if shared.empty:
            st.caption("No config key differs between the runs that logged it.")
        else:
            st.dataframe(shared, hide_index=True, key="changed")
        if not single.empty:
            st.caption(
                f"{len(single)} key(s) that only some of the runs log, the same wherever logged "
                "(usually one framework's own settings):"
            )
            st.dataframe(single, hide_index=True, key="changed_single")
        for name, f in facts.items():
            if f is None or not f.config:
                st.caption(f"{md(name)} logged no config segwatch can read.")
            if f is not None and f.unavailable:
                st.warning(f"Facts unavailable: {md(f.unavailable)}", icon="⚠️")


main()
