"""An idle dashboard costs nothing: unchanged runs are not read, sniffed or diagnosed again
just because time passed or the page reran."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

import dashboard.cache as cache
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
