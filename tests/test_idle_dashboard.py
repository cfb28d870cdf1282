"""An idle dashboard costs nothing: unchanged runs are not read, sniffed or diagnosed again
just because time passed or the page reran."""

from __future__ import annotations

import math
import os
import shutil
import time
from pathlib import Path

import pytest

import dashboard.cache as cache
import metrics.runs.report as report_mod
from dashboard.figures.overview import PENDING
from metrics.readers.source import Source
from metrics.runs import discover_runs


@pytest.fixture()
def logdir(tmp_path: Path, sample_logs: Path) -> Path:
    dest = tmp_path / "logs"
    shutil.copytree(sample_logs / "paddleseg", dest)
    return dest


@pytest.fixture(autouse=True)
def _fresh() -> None:
    cache.clear()


def test_rediscovery_of_unchanged_files_reads_no_bytes(
    logdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = discover_runs(str(logdir))
    reads: list[str] = []
    real = Source.read_range
    monkeypatch.setattr(
        Source, "read_range", lambda self, *a, **k: reads.append(self.path) or real(self, *a, **k)
    )
    assert discover_runs(str(logdir)) == first
    assert reads == []
    grown = first[0].files[0].path
    with open(grown, "ab") as fh:
        fh.write(b"\n")
    assert discover_runs(str(logdir)) == first
    assert reads == [grown]  # only the changed file is sniffed again


def test_time_passing_does_not_rediagnose_settled_runs(
    logdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = cache.diagnose
    monkeypatch.setattr(cache, "diagnose", lambda run, *a, **k: calls.append(run.name) or real(run))
    states = [cache.run_state(s) for s in discover_runs(str(logdir))]
    start = time.time()
    later = start + 3 * 86400  # every copy is settled by then (no longer written)
    monkeypatch.setattr(time, "time", lambda: later)
    rows = [cache.row(s) for s in states]
    n = len(calls)
    assert n == len(states)
    for minutes in (1, 5, 30):
        monkeypatch.setattr(time, "time", lambda m=minutes: later + 60 * m)
        again = [cache.row(cache.run_state(src)) for src in discover_runs(str(logdir))]
        silent = [s.name for s in states if cache.time_key(s)[1] != 0]
        assert len(calls) - n <= len(silent)  # only runs reporting their silence, once a minute
        n = len(calls)
        assert [r for r, s in zip(again, states, strict=True) if s.name not in silent] == [
            r for r, s in zip(rows, states, strict=True) if s.name not in silent
        ]


# --- the overview from summaries (issue 15, item 3) --------------------------------------------


def _settle(folder: Path, age_s: float = 3 * 86400) -> None:
    """Date every file ``age_s`` back: runs finished long ago, not live."""
    then = time.time() - age_s
    for path in folder.rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))


