"""Follow a log that is still being written, reading only the bytes added since the last poll."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from metrics.errors import LogFormatError, LogReadError
from metrics.readers.base import BadLine, LogFormat, Parsed, Parser, Restart
from metrics.readers.registry import SNIFF_BYTES, finalize, get_format, sniff_format
from metrics.readers.source import FileStat, open_source

FINGERPRINT_BYTES = 512


class LogTailer:
    """Incremental reader of one growing log file.

    ``poll()`` returns the records appended since the previous poll (a tidy table, possibly
    empty). It keeps its byte offset, holds back a partial last line until it is complete,
    starts over when the file was truncated or replaced (a relaunch writing the same name,
    a rotation), and re-reads files that are rewritten whole (``trainer_state.json``,
    Lightning CSV). ``table`` is everything read so far with relaunches resolved — equal to
    one full read of the file.
    """

    def __init__(
        self,
        path: str,
        format: str | None = None,
        run: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.path = str(path)
        self._src = open_source(self.path)
        self.run = run if run is not None else self._src.name
        self._options = options
        self._fmt: LogFormat | None = get_format(format) if format else None
        self._parser: Parser | None = None
        self._offset = 0
        self._stat: FileStat | None = None
        self._fingerprint = b""
        self._parts: list[Parsed] = []
        self._table: pd.DataFrame | None = None
        #: How many times the file was found truncated or replaced and read again from the start.
        self.resets = 0
        #: True while the file is missing (deleted while watched); the table read so far stays.
        self.missing = False

    @property
    def format(self) -> str | None:
        """The detected (or given) format name; None until the file has content."""
        return self._fmt.name if self._fmt else None

    @property
    def restarts(self) -> list[Restart]:
        return [r for p in self._parts for r in p.restarts]

    @property
    def bad_lines(self) -> list[BadLine]:
        return [b for p in self._parts for b in p.bad_lines]

    @property
    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = {}
        for p in self._parts:
            meta.update(p.meta)
        return meta

    @property
    def offset(self) -> int:
        """Bytes consumed so far (a held-back partial line is not counted)."""
        return self._offset

    @property
    def table(self) -> pd.DataFrame:
        """Every record read so far, relaunches resolved (the tidy contract)."""
        if self._table is None:
            self._table = finalize(self._parts, self.run)[0]
        return self._table

    def poll(self, final: bool = False) -> pd.DataFrame:
        """Records added since the last poll; ``final`` also parses an unterminated last line."""
        try:
            st = self._src.stat()
        except LogReadError:
            if self._stat is not None and not self._src.is_local:
                raise
            if self._src.is_local and _is_special(self._src.inner):
                raise  # a FIFO or device is there, not a missing log: say so, do not wait
            self.missing = True
            return self._emit([])
        self.missing = False
        if self._stat is not None and self._replaced(st):
            self._reset()
        if self._fmt is None and not self._detect():
            return self._emit([])
        assert self._fmt is not None
        if self._fmt.whole_file:
            return self._poll_whole(st)
        if self._stat is not None and st == self._stat and not final:
            return self._emit([])
        self._stat = st
        if self._parser is None:
            self._parser = self._fmt.new_parser_for(self.path, self._options)
        data = self._src.read_range(self._offset)
        if len(self._fingerprint) < FINGERPRINT_BYTES and self._offset == 0:
            self._fingerprint = data[:FINGERPRINT_BYTES]
        parsed, used = self._parser.feed(data, self._offset)
        new = [parsed]
        if final:
            new.append(self._parser.finish(data[used:], self._offset + used))
            used = len(data)
        self._offset += used
        return self._emit(new)

    def _detect(self) -> bool:
        head = self._src.read_head(SNIFF_BYTES)
        if not head:
            return False
        fmt = sniff_format(head, self.path, self._options)
        if fmt is None:
            if len(head) >= SNIFF_BYTES:
                raise LogFormatError(f"{self.path}: not a log segwatch can read")
            return False  # a live file may not show its format yet
        self._fmt = fmt
        return True

    def _replaced(self, st: FileStat) -> bool:
        assert self._stat is not None
        if st.ident != self._stat.ident or st.size < self._offset:
            return True
        if self._fingerprint and self._fmt is not None and not self._fmt.whole_file:
            head = self._src.read_head(len(self._fingerprint))
            return head != self._fingerprint
        return False

    def _reset(self) -> None:
        self.resets += 1
        self._parser = None
        self._offset = 0
        self._stat = None
        self._fingerprint = b""
        self._parts = []
        self._table = None

    def _poll_whole(self, st: FileStat) -> pd.DataFrame:
        if self._stat is not None and st == self._stat:
            return self._emit([])
        assert self._fmt is not None
        self._stat = st
        data = self._src.read_all()
        parsed = self._fmt.new_parser_for(self.path, self._options).finish(data, 0)
        old = self._parts[0].records if self._parts else None
        self._parts = [parsed]
        self._table = None
        fresh = parsed.records
        if old is not None and _is_prefix(old, fresh):
            fresh = fresh.iloc[len(old) :].reset_index(drop=True)
        elif old is not None:
            self.resets += 1
        only_new = Parsed(fresh, [], [], {})
        return finalize([only_new], self.run)[0]

    def _emit(self, new: list[Parsed]) -> pd.DataFrame:
        new = [p for p in new if len(p.records) or p.restarts or p.bad_lines or p.meta]
        if new:
            self._parts.extend(new)
            self._table = None
        only_records = [Parsed(p.records) for p in new]
        return finalize(only_records, self.run)[0]


def _is_special(path: str) -> bool:
    """Whether a local path exists but is not a regular file (a FIFO, a device, a folder)."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _is_prefix(old: pd.DataFrame, new: pd.DataFrame) -> bool:
    """Whether ``old``'s records are the first records of ``new`` (a file that only grew)."""
    n = len(old)
    if n > len(new):
        return False
    head = new.iloc[:n]
    for col in ("step", "value"):
        a, b = old[col].to_numpy(), head[col].to_numpy()
        if not np.array_equal(a, b, equal_nan=col == "value"):
            return False
    for col in ("split", "metric"):
        if not np.array_equal(old[col].astype(str).to_numpy(), head[col].astype(str).to_numpy()):
            return False
    return True
