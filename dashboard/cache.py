"""Every cache of the dashboard, in one place, keyed on the run's files' (path, mtime_ns, size).

A cache keyed on the path alone would serve stale data while a run is written. Results are
kept with ``st.cache_resource`` (no copy on each hit: they are frozen dataclasses and frames
nobody mutates); the objects passed with a leading underscore are not hashed — the file key
stands for them. ``clear()`` empties everything (tests call it between apps).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import streamlit as st

from dashboard.figures.overview import RowInput, overview_row
from dashboard.figures.prepare import RunPlot, prepare_run, run_forecast
from dashboard.figures.prepare import metric_series as _series
from dashboard.server_args import diagnosis_config, reader_options, summary_cache_dir
from dashboard.summaries import overview_report, pending_row, summary_row
from metrics.diagnosis import (
    Clock,
    DiagnosisConfig,
    RunDiagnosis,
    RunSeries,
    diagnose,
    life_state,
)
from metrics.diagnosis.rules_process import stuck_process
from metrics.facts import RunFacts
from metrics.runs import Run, RunSource, discover_runs
from metrics.runs.cache import CacheError, SummaryCache, run_identity
from metrics.runs.live import LIVE_WITHIN_S, FileKey, LiveRun, RunState, file_key
from metrics.runs.parallel import default_workers
from metrics.runs.report import RunReport
from metrics.schema import MIOU
from metrics.stats.forecast import Forecast

DISCOVER_TTL_S = 10.0
#: A run whose diagnosis reports its silence (stuck, stopped early) is re-judged once a minute.
DIAGNOSIS_PERIOD_S = 60.0

Key = tuple[tuple[str, int, int], ...]


#: logdir -> (its folders' signature, when, options, the runs found)
_DISCOVERED: dict[str, tuple[tuple[object, ...], float, str, list[RunSource]]] = {}


def discover(logdir: str) -> list[RunSource]:
    """The runs below ``logdir``: found again as soon as a folder of it changed (a run or a
    file was added or removed), and at least every ``DISCOVER_TTL_S`` (a file that was empty
    when found may have become a log since). Callers must not modify the list."""
    options = _options_json(tuple(sys.argv), os.environ.get("SEGWATCH_LOGDIR"))
    folders = folders_signature(logdir)
    now = time.monotonic()
    with _LIVE_LOCK:
        hit = _DISCOVERED.get(logdir)
    fresh = hit is not None and now - hit[1] < DISCOVER_TTL_S
    if hit is not None and fresh and hit[0] == folders and hit[2] == options:
        return hit[3]
    db = _open_db(diagnosis_config())
    if db is not None and not _SNIFFS_LOADED:
        db.load_sniffs()  # the formats sniffed by an earlier server or check: not read again
        _SNIFFS_LOADED.append(True)
    found = discover_runs(logdir, json.loads(options))
    if db is not None:
        db.save_sniffs()
        db.close()
    with _LIVE_LOCK:
        _DISCOVERED[logdir] = (folders, now, options, found)
    return found


_SNIFFS_LOADED: list[bool] = []


def folders_signature(logdir: str) -> tuple[object, ...]:
    """Every folder below a local ``logdir`` with its mtime (hidden ones skipped, as discovery
    skips them): it changes when a file or folder is added, removed or renamed in any of them.
    Empty for a remote logdir or a single file (discovery then relies on its TTL)."""
    if "://" in logdir or not os.path.isdir(logdir):
        return ()
    out: list[object] = []
    stack = [logdir]
    while stack:
        folder = stack.pop()
        try:
            out.append((folder, os.stat(folder).st_mtime_ns))
            with os.scandir(folder) as it:
                for entry in it:
                    if not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
        except OSError:
            out.append((folder, -1))
    return tuple(out)


def runs_signature(logdir: str, sources: Sequence[RunSource]) -> tuple[object, ...]:
    """What the overview's idle check compares: the folders and every run file's
    (mtime, size). Unchanged, nothing the overview shows changed but the ages."""
    return (folders_signature(logdir), tuple(file_keys(s) for s in sources))


def _ident(source: RunSource) -> tuple[object, ...]:
    return (source.name, source.path, tuple((f.path, f.format, f.launch) for f in source.files))


#: The ``LiveRun`` (the tables) of each run opened on a page or live on the overview, by its
#: files and the reader options, most recent last. A plain dict, not ``st.cache_resource``:
#: looked up for every live run at every rerun, where hashing the key through Streamlit cost
#: more than the stats of an unchanged run. Bounded: settled runs are shown from summaries.
_LIVE: OrderedDict[tuple[object, ...], LiveRun] = OrderedDict()
_LIVE_MAX = 64
_CLOCKS_MAX = 2000
_LIVE_LOCK = threading.Lock()


#: (argv, $SEGWATCH_LOGDIR) -> (when, the reader options as JSON)
_OPTIONS: dict[tuple[tuple[str, ...], str | None], tuple[float, str]] = {}


def _options_json(argv: tuple[str, ...], logdir_env: str | None) -> str:
    """The reader options of ``serve``'s flags and settings file (read once per
    ``DISCOVER_TTL_S``, not once per run). A plain dict, not ``st.cache_data``: the server's
    warm-up (``prime``) calls this before Streamlit's runtime exists."""
    key, now = (argv, logdir_env), time.monotonic()
    with _LIVE_LOCK:
        hit = _OPTIONS.get(key)
    if hit is not None and now - hit[0] < DISCOVER_TTL_S:
        return hit[1]
    found = json.dumps(reader_options(), sort_keys=True)
    with _LIVE_LOCK:
        if len(_OPTIONS) >= 4:
            _OPTIONS.clear()
        _OPTIONS[key] = (now, found)
    return found


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
            while len(_CLOCKS) > _CLOCKS_MAX:
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
        _DISCOVERED.clear()
        _OPTIONS.clear()
        _SNIFFS_LOADED.clear()
    SUMMARIES.reset()


