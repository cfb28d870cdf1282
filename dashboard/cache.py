"""Every cache of the dashboard, in one place, keyed on the run's files' (path, mtime_ns, size).

A cache keyed on the path alone would serve stale data while a run is written. Results are
kept with ``st.cache_resource`` (no copy on each hit: they are frozen dataclasses and frames
nobody mutates); the objects passed with a leading underscore are not hashed — the file key
stands for them. ``clear()`` empties everything (tests call it between apps).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence

import streamlit as st

from dashboard.figures.overview import RowInput, overview_row
from dashboard.figures.prepare import RunPlot, prepare_run, run_forecast
from dashboard.figures.prepare import metric_series as _series
from dashboard.server_args import diagnosis_config, reader_options
from metrics.diagnosis import (
    Clock,
    RunDiagnosis,
    RunSeries,
    diagnose,
    life_state,
)
from metrics.diagnosis.rules_process import stuck_process
from metrics.facts import RunFacts
from metrics.runs import Run, RunSource, discover_runs
from metrics.runs.live import LiveRun, RunState
from metrics.schema import MIOU
from metrics.stats.forecast import Forecast

DISCOVER_TTL_S = 10.0
#: A run whose diagnosis reports its silence (stuck, stopped early) is re-judged once a minute.
DIAGNOSIS_PERIOD_S = 60.0

Key = tuple[tuple[str, int, int], ...]


@st.cache_data(ttl=DISCOVER_TTL_S, show_spinner=False, max_entries=16)
def discover(logdir: str) -> list[RunSource]:
    """The runs below ``logdir`` (re-scanned every few seconds, so new runs appear)."""
    return discover_runs(logdir, reader_options())


def _ident(source: RunSource) -> tuple[object, ...]:
    return (source.name, source.path, tuple((f.path, f.format, f.launch) for f in source.files))


#: The ``LiveRun`` of each run (by its files and the reader options), most recent last. A plain
#: dict, not ``st.cache_resource``: looked up for every run at every rerun, where hashing the
#: key through Streamlit cost more than the stats of an unchanged run.
_LIVE: OrderedDict[tuple[object, ...], LiveRun] = OrderedDict()
_LIVE_MAX = 2000
_LIVE_LOCK = threading.Lock()


@st.cache_data(ttl=DISCOVER_TTL_S, show_spinner=False, max_entries=4)
def _options_json(argv: tuple[str, ...], logdir_env: str | None) -> str:
    """The reader options of ``serve``'s flags and settings file (read once per rerun window,
    not once per run)."""
    return json.dumps(reader_options(), sort_keys=True)


def live_run(source: RunSource) -> LiveRun:
    """The one ``LiveRun`` (its tailers) kept for this run across reruns and sessions."""
    options = _options_json(tuple(sys.argv), os.environ.get("SEGWATCH_LOGDIR"))
    key = (_ident(source), options)
    with _LIVE_LOCK:
        live = _LIVE.get(key)
        if live is not None:
            _LIVE.move_to_end(key)
            return live
        live = _LIVE[key] = LiveRun(source, json.loads(options))
        while len(_LIVE) > _LIVE_MAX:
            _LIVE.popitem(last=False)
        return live


def run_state(source: RunSource) -> RunState:
    """The run with whatever was appended since the last look read in."""
    return live_run(source).refresh()


def run_facts(source: RunSource) -> RunFacts | None:
    """The facts of the run's logged config (read with the run; None before its first read)."""
    return live_run(source).facts


def run_states(sources: Sequence[RunSource]) -> list[RunState]:
    return [run_state(s) for s in sources]


def _clock_bucket() -> int:
    return int(time.time() // DIAGNOSIS_PERIOD_S)


_CLOCKS: OrderedDict[Key, Clock] = OrderedDict()


def _clock(key: Key, run: Run) -> Clock:
    """The run's ``Clock`` for these files (a plain bounded dict: looked up at every rerun)."""
    with _LIVE_LOCK:
        clock = _CLOCKS.get(key)
    if clock is None:
        clock = Clock.of(RunSeries.from_table(run.table, run.meta, run.updated))
        with _LIVE_LOCK:
            _CLOCKS[key] = clock
            while len(_CLOCKS) > _LIVE_MAX:
                _CLOCKS.popitem(last=False)
    return clock


def time_key(state: RunState) -> tuple[object, ...]:
    """What the clock changes in a run's diagnosis, for the caches' keys.

    A diagnosis depends on the clock only through the run's lifecycle (``Clock.judge``: live,
    finished, no longer written) and the silence a ``stuck_process`` finding reports. So an
    unchanged run is diagnosed again only when its lifecycle state changes — and, while it
    has such a finding, once a minute — never merely because time passed (an idle dashboard
    does not re-diagnose 1,000 runs every minute).
    """
    assert state.run is not None
    cfg = diagnosis_config()
    clock = _clock(state.key, state.run)
    life = clock.judge(cfg)
    silent = bool(stuck_process(clock.series(life), cfg))
    return (life_state(life), _clock_bucket() if silent else 0)


@st.cache_resource(max_entries=2000, show_spinner=False)
def _diagnosis(key: Key, when: tuple[object, ...], _run: Run) -> RunDiagnosis:
    return diagnose(_run, diagnosis_config())  # the settings file's thresholds, as in check


def diagnosis(state: RunState) -> RunDiagnosis:
    """The run's diagnosis (``state.run`` must be set)."""
    assert state.run is not None
    return _diagnosis(state.key, time_key(state), state.run)


@st.cache_resource(max_entries=2000, show_spinner=False)
def _forecast(key: Key, _run: Run) -> Forecast | None:
    steps, values = _series(_run.table, MIOU, "val")
    return run_forecast(steps, values, planned_steps(_run))


def forecast(state: RunState) -> Forecast | None:
    """mIoU forecast at the planned last step, when the log names one."""
    assert state.run is not None
    return _forecast(state.key, state.run)


@st.cache_resource(max_entries=64, show_spinner=False)
def _run_plot(key: Key, weight: float, when: tuple[object, ...], _state: RunState) -> RunPlot:
    assert _state.run is not None
    run = _state.run
    return prepare_run(
        run.name, run.table, diagnosis(_state), forecast(_state), planned_steps(run), weight
    )


def run_plot(state: RunState, weight: float) -> RunPlot:
    """The run page's prepared curves for this smoothing weight."""
    return _run_plot(state.key, float(weight), time_key(state), state)


def planned_steps(run: Run) -> int | None:
    return run.meta.planned_steps or None


def clear() -> None:
    """Forget every cached result and every followed run."""
    st.cache_data.clear()
    st.cache_resource.clear()
    with _LIVE_LOCK:
        _LIVE.clear()
        _CLOCKS.clear()


@st.cache_resource(max_entries=2000, show_spinner=False)
def _row(key: Key, when: tuple[object, ...], _state: RunState) -> dict[str, object]:
    assert _state.run is not None
    run = _state.run
    r = RowInput(run.name, run.table, planned_steps(run), diagnosis(_state), forecast(_state))
    return overview_row(r)


def row(state: RunState) -> dict[str, object]:
    """The run's overview row without its age columns (see ``overview_table.with_age``)."""
    return _row(state.key, time_key(state), state)
