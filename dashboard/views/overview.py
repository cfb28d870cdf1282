"""Runs overview: every run in one table, the runs that need attention first."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from dashboard import cache
from dashboard.figures.overview import STATUS_ORDER, filter_frame, overview_frame, with_age
from dashboard.views.common import (
    error_card,
    logdir,
    md,
    problem_card,
    refresh_seconds,
    show_bad_lines,
    sources,
)
from metrics.diagnosis import CHECK_ADVICE
from metrics.runs import RunSource

RUN_PAGE = "views/run.py"
MAX_CARDS = 12
COLUMNS = {
    "status": st.column_config.TextColumn("status", width="small"),
    "run": st.column_config.TextColumn("run"),
    "best mIoU": st.column_config.NumberColumn("best mIoU", format="%.4f"),
    "best @ step": st.column_config.NumberColumn("best @ step", format="%d"),
    "latest mIoU": st.column_config.NumberColumn("latest mIoU", format="%.4f"),
    "step": st.column_config.TextColumn("step / planned"),
    "done": st.column_config.ProgressColumn("done", min_value=0.0, max_value=1.0, format="percent"),
    "forecast @ end": st.column_config.TextColumn("forecast mIoU @ end (90%)"),
    "trend": st.column_config.LineChartColumn("mIoU trend", y_min=0.0, y_max=1.0),
    "updated": st.column_config.TextColumn("updated"),
    "top finding": st.column_config.TextColumn("top finding", width="large"),
    "first check": st.column_config.TextColumn("first check"),
}


def main() -> None:
    st.title("Runs")
    st.caption(f"Runs under {md(logdir())}")
    srcs = sources()
    if srcs is None:
        return
    if not srcs:
        st.warning(f"No training logs found under {md(logdir())}.")
        return
    period = refresh_seconds()
    left, right = st.columns([2, 3])
    text = left.text_input("Filter by name", key="q", bind="query-params") or ""
    statuses = right.pills(
        "Status",
        STATUS_ORDER,
        selection_mode="multi",
        key="status",
        bind="query-params",
    )
    st.fragment(run_every=period)(_live_table)(srcs, text, list(statuses or []))


def _live_table(srcs: Sequence[RunSource], text: str, statuses: Sequence[str]) -> None:
    """The part that refreshes itself: reads new lines of every run, redraws the table."""
    states = cache.run_states(srcs)
    rows = []
    for s in states:
        problem_card(s)
        if s.run is None:
            continue
        try:
            rows.append(with_age(cache.row(s), s.age(), s.is_live()))
        except Exception as exc:  # one run's failure never hides the others
            error_card(s.name, f"cannot summarise this run ({type(exc).__name__}: {exc})"[:400])
    frame = filter_frame(overview_frame(rows), text, statuses)
    st.caption(f"{len(frame)} of {len(rows)} runs · select a row to open the run")
    if frame.empty:
        st.info("No run matches the filter.")
        return
    event = st.dataframe(
        frame[list(COLUMNS)],
        hide_index=True,
        column_order=list(COLUMNS),
        column_config=COLUMNS,
        on_select="rerun",
        selection_mode="single-row",
        key="overview_table",
    )
    picked = event.selection.rows if event is not None else []
    if picked:
        _open(str(frame["run"].iloc[picked[0]]))
    _attention_cards(frame)
    show_bad_lines(states)


def _attention_cards(frame: pd.DataFrame) -> None:
    """The runs that need attention, with their top finding and the checks to try."""
    flagged = frame[frame["rank"] < STATUS_ORDER.index("no_eval")]  # converged/ok need nothing
    if flagged.empty:
        return
    st.subheader("Needs attention")
    for i, row in enumerate(flagged.head(MAX_CARDS).to_dict("records")):
        with st.container(border=True, key=f"attention-{i}"):
            head, button = st.columns([6, 1])
            head.markdown(f"**{md(row['status'])}** · {md(row['run'])}")
            if button.button("Open", key=f"open-{i}"):
                _open(str(row["run"]))
            if row["top finding"]:
                st.markdown(md(row["top finding"]))
            for check in row["checks"]:
                advice = CHECK_ADVICE.get(check, "")  # our own text: Markdown allowed
                st.markdown(f"- **Suggested check — {md(check)}:** {advice}")


def _open(name: str) -> None:
    st.switch_page(RUN_PAGE, query_params={"run": name})


main()