@st.cache_resource(max_entries=2000, show_spinner=False)
def _row(key: Key, when: tuple[object, ...], _state: RunState) -> dict[str, object]:
    assert _state.run is not None
    run = _state.run
    r = RowInput(run.name, run.table, planned_steps(run), diagnosis(_state), forecast(_state))
    return overview_row(r)


def row(state: RunState) -> dict[str, object]:
    """The run's overview row without its age columns (see ``overview_table.with_age``)."""
    return _row(state.key, time_key(state), state)


# --- the overview's summaries ---------------------------------------------------------------

#: Runs read in the page's own process when at most this many need reading; more are read by
#: worker processes in the background while the page shows the rows it has.
INLINE_MAX = 24
#: How long a page waits for the worker processes before drawing what it has (first load),
#: when they have at most ``WAIT_MAX`` runs to read (more could not be read in that time).
FIRST_WAIT_S = 2.0
WAIT_MAX = 100
#: Niceness added to the reading workers: pages (and the browser beside them) stay responsive.
WORKER_NICE = 10


@dataclass
class Summary:
    """One run's overview row as of its files' ``keys``: from its report (a settled run),
    ``pending`` while a worker reads it, or ``error`` when it could not be read."""

    source: RunSource
    keys: tuple[FileKey, ...]
    row: dict[str, object] | None = None
    error: str | None = None
    report: RunReport | None = None
    pending: bool = False
    bucket: int = 0  # the minute of a time finding's silence (0: none)

    @property
    def updated(self) -> float | None:
        times = [k[1] / 1e9 for k in self.keys if k[1] >= 0]
        return max(times) if times else None

    def age(self, now: float | None = None) -> float | None:
        u = self.updated
        return None if u is None else max(0.0, (time.time() if now is None else now) - u)

    def is_live(self, now: float | None = None) -> bool:
        a = self.age(now)
        return a is not None and a < LIVE_WITHIN_S


def file_keys(source: RunSource) -> tuple[FileKey, ...]:
    """``file_key`` of each file of the run (a plain ``os.stat`` for a local path)."""
    return tuple(
        _local_key(f.path) if "://" not in f.path else file_key(f.path) for f in source.files
    )


def _local_key(path: str) -> FileKey:
    try:
        st = os.stat(path)
    except OSError:
        return (path, -1, -1)
    return (path, st.st_mtime_ns, st.st_size)


