"""Compare runs: mIoU and smoothed loss overlaid, by step or by fraction of planned iterations."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from dashboard import cache
from dashboard.figures.compare import compare_figure, compare_series, compare_table, diff_rows
from dashboard.figures.run import PLOT_CONFIG
from dashboard.views.common import error_card, md, problem_card, refresh_seconds, sources
from metrics.runs import RunSource
from metrics.runs.diff import diff_runs

# plain option labels: a widget bound to the URL writes its displayed label there
ALIGN = ("step", "fraction")


def main() -> None:
    st.title("Compare runs")
    srcs = sources()
    if srcs is None:
        return
    by_name = {s.name: s for s in srcs}
    period = refresh_seconds()
    names = st.multiselect(
        "Runs", list(by_name), default=list(by_name)[:3], key="runs", bind="query-params"
    )
    left, right = st.columns(2)
    align = left.radio(
        "Align by training step or by fraction of planned iterations", ALIGN,
        horizontal=True, key="align", bind="query-params",
    )  # fmt: skip
    weight = right.slider(
        "Loss smoothing", 0.0, 0.99, 0.6, 0.01, key="smoothing", bind="query-params"
    )
    if not names:
        st.info("Pick runs to compare.")
        return
    picked = [by_name[n] for n in names if n in by_name]
    st.fragment(run_every=period)(_live_compare)(picked, str(align), float(weight))


def _live_compare(picked: Sequence[RunSource], align: str, weight: float) -> None:
    series, rows = [], []
    for source in picked:
        state = cache.run_state(source)
        problem_card(state)
        if state.run is None:
            continue
        try:
            planned = cache.planned_steps(state.run)
            one = compare_series(state.run.name, state.run.table, planned, weight)
        except Exception as exc:  # one run's failure never hides the others
            error_card(state.name, f"cannot compare this run ({type(exc).__name__}: {exc})"[:400])
            continue
        series.append(one)
        rows.append((state.run.name, state.run.table, planned))
    if not series:
        return
    unplanned = [s.run for s in series if not s.planned]
    if align == "fraction" and unplanned:
        st.caption(
            "No planned length in the log of: "
            + ", ".join(md(n) for n in unplanned)
            + " — their last logged step stands for 100 %."
        )
    _what_changed(picked)
    fig = compare_figure(series, "fraction" if align == "fraction" else "step")
    st.plotly_chart(fig, width="stretch", config=PLOT_CONFIG, key="compare_plot")
    st.dataframe(
        compare_table(rows),
        hide_index=True,
        column_config={
            "best mIoU": st.column_config.NumberColumn(format="%.4f"),
            "final mIoU": st.column_config.NumberColumn(format="%.4f"),
            "min train loss": st.column_config.NumberColumn(format="%.4f"),
            "final train loss": st.column_config.NumberColumn(format="%.4f"),
        },
    )


def _what_changed(picked: Sequence[RunSource]) -> None:
    """The first two picked runs: config keys that differ, best mIoU and when each got there."""
    if len(picked) < 2:
        return
    a, b = cache.run_state(picked[0]), cache.run_state(picked[1])
    facts_a, facts_b = cache.run_facts(picked[0]), cache.run_facts(picked[1])
    if a.run is None or b.run is None or facts_a is None or facts_b is None:
        return
    try:
        diff = diff_runs(a.run, facts_a, b.run, facts_b)
    except Exception as exc:  # the overlay below still shows
        error_card("what changed", f"{type(exc).__name__}: {exc}"[:400])
        return
    with st.expander(f"What changed: {md(a.run.name)} → {md(b.run.name)}", expanded=True):
        st.dataframe(diff_rows(diff), hide_index=True)
        for why in diff.unavailable:
            st.warning(f"Facts unavailable: {md(why)}", icon="⚠️")
        if not diff.compared:
            st.caption("One of the two runs logged no config, so only the results are compared.")


main()
