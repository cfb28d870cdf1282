"""A run followed while it is written: one ``LogTailer`` per file, merged with ``merge_run``.

``LiveRun.refresh()`` costs one stat per file when nothing changed; when a file grew it reads
only the new bytes. The dashboard keeps one ``LiveRun`` per run across reruns and sessions.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from metrics.errors import LogReadError, MetricsError
from metrics.facts import RunFacts
from metrics.readers.registry import LogData, get_format
from metrics.readers.source import open_source
from metrics.runs.discover import RunSource
from metrics.runs.load import facts_for_run, with_facts
from metrics.runs.merge import Run, merge_run
from metrics.runs.tail import LogTailer

#: A file unchanged for this long is treated as finished: its unterminated last line is read.
FINAL_AFTER_S = 30.0
#: A run whose files changed within this many seconds is shown as live.
LIVE_WITHIN_S = 120.0

FileKey = tuple[str, int, int]  # (path, mtime_ns, size)


def file_key(path: str) -> FileKey:
    """(path, mtime_ns, size) of a file: what every dashboard cache is keyed on."""
    src = open_source(path)
    if src.is_local:
        try:
            st = os.stat(src.inner)
        except OSError:
            return (path, -1, -1)
        return (path, st.st_mtime_ns, st.st_size)
    try:
        fs = src.stat()
    except LogReadError:
        return (path, -1, -1)
    return (path, int(fs.mtime * 1e9), fs.size)


@dataclass(frozen=True)
class RunState:
    """A run as of its last refresh: the merged run (or None) and why it failed, if it did."""

    name: str
    run: Run | None
    error: str | None
    key: tuple[FileKey, ...]
    updated: float | None  # newest mtime of the run's files (epoch seconds)
    polled_in_s: float = 0.0  # how long the last refresh took

    def age(self, now: float | None = None) -> float | None:
        """Seconds since a file of the run last changed."""
        if self.updated is None:
            return None
        return max(0.0, (time.time() if now is None else now) - self.updated)

    def is_live(self, now: float | None = None) -> bool:
        a = self.age(now)
        return a is not None and a < LIVE_WITHIN_S


class LiveRun:
    """Incremental reader of every file of one run; thread-safe (sessions share it)."""

    def __init__(self, source: RunSource, options: Mapping[str, Any] | None = None) -> None:
        self.source = source
        self._tailers = {
            f.path: LogTailer(
                f.path, format=f.format, run=source.name, options=options, root=f.root
            )
            for f in source.files
        }
        self._lock = threading.Lock()
        self._state = RunState(source.name, None, None, (), None)
        self._finished: set[str] = set()
        self._facts: RunFacts | None = None
        self._facts_resets = -1

    @property
    def facts(self) -> RunFacts | None:
        """What the run's logged config says (read once, again after a file was replaced)."""
        return self._facts

    @property
    def state(self) -> RunState:
        return self._state

    def refresh(self, now: float | None = None) -> RunState:
        """Read what was appended since the last refresh (nothing but stats if nothing was)."""
        with self._lock:
            t0 = time.perf_counter()
            now = time.time() if now is None else now
            keys = tuple(file_key(p) for p in self._tailers)
            self._finished -= {k[0] for k in keys if k not in self._state.key}
            due = self._due_final(keys, now)
            if keys == self._state.key and not due:
                return self._state
            try:
                for path, tailer in self._tailers.items():
                    tailer.poll(final=path in due)
                self._finished |= due
                run: Run | None = self._merge(keys)
                error = None
            except MetricsError as exc:
                run, error = self._state.run, str(exc)
            except Exception as exc:  # a reader bug stays with this run: the others still show
                what = f"{type(exc).__name__}: {exc}"[:300]
                run, error = self._state.run, f"internal error while reading ({what})"
            updated = _newest(keys)
            self._state = RunState(
                self.source.name, run, error, keys, updated, time.perf_counter() - t0
            )
            return self._state

    def _due_final(self, keys: tuple[FileKey, ...], now: float) -> set[str]:
        """Files quiet for FINAL_AFTER_S whose last line may be unterminated: read it now."""
        due = set()
        for path, mtime_ns, size in keys:
            tailer = self._tailers[path]
            if path in self._finished or size < 0 or tailer.format is None:
                continue
            if get_format(tailer.format).whole_file or tailer.offset >= size:
                continue
            if now - mtime_ns / 1e9 > FINAL_AFTER_S:
                due.add(path)
        return due

    def _merge(self, keys: tuple[FileKey, ...]) -> Run:
        datas = []
        for f in self.source.files:
            t = self._tailers[f.path]
            data = LogData(
                f.path,
                t.format or f.format,
                t.table,
                tuple(t.restarts),
                tuple(t.bad_lines),
                t.meta,
            )
            datas.append((f, data))
        run = merge_run(self.source, datas)
        resets = sum(t.resets for t in self._tailers.values())
        if self._facts is None or resets != self._facts_resets:
            self._facts, self._facts_resets = facts_for_run(run), resets
        return replace(with_facts(run, self._facts), updated=_newest(keys))


def _newest(keys: tuple[FileKey, ...]) -> float | None:
    times = [k[1] / 1e9 for k in keys if k[1] >= 0]
    return max(times) if times else None