@pytest.fixture()
def settled(tmp_path: Path, sample_logs: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    dest = tmp_path / "settled"
    shutil.copytree(sample_logs, dest)
    _settle(dest)
    monkeypatch.setenv("SEGWATCH_LOGDIR", str(dest))
    return dest


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    real = report_mod.load_run
    monkeypatch.setattr(
        report_mod, "load_run", lambda source, **k: reads.append(source.name) or real(source, **k)
    )
    return reads


def test_summary_rows_are_the_rows_of_the_tables(settled: Path) -> None:
    """A settled run's row from its summary is the row its whole table gives."""
    sources = discover_runs(str(settled))
    assert len(sources) >= 10
    summaries = cache.overview_summaries(sources)
    for source, summary in zip(sources, summaries, strict=True):
        assert summary.error is None and summary.row is not None, source.name
        state = cache.run_state(source)
        assert state.run is not None
        from_table = cache.row(state)
        assert summary.row.keys() == from_table.keys()
        for column, value in from_table.items():
            got = summary.row[column]
            if isinstance(value, float) and not math.isinf(value):
                assert got == pytest.approx(value, abs=1e-9), (source.name, column)
            else:
                assert got == value or list(got) == list(value), (source.name, column)


def test_overview_of_unchanged_runs_reads_nothing_and_keeps_no_table(
    settled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = _count_reads(monkeypatch)
    sources = discover_runs(str(settled))
    first = [s.row for s in cache.overview_summaries(sources)]
    assert sorted(reads) == sorted(s.name for s in sources)  # cold: each run read once
    assert not cache._LIVE  # the overview follows no settled run: no table is kept
    reads.clear()
    for _ in range(3):  # reruns of the page: nothing read, the same rows
        assert [s.row for s in cache.overview_summaries(sources)] == first
    assert reads == []
    # a new server (memory empty): every row from the SQLite summary cache, nothing read
    cache.clear()
    assert [s.row for s in cache.overview_summaries(discover_runs(str(settled)))] == first
    assert reads == []
    # one run written again: that run only is read again
    grown = sources[0].files[0].path
    with open(grown, "ab") as fh:
        fh.write(b"\n")
    cache.overview_summaries(sources)
    assert reads == [sources[0].name]


def test_summaries_follow_the_lifecycle_at_the_current_time(
    settled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row is re-judged when its lifecycle state changes with time alone, as check does."""
    sources = discover_runs(str(settled))
    now = time.time()
    rows = {s.source.name: s.row for s in cache.overview_summaries(sources, now)}
    reads = _count_reads(monkeypatch)
    again = {s.source.name: s.row for s in cache.overview_summaries(sources, now + 3600)}
    assert again == rows and reads == []  # an hour later: settled runs stay as they were
    # an hour before the files were written, every run would have been judged live: the
    # lifecycle state differs, so the rows are made again (the SQLite row no longer holds)
    early = min(s.updated or now for s in cache.overview_summaries(sources, now)) - 60
    cache.overview_summaries(sources, early)
    assert reads  # re-read, not served from a row made under another lifecycle state


def test_check_rows_without_the_overview_extra_are_read_again(
    settled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``segwatch check`` fills the same cache without the trend: the overview reads those
    runs once, stores them with it, and check still uses the rows."""
    from dashboard.cli import main

    assert main(["check", str(settled), "--json", "--workers", "1"]) in (0, 1)
    reads = _count_reads(monkeypatch)
    sources = discover_runs(str(settled))
    rows = cache.overview_summaries(sources)
    assert all(r.row is not None and r.row["trend"] is not None for r in rows if not r.error)
    assert len(reads) == len(sources)
    reads.clear()
    assert main(["check", str(settled), "--json", "--workers", "1"]) in (0, 1)
    assert reads == []  # check's warm run uses the overview's rows


def test_many_unknown_runs_are_read_in_the_background(
    settled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More runs to read than ``INLINE_MAX``: worker processes read them while the page shows
    the rows it has (the others as "reading…"); the rows then come in as they are done."""
    monkeypatch.setattr(cache, "INLINE_MAX", 2)
    monkeypatch.setattr(cache, "FIRST_WAIT_S", 0.0)
    sources = discover_runs(str(settled))
    first = cache.overview_summaries(sources)
    assert any(s.pending and s.row is not None and s.row["status"] == PENDING for s in first)
    deadline = time.time() + 120
    while cache.SUMMARIES.pending and time.time() < deadline:
        time.sleep(0.2)
        cache.overview_summaries(sources)
    rows = cache.overview_summaries(sources)
    assert not any(s.pending for s in rows)
    cache.clear()
    monkeypatch.setattr(cache, "INLINE_MAX", 100)
    inline = cache.overview_summaries(discover_runs(str(settled)))
    assert [s.row for s in rows] == [s.row for s in inline]  # workers made the same rows


def test_idle_check_sees_new_and_written_runs_only(settled: Path, sample_logs: Path) -> None:
    """The overview's idle check (``runs_signature``, stats only) changes when a run is added
    or written, and not when nothing changed; a written run then counts as live."""
    folder = str(settled)
    sources = cache.discover(folder)
    base = cache.runs_signature(folder, sources)
    assert not cache.busy(sources)  # every run settled: no redraw on a timer
    assert cache.runs_signature(folder, cache.discover(folder)) == base
    # a new run in a new folder: seen by the check, and found by discovery at once
    shutil.copytree(sample_logs / "paddleseg", settled / "new" / "paddleseg")
    assert cache.runs_signature(folder, sources) != base
    more = cache.discover(folder)
    assert len(more) > len(sources)
    base = cache.runs_signature(folder, more)
    # a settled run written again (a resumed run): seen, and now live
    log = more[0].files[0].path
    with open(log, "ab") as fh:
        fh.write(b"\n")
    assert cache.runs_signature(folder, more) != base
    assert cache.busy(more)


def test_overview_page_of_settled_runs_agrees_with_check(
    settled: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Runs page, in real Streamlit, lists settled runs from their summaries with check's
    statuses; a second session (another tab) reads no run."""
    import json

    from streamlit.testing.v1 import AppTest

    from dashboard.cli import main
    from dashboard.figures.overview import BADGES

    main(["check", str(settled), "--json", "--workers", "1", "--no-cache"])
    by_check = {r["run"]: r["status"] for r in json.loads(capsys.readouterr().out)["runs"]}
    app = str(Path(cache.__file__).parent / "app.py")
    at = AppTest.from_file(app, default_timeout=60).run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert dict(zip(frame["run"], frame["status"], strict=True)) == {
        run: BADGES[status] for run, status in by_check.items()
    }
    assert not cache._LIVE  # no table kept for the overview
    reads = _count_reads(monkeypatch)
    again = AppTest.from_file(app, default_timeout=60).run()
    cols = ["run", "status", "best mIoU", "step", "top finding"]
    assert again.dataframe[0].value[cols].equals(frame[cols])
    assert reads == []


def test_a_primed_server_draws_its_first_tab_without_reading_a_run(
    settled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``segwatch serve`` warms the overview (``cache.prime``) while Streamlit starts: the first
    tab then reads no run, as a second tab would not."""
    from streamlit.testing.v1 import AppTest

    reads = _count_reads(monkeypatch)
    cache.prime(str(settled))
    assert sorted(reads) == sorted(s.name for s in discover_runs(str(settled)))
    reads.clear()
    at = AppTest.from_file(str(Path(cache.__file__).parent / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert len(at.dataframe[0].value) == len(discover_runs(str(settled)))
    assert reads == []


def test_priming_an_unreadable_folder_leaves_the_error_to_the_page(tmp_path: Path) -> None:
    cache.prime(str(tmp_path / "missing"))  # no exception in the server's warm-up thread
    assert cache.SUMMARIES.pending == 0
