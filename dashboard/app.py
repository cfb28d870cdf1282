"""The Streamlit dashboard (started by ``segwatch serve``): runs overview and a run's curves."""

from __future__ import annotations

import argparse
import sys

import pandas as pd
import streamlit as st

from dashboard.figures import loss_miou_figure
from metrics.errors import MetricsError
from metrics.runs import discover_runs, load_run
from metrics.summary import summarize


def _logdir() -> str:
    parser = argparse.ArgumentParser()
    parser.add_argument("--logdir", default="sample_logs")
    args, _ = parser.parse_known_args(sys.argv[1:])
    return str(args.logdir)


def main() -> None:
    st.set_page_config(page_title="segwatch", layout="wide")
    st.title("segwatch")
    logdir = _logdir()
    st.caption(f"Runs under {logdir}")
    try:
        sources = discover_runs(logdir)
    except MetricsError as exc:
        st.error(str(exc))
        return
    rows, runs = [], {}
    for source in sources:
        try:
            run = load_run(source)
        except MetricsError as exc:
            st.error(f"{source.name}: {exc}")
            continue
        runs[run.name] = run
        rows.append(summarize(run.table, run.name, run.path, run.format).to_dict())
    if not rows:
        st.warning("No training logs found.")
        return
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    name = st.selectbox("Run", sorted(runs))
    if name:
        st.plotly_chart(loss_miou_figure(runs[name].table, name), width="stretch")


main()