class Summaries:
    """The overview rows of settled runs, made from summaries (never from kept tables).

    A row is reused while the run's files keep their (mtime, size) and its lifecycle state
    (judged at the current time from the stored ``Clock``) holds; otherwise the SQLite summary
    cache (``metrics.runs.cache``, shared with ``segwatch check``) is asked, and only a run it
    does not know is read — in this process when few are, else by worker processes in the
    background, the page showing the others meanwhile. Nothing here keeps a table.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[tuple[object, ...], Summary] = {}
        self._futures: dict[tuple[object, ...], tuple[Future[RunReport], str | None]] = {}
        self._pool: ProcessPoolExecutor | None = None
        #: runs read (in process or by workers) since the start: tests count reads with it
        self.reads = 0

    def reset(self) -> None:
        with self._lock:
            self._rows.clear()
            for future, _ in self._futures.values():
                future.cancel()
            self._futures.clear()
            self.reads = 0

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._futures)

    def rows(self, sources: Sequence[RunSource], now: float | None = None) -> list[Summary]:
        """A ``Summary`` per settled run (``sources`` must all be settled: not live)."""
        now = time.time() if now is None else now
        cfg = diagnosis_config()
        options_json = _options_json(tuple(sys.argv), os.environ.get("SEGWATCH_LOGDIR"))
        options = json.loads(options_json)
        with self._lock:
            self._collect(cfg, options)
            out: list[Summary] = []
            misses: list[tuple[tuple[object, ...], Summary]] = []
            for source in sources:
                ident = (*_ident(source), options_json)
                keys = file_keys(source)
                known = self._rows.get(ident)
                if known is not None and known.keys == keys and self._still(known, cfg, now):
                    out.append(known)
                    continue
                if known is not None and known.keys == keys and known.pending:
                    out.append(known)
                    continue
                s = Summary(source, keys)
                misses.append((ident, s))
                out.append(s)
            submitted = self._fill(misses, cfg, options, now) if misses else []
        if 0 < len(submitted) <= WAIT_MAX:  # a moment for the workers: most rows drawn at once
            wait(submitted, timeout=FIRST_WAIT_S)
            with self._lock:
                self._collect(cfg, options)
        return out

    def _still(self, s: Summary, cfg: DiagnosisConfig, now: float) -> bool:
        """Whether a kept row still holds at ``now`` (errors hold while the files are unchanged)."""
        if s.report is None or s.report.clock is None:
            return s.error is not None
        life = s.report.clock.judge(cfg, now)
        if list(life_state(life)) != list(s.report.state or ()):
            return False
        return s.bucket == 0 or s.bucket == int(now // DIAGNOSIS_PERIOD_S)

    def _fill(
        self,
        misses: list[tuple[tuple[object, ...], Summary]],
        cfg: DiagnosisConfig,
        options: dict[str, object] | None,
        now: float,
    ) -> list[Future[RunReport]]:
        """Rows of changed or unknown runs: from the SQLite cache, else read (in process when
        few, else by workers: their futures are returned)."""
        db = _open_db(cfg, options)
        todo: list[tuple[tuple[object, ...], Summary, str | None]] = []
        for ident, s in misses:
            identity = run_identity(s.source)
            report = None
            if db is not None and identity is not None:
                report = db.get(s.source, options, identity, now)
            if report is not None and report.extra is not None:
                self._keep(ident, s, report, now)
            else:
                todo.append((ident, s, identity))
        submitted: list[Future[RunReport]] = []
        if len(todo) <= INLINE_MAX and not self._futures:
            fresh = []
            for ident, s, identity in todo:
                report = overview_report(s.source, options, cfg, now)
                self.reads += 1
                self._keep(ident, s, report, now)
                if identity is not None:
                    fresh.append((s.source, options, identity, report))
            if db is not None:
                db.put_many(fresh)
        else:
            pool = self._workers(todo)
            for ident, s, identity in todo:
                if ident in self._futures:
                    self._futures[ident][0].cancel()
                future = pool.submit(overview_report, s.source, options, cfg, now)
                self._futures[ident] = (future, identity)
                submitted.append(future)
                s.pending = True
                s.row = pending_row(s.source.name)
                self._rows[ident] = s
        if db is not None:
            db.close()
        return submitted

    def _workers(self, todo: Sequence[tuple[object, Summary, str | None]]) -> ProcessPoolExecutor:
        if self._pool is None:
            # never fork the server (its threads may hold locks): spawned workers import the
            # readers themselves, take the server's environment as it is now (credentials of
            # an object store), and exit once nothing is left to read
            # at a lower priority: the server answers its pages first, the reading takes the rest
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                max_workers=default_workers(),
                mp_context=context,
                initializer=os.nice,
                initargs=(WORKER_NICE,),
            )
        return self._pool

    def _collect(self, cfg: DiagnosisConfig, options: dict[str, object] | None) -> None:
        """Take in what the workers finished (and store it in the SQLite cache)."""
        done = [(i, f, ident) for i, (f, ident) in self._futures.items() if f.done()]
        if not done:
            return
        fresh = []
        now = time.time()
        for ident, future, identity in done:
            del self._futures[ident]
            s = self._rows.get(ident)
            if s is None or future.cancelled():
                continue
            try:
                report = future.result()
            except Exception as exc:  # a worker that died costs its runs only
                report = RunReport({"run": s.source.name, "error": f"{type(exc).__name__}: {exc}"})
                if isinstance(exc, BrokenProcessPool):
                    self._pool = None  # a new pool for the next runs to read
            self.reads += 1
            s.pending = False
            self._keep(ident, s, report, now)
            if identity is not None:
                fresh.append((s.source, options, identity, report))
        db = _open_db(cfg, options)
        if db is not None:
            db.put_many(fresh)
            db.close()
        if not self._futures and self._pool is not None:
            self._pool.shutdown(wait=False)  # idle workers give their memory back
            self._pool = None

    def _keep(self, ident: tuple[object, ...], s: Summary, report: RunReport, now: float) -> None:
        s.report = report
        if report.failed:
            s.error, s.row = str(report.entry.get("error")), None
        else:
            try:
                s.row = summary_row(report)
            except Exception as exc:  # one run's failure never hides the others
                s.error = f"cannot summarise this run ({type(exc).__name__}: {exc})"[:400]
                s.row = None
                self._rows[ident] = s
                return
            codes = {f.get("code") for f in report.entry.get("findings") or []}
            s.bucket = int(now // DIAGNOSIS_PERIOD_S) if codes & _TIME_FINDINGS else 0
        self._rows[ident] = s


_TIME_FINDINGS = {"stuck_process", "stopped_early"}


def _open_db(cfg: DiagnosisConfig, options: dict[str, object] | None = None) -> SummaryCache | None:
    """The summary cache ``segwatch check`` uses too (None when it cannot be opened)."""
    try:
        db = SummaryCache.open(summary_cache_dir(), cfg)
    except CacheError:
        return None
    return db


SUMMARIES = Summaries()


def overview_summaries(sources: Sequence[RunSource], now: float | None = None) -> list[Summary]:
    """Rows of settled runs from summaries (see ``Summaries``)."""
    return SUMMARIES.rows(sources, now)


def prime(logdir: str) -> None:
    """Warm the overview before its first tab opens: the runs found, and the settled runs'
    rows taken from the summary cache (or their reading started). ``segwatch serve`` runs this
    in a thread while Streamlit starts, so a first tab draws what a later one would."""
    try:
        now = time.time()
        srcs = discover(logdir)
        overview_summaries([s for s in srcs if not keys_live(file_keys(s), now)], now)
    except Exception:  # the page reports what failed here when it runs it again
        pass


def keys_live(keys: Sequence[FileKey], now: float | None = None) -> bool:
    """Whether a run with these file keys is live: a file changed within ``LIVE_WITHIN_S``."""
    times = [k[1] / 1e9 for k in keys if k[1] >= 0]
    return bool(times) and (time.time() if now is None else now) - max(times) < LIVE_WITHIN_S


def busy(sources: Sequence[RunSource], now: float | None = None) -> bool:
    """Whether the overview must redraw itself on a timer: a run is live or runs are still
    being read. Otherwise only its stat-based idle check runs (``runs_signature``)."""
    return SUMMARIES.pending > 0 or any(keys_live(file_keys(s), now) for s in sources)
