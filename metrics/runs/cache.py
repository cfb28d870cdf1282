"""A summary cache in SQLite: a run whose files did not change is not read again.

Each row holds one run's report (``metrics.runs.report.RunReport``: summary, facts, findings)
under a key made of the run's path and name, segwatch's version and a hash of everything that
shapes the report besides the files (diagnosis settings, reader options). The row is used only
while every file of the run has the identity it had when the report was made: path, size,
modification time in nanoseconds and inode (local files), or size, modification time and
identity as the filesystem reports them (fsspec). The identity is taken *before* the files are
read, so a file that grows while it is read is read again next time.

**The clock.** A diagnosis depends on the time it is made: a run silent for longer than its
stuck limit is no longer live (its plateau is no longer ``stalled``, it may become ``stopped``),
and ``stuck_process`` reports how long it has been silent. So each row also keeps the run's
``Clock`` (its last change, last time stamp, logging interval, planned and last step). On a
hit the lifecycle is judged again at the current time: if its state (live, finished and why,
old time stamps) is the one the report was made under, the report stands and only the
``stuck_process``/``stopped_early`` finding is recomputed from the clock (its silence grows);
if the state changed, the row is a miss and the run is read again. A cached report is thus
always what a fresh read would print. Runs that could not be read are never cached.

The database is opened in WAL mode with a busy timeout, so concurrent ``check``s are safe (one
writes at a time, readers are not blocked). A cache that cannot be opened, is corrupt or stays
locked degrades to no cache with a warning (``CacheError`` is raised by ``open`` only).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from metrics.diagnosis import Clock, DiagnosisConfig, life_state
from metrics.diagnosis.rules_process import stuck_process
from metrics.errors import LogReadError, MetricsError
from metrics.readers.source import open_source
from metrics.runs.discover import RunSource, known_sniffs, remember_sniffs
from metrics.runs.report import RunReport

#: Bump when the stored report changes shape: older rows are then never used.
SCHEMA = 3  # 2: the clock knows when the lr ran out; 3: the report's ``extra`` is kept
_TIME_FINDINGS = ("stuck_process", "stopped_early")
_BUSY_MS = 5000


class CacheError(MetricsError):
    """The summary cache cannot be used (unwritable folder, corrupt or locked database)."""


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/segwatch`` or ``~/.cache/segwatch``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "segwatch"


def segwatch_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("segwatch")
    except PackageNotFoundError:
        return "unknown"


def settings_salt(config: DiagnosisConfig, options: Mapping[str, Any] | None) -> str:
    """A hash of what shapes a report besides its files: settings, reader options, version."""
    blob = orjson.dumps(
        {"config": asdict(config), "options": options or {}, "version": segwatch_version()},
        option=orjson.OPT_SORT_KEYS,
        default=str,
    )
    return hashlib.sha256(blob).hexdigest()


def run_identity(source: RunSource) -> str | None:
    """The identity of every file of a run (None when one cannot be stat'ed: never cached)."""
    parts: list[Any] = []  # local: inode and mtime_ns; object stores: size, mtime and ETag
    for f in source.files:
        try:
            if "://" not in f.path:
                st = os.stat(f.path)
                parts.append((f.path, st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev))
            else:
                src = open_source(f.path, f.root)
                fst = src.stat()
                info = src.fs.info(src.inner)  # fresh: stat() dropped the cached listing
                tag = info.get("ETag") or info.get("etag") or info.get("md5Hash") or ""
                parts.append((f.path, fst.size, fst.mtime, str(fst.ident), str(tag)))
        except (OSError, LogReadError):
            return None
    return hashlib.sha256(orjson.dumps(parts)).hexdigest()


class SummaryCache:
    """Reports of runs keyed by their files' identity (see the module doc)."""

    def __init__(self, db: sqlite3.Connection, path: Path, salt: str, config: DiagnosisConfig):
        self._db = db
        self.path = path
        self.salt = salt
        self.config = config
        #: why the cache stopped being used mid-way (to print once), None while it works
        self.problem: str | None = None

    @classmethod
    def open(
        cls,
        directory: str | os.PathLike[str],
        config: DiagnosisConfig,
        options: Mapping[str, Any] | None = None,
    ) -> SummaryCache:
        """Open (or create) ``directory/summaries.sqlite``; ``CacheError`` when it cannot be."""
        path = Path(directory) / "summaries.sqlite"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=_BUSY_MS / 1000, isolation_level=None)
            db.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS reports (key TEXT PRIMARY KEY, identity TEXT NOT "
                "NULL, report BLOB NOT NULL, stored REAL NOT NULL)"
            )
            db.execute(
                "CREATE TABLE IF NOT EXISTS sniffs (path TEXT NOT NULL, options TEXT NOT NULL, "
                "size INTEGER, mtime_ns INTEGER, ino INTEGER, fmt TEXT, digest BLOB, "
                "PRIMARY KEY (path, options))"
            )
            db.execute("SELECT count(*) FROM reports WHERE key = ''").fetchone()
        except (OSError, sqlite3.Error) as exc:
            raise CacheError(
                f"summary cache {path} cannot be used ({exc}); checking without it "
                "(--cache-dir DIR to put it elsewhere, --no-cache to silence this)"
            ) from None
        return cls(db, path, settings_salt(config, options), config)

    def _key(self, source: RunSource, options: Mapping[str, Any] | None) -> str:
        raw = orjson.dumps(
            [SCHEMA, self.salt, source.path, source.name, options or {}],
            option=orjson.OPT_SORT_KEYS,
            default=str,
        )
        return hashlib.sha256(raw).hexdigest()

    def _failed(self, exc: Exception) -> None:
        if self.problem is None:
            self.problem = (
                f"summary cache {self.path} failed ({exc}); going on without it "
                "(delete the file, or use --no-cache)"
            )

    def get(
        self,
        source: RunSource,
        options: Mapping[str, Any] | None,
        identity: str,
        now: float | None = None,
    ) -> RunReport | None:
        """The run's report if its files are unchanged and its lifecycle state still holds."""
        if self.problem is not None:
            return None
        try:
            row = self._db.execute(
                "SELECT identity, report FROM reports WHERE key = ?", (self._key(source, options),)
            ).fetchone()
        except sqlite3.Error as exc:
            self._failed(exc)
            return None
        if row is None or row[0] != identity:
            return None
        try:
            stored = orjson.loads(row[1])
            clock = Clock(**stored["clock"])
            return self._rejudge(stored, clock, now)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None  # a row of another shape: read the run again

    def _rejudge(self, stored: dict[str, Any], clock: Clock, now: float | None) -> RunReport | None:
        life = clock.judge(self.config, time.time() if now is None else now)
        if list(life_state(life)) != stored["state"]:
            return None
        entry = stored["entry"]
        fresh = {f.code: f.to_dict() for f in stuck_process(clock.series(life), self.config)}
        findings = entry.get("findings") or []
        for i, f in enumerate(findings):
            if f.get("code") in _TIME_FINDINGS:
                if f["code"] not in fresh:
                    return None
                findings[i] = _plain(fresh[f["code"]])
        extra = stored.get("extra")
        return RunReport(entry, tuple(stored["warnings"]), clock, tuple(stored["state"]), extra)

    def put_many(
        self, items: Iterable[tuple[RunSource, Mapping[str, Any] | None, str, RunReport]]
    ) -> None:
        """Store reports (with the identity taken before their runs were read)."""
        if self.problem is not None:
            return
        rows = []
        for source, options, identity, report in items:
            if report.failed or report.clock is None or report.state is None:
                continue
            blob = {
                "entry": report.entry,
                "warnings": list(report.warnings),
                "clock": asdict(report.clock),
                "state": list(report.state),
                "extra": report.extra,
            }
            data = orjson.dumps(blob, default=_default, option=orjson.OPT_SERIALIZE_NUMPY)
            rows.append((self._key(source, options), identity, data, time.time()))
        if not rows:
            return
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany("INSERT OR REPLACE INTO reports VALUES (?, ?, ?, ?)", rows)
        except sqlite3.Error as exc:
            self._failed(exc)

    def load_sniffs(self) -> None:
        """Give discovery the formats of files sniffed by earlier commands (a file is read again
        only when its size, mtime or inode changed): a warm ``check`` reads no log bytes."""
        if self.problem is not None:
            return
        try:
            rows = self._db.execute(
                "SELECT path, size, mtime_ns, ino, options, fmt, digest FROM sniffs"
            ).fetchall()
        except sqlite3.Error as exc:
            self._failed(exc)
            return
        entries = {tuple(r[:5]): (r[5], bytes(r[6] or b"")) for r in rows}
        self._sniffs_loaded = entries
        remember_sniffs(entries)

    def save_sniffs(self) -> None:
        """Store the sniffs made by this command (one row per file and reader options)."""
        if self.problem is not None:
            return
        loaded = getattr(self, "_sniffs_loaded", {})
        rows = [
            (k[0], k[4], k[1], k[2], k[3], v[0], v[1])
            for k, v in known_sniffs().items()
            if loaded.get(k) != v
        ]
        if not rows:
            return
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(
                    "INSERT OR REPLACE INTO sniffs (path, options, size, mtime_ns, ino, fmt, "
                    "digest) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
        except sqlite3.Error as exc:
            self._failed(exc)

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()


def _default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    return str(value)


def _plain(value: Any) -> Any:
    """A finding dict as it comes back from the cache (JSON types only)."""
    return orjson.loads(orjson.dumps(value, default=_default, option=orjson.OPT_SERIALIZE_NUMPY))
