"""Runs overview: every run in one table, the runs that need attention first.

Settled runs come from their summaries (``cache.overview_summaries``: no table is kept), live
runs from their followed tables. While a run is live or runs are being read the table redraws
itself every refresh period; otherwise only a stat-based check runs (``_watch``), and the page
is drawn again when it sees a change.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from dashboard import cache
from dashboard.figures.overview import (
    STATUS_ORDER,
    advice_once,
    filter_frame,
    overview_frame,
    with_age,
)
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
#: While no run is live only the idle check (``_watch``: stats, no run read) runs, this often:
#: a new run, or a run written again, shows within this time. Each check is a Streamlit rerun
#: (~50 ms of server CPU on its own on the 2-core bench machine), hence not every 5 s.
IDLE_CHECK_S = 10.0
#: While no run is live the idle check still redraws the page this often (ages, lifecycles).
IDLE_REDRAW_S = 300.0
MAX_LINES = 40  # attention lines; the rest are counted and reachable through the table
ROW_PX, MAX_TABLE_PX = 35, 750
# status, run and top finding come first and fit 1280 px without scrolling sideways
COLUMNS = {
    "status": st.column_config.TextColumn("status", width=120, pinned=True),
    "link": st.column_config.LinkColumn(
        "run", display_text=r"run\?run=(.*)$", width=260, pinned=True,
        help="Click a run's name twice to open it in a new tab (the first click selects it)",
    ),
    "top finding": st.column_config.TextColumn("top finding", width=330),
    "best mIoU": st.column_config.NumberColumn("best mIoU", format="%.4f", width=80),
    "latest mIoU": st.column_config.NumberColumn("latest mIoU", format="%.4f", width=80),
    "trend": st.column_config.LineChartColumn("mIoU trend", width=100),  # each run's own scale
    "step": st.column_config.TextColumn("step / planned", width=110),
    "updated": st.column_config.TextColumn("updated", width=110),
    "forecast @ end": st.column_config.TextColumn("forecast mIoU @ end (90%)"),
    "best @ step": st.column_config.NumberColumn("best @ step", format="%d"),
    "first check": st.column_config.TextColumn("first check"),
}  # fmt: skip


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
    text = (
        left.text_input(
            "Filter by name (regex)",
            key="q",
            bind="query-params",
            placeholder="e.g. cityscapes|voc",
        )
        or ""
    )
    statuses = right.pills(
        "Status",
        STATUS_ORDER,
        selection_mode="multi",
        key="status",
        bind="query-params",
    )
    # taken before any run is read: a change made while the page is drawn shows as a change
    signature = cache.runs_signature(logdir(), srcs)
    busy = cache.busy(srcs)
    every = period if busy else None
    st.fragment(run_every=every)(_live_table)(srcs, text, list(statuses or []), busy)
    if period is not None and not busy:
        st.fragment(run_every=max(period, IDLE_CHECK_S))(_watch)(
            logdir(), srcs, signature, time.time()
        )


def _watch(folder: str, srcs: Sequence[RunSource], signature: object, drawn: float) -> None:
    """The idle check (every ``IDLE_CHECK_S`` while no run is live): stats only. The page is
    drawn again when a folder or a run file changed (a new run, a run written again), and
    every ``IDLE_REDRAW_S`` so ages and lifecycles stay current."""
    if time.time() - drawn > IDLE_REDRAW_S or cache.runs_signature(folder, srcs) != signature:
        st.rerun()


def _live_table(srcs: Sequence[RunSource], text: str, statuses: Sequence[str], busy: bool) -> None:
    """The table: live runs from their followed tables (new lines read in), settled runs
    from their summaries. Redraws itself while ``busy``; switches mode when that changes."""
    now = time.time()
    keys = [cache.file_keys(s) for s in srcs]
    live = [s for s, k in zip(srcs, keys, strict=True) if cache.keys_live(k, now)]
    settled = [s for s, k in zip(srcs, keys, strict=True) if not cache.keys_live(k, now)]
    states = cache.run_states(live)
    rows = []
    for s in states:
        problem_card(s)
        if s.run is None:
            continue
        try:
            rows.append(with_age(cache.row(s), s.age(), s.is_live()))
        except Exception as exc:  # one run's failure never hides the others
            error_card(s.name, f"cannot summarise this run ({type(exc).__name__}: {exc})"[:400])
    malformed = 0
    for m in cache.overview_summaries(settled, now):
        if m.error is not None:
            error_card(m.source.name, m.error)
            continue
        if m.row is None:
            continue
        entry = m.report.entry if m.report is not None else {}
        if entry.get("bad_lines"):
            malformed += 1
            if not entry.get("records"):
                bad = f"{entry['bad_lines']} malformed line(s), nothing readable"
                error_card(m.source.name, bad)
        rows.append(with_age(m.row, m.age(now), False))
    pending = cache.SUMMARIES.pending
    if busy != (pending > 0 or bool(live)):
        st.rerun()  # a run became live or settled, or the reading finished: change mode
    frame = filter_frame(overview_frame(rows), text, statuses)
    reading = f" · reading {pending} run(s)…" if pending else ""
    st.caption(
        f"{len(frame)} of {len(rows)} runs{reading} · tick a row to open its run, or click a "
        "run's name twice to open it in a new tab"
    )
    if frame.empty:
        st.info("No run matches the filter.")
        return
    event = st.dataframe(
        frame[["run", *COLUMNS]],
        hide_index=True,
        height=min(ROW_PX * (len(frame) + 1) + 3, MAX_TABLE_PX),  # every run: scroll past 20
        placeholder="—",  # no eval yet: a dash, not "None"
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
    if malformed:
        st.caption(f"{malformed} settled run(s) skipped malformed lines: open a run to see them.")


def _attention_cards(frame: pd.DataFrame) -> None:
    """One line per run that needs attention; the advice of each suggested check once, folded."""
    flagged = frame[frame["rank"] < STATUS_ORDER.index("no_eval")]  # converged/ok need nothing
    if flagged.empty:
        return
    st.subheader(f"Needs attention ({len(flagged)})")
    records = flagged.to_dict("records")
    for i, row in enumerate(records[:MAX_LINES]):
        with st.container(key=f"attention-{i}"):
            name, finding = st.columns([3, 5], vertical_alignment="center", gap="small")
            label = f"{md(row['status'])} · {md(row['run'])}"
            if name.button(label, key=f"open-{i}", type="tertiary", help="Open this run"):
                _open(str(row["run"]))
            if row["top finding"]:
                finding.caption(md(_short(str(row["top finding"]))))
    if len(records) > MAX_LINES:
        st.caption(
            f"… and {len(records) - MAX_LINES} more: filter the table above by status to see them."
        )
    checks = advice_once(r["checks"] for r in records)
    if checks:
        with st.expander(f"Suggested checks ({len(checks)})"):
            for check in checks:
                advice = CHECK_ADVICE.get(check, "")  # our own text: Markdown allowed
                st.markdown(f"- **{md(check)}:** {advice}")


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _open(name: str) -> None:
    st.switch_page(RUN_PAGE, query_params={"run": name})


main()
