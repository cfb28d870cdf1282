"""The data behind a run: the saved ``segwatch eval`` and ``segwatch labels`` of its folder.

Reads only ``segwatch-eval.json`` / ``segwatch-labels.json`` inside a run folder found under
LOGDIR (the run is picked from a list, never typed as a path). Without them, shows the commands
that write them there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np
import streamlit as st

from dashboard import cache
from dashboard.data_commands import data_commands
from dashboard.figures.data import DEAD_IOU, confusion_figure, iou_bars_figure
from dashboard.figures.run import PLOT_CONFIG
from dashboard.views.common import error_card, md, refuse_unknown_run, sources
from metrics.errors import MetricsError
from metrics.masks.data_report import (
    EVAL_FILE,
    LABELS_FILE,
    SavedAudit,
    SavedEval,
    is_folder,
    load_audit,
    load_eval,
    report_path,
)
from metrics.runs import RunSource

T = TypeVar("T")
SHOWN_FILES = 5
SHOWN_PROBLEMS = 200


def main() -> None:
    st.title("Data")
    srcs = sources()
    if srcs is None:
        return
    if not srcs:
        st.warning("No training logs found.")
        return
    by_name = {s.name: s for s in srcs}
    refuse_unknown_run(by_name)
    name = st.selectbox("Run", list(by_name), key="run", bind="query-params")
    if name is None:
        return
    source = by_name[name]
    st.subheader(md(name))
    if not is_folder(source.path):
        st.info("The log folder is a single log file: serve its folder to see saved data checks.")
        return
    root = source.files[0].root if source.files else None
    saved_eval = _load(load_eval, source.path, EVAL_FILE, root)
    saved_audit = _load(load_audit, source.path, LABELS_FILE, root)
    if saved_eval is not None:
        _evaluation(saved_eval)
    if saved_audit is not None:
        _audit(saved_audit)
    if saved_eval is None or saved_audit is None:
        _how_to(source, saved_eval is None, saved_audit is None)


def _load(
    loader: Callable[[str, str | None], T], folder: str, name: str, root: str | None
) -> T | None:
    """A saved report of the run's folder (it must resolve inside LOGDIR), or None."""
    path = report_path(folder, name)
    if path is None:
        return None
    try:
        return loader(path, root)
    except MetricsError as exc:
        error_card(path, str(exc))
        return None


def _evaluation(saved: SavedEval) -> None:
    res = saved.result
    s = res.scores
    st.header("Evaluation", divider="gray")
    _provenance(saved.command, saved.created)
    cols = st.columns(5)
    for col, label, value in (
        (cols[0], "mIoU", s.miou),
        (cols[1], "aAcc", s.aacc),
        (cols[2], "mAcc", s.macc),
    ):
        col.metric(label, "—" if np.isnan(value) else f"{value:.4f}")
    cols[3].metric("images evaluated", f"{res.images:,}")
    cols[4].metric("files left out", f"{len(res.problems):,}")
    dead = [res.class_names[c] for c in range(res.num_classes) if s.iou[c] <= DEAD_IOU]
    if dead:
        st.warning(f"IoU ≤ {DEAD_IOU:g} (dead): {md(', '.join(dead))}")
    st.plotly_chart(
        iou_bars_figure(res.class_names, s.iou, s.miou),
        width="stretch", config=PLOT_CONFIG, key="iou_bars",
    )  # fmt: skip
    st.plotly_chart(
        confusion_figure(res.confusion, res.class_names),
        width="stretch", config=PLOT_CONFIG, key="confusion",
    )  # fmt: skip
    if res.problems:
        with st.expander(f"{len(res.problems)} file(s) left out of the evaluation", icon="⚠️"):
            for p in res.problems[:SHOWN_PROBLEMS]:
                st.text(f"{p.file}: [{p.code}] {p.message}")


def _audit(saved: SavedAudit) -> None:
    a = saved.audit
    st.header("Label audit", divider="gray")
    _provenance(saved.command, saved.created)
    modes = ", ".join(f"{m}: {n}" for m, n in a.modes.items())
    st.text(
        f"{a.files:,} masks ({modes}); {a.labelled_pixels:,} labelled pixels, "
        f"{a.ignored_pixels:,} ignored, {a.out_of_range_pixels:,} out of range"
    )
    if a.clean:
        st.success("No flags: the labels look clean.")
    for flag in a.flags:
        with st.container(border=True):
            st.markdown(f"🚩 **{md(flag.code)}**")
            st.markdown(md(flag.message))
            if flag.files:
                more = len(flag.files) - SHOWN_FILES
                extra = f" … and {more} more" if more > 0 else ""
                st.text("files: " + ", ".join(flag.files[:SHOWN_FILES]) + extra)
            st.markdown(f"**Fix:** {md(flag.fix)}")
    rows = [
        {"id": c.id, "class": c.name, "pixels": c.pixels, "share": c.share, "images": c.images}
        for c in a.classes
    ]
    st.dataframe(
        rows,
        hide_index=True,
        column_config={"share": st.column_config.NumberColumn("share", format="percent")},
    )


def _provenance(command: str, created: str) -> None:
    st.caption(f"Saved {md(created)} by:")
    st.code(command, language="bash", wrap_lines=True)


def _how_to(source: RunSource, no_eval: bool, no_audit: bool) -> None:
    """The commands that write the missing results into this run's folder."""
    cache.run_state(source)  # reads the run, and with it its logged config
    facts = cache.run_facts(source)
    missing = " or ".join(
        w for w, gone in (("evaluation", no_eval), ("label audit", no_audit)) if gone
    )
    st.info(f"This run's folder holds no saved {missing} yet. To save them there, run:", icon="💡")
    st.code("\n".join(data_commands(source.path, facts)), language="bash", wrap_lines=True)
    known = facts is not None and facts.num_classes
    st.caption(
        "PRED_DIR: the model's predicted masks (class ids, one PNG per image); GT_DIR: the "
        "ground-truth masks of the same images."
        + ("" if known else " N: the number of classes (this run's logs do not say it).")
    )


main()
