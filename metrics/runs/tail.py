"""Follow a log that is still being written, reading only the bytes added since the last poll."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from metrics.errors import LogFormatError, LogReadError, OutsideLogdirError
from metrics.readers.base import (
    BadLine,
    LogFormat,
    LogMeta,
    Parsed,
    Parser,
    Restart,
    merged_meta,
)
from metrics.readers.limits import (
    READ_PIECE_BYTES,
    line_too_long,
    max_line_bytes,
    max_log_bytes,
    too_large,
)
from metrics.readers.registry import SNIFF_BYTES, finalize, get_format, sniff_format
from metrics.readers.source import FileStat, open_source
from metrics.runs.columns import GrowingTable

FINGERPRINT_BYTES = 512


class LogTailer:
    """Incremental reader of one growing log file.

    ``poll()`` returns the records appended since the previous poll (a tidy table, possibly
    empty). It keeps its byte offset, holds back a partial last line until it is complete,
    starts over when the file was truncated or replaced (a relaunch writing the same name,
    a rotation), and re-reads files that are rewritten whole (``trainer_state.json``,
    Lightning CSV). ``table`` is everything read so far with relaunches resolved — equal to
    one full read of the file. ``root`` confines the file to LOGDIR at every read
    (``metrics.readers.confine``); ``max_bytes`` is the size limit of ``read_log``.
    """

    def __init__(
        self,
        path: str,
        format: str | None = None,
        run: str | None = None,
        options: Mapping[str, Any] | None = None,
        root: str | None = None,
        max_bytes: int | None = None,
    ) -> None:
        self.path = str(path)
        self._src = open_source(self.path, root)
        self.run = run if run is not None else self._src.name
        self._options = options
        self._fmt: LogFormat | None = get_format(format) if format else None
        self._parser: Parser | None = None
        self._offset = 0
        self._stat: FileStat | None = None
        self._fingerprint = b""
        self._before = b""  # the bytes just before the offset, as last read
        self._limit = max_log_bytes(max_bytes)
        self._max_line = max_line_bytes()
        #: Bytes read at a time (memory per poll stays near this plus one partial line).
        self.piece_bytes = READ_PIECE_BYTES
        self._parts: list[Parsed] = []
        self._table: pd.DataFrame | None = None
        self._growing: GrowingTable | None = None  # the table, with room to append
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
    def meta(self) -> LogMeta:
        return merged_meta(p.meta for p in self._parts)

    @property
    def offset(self) -> int:
        """Bytes consumed so far (a held-back partial line is not counted)."""
        return self._offset

    @property
    def table(self) -> pd.DataFrame:
        """Every record read so far, relaunches resolved (the tidy contract).

        Built once in full; after that, records appended without a relaunch among them are
        added to a ``GrowingTable`` (O(new records), not a rebuild of the whole table)."""
        if self._table is None:
            if self._growing is not None:
                self._table = self._growing.table(self.run)
            else:
                self._table = finalize(self._parts, self.run)[0]
                if self._fmt is not None and not self._fmt.whole_file and len(self._table):
                    try:
                        self._growing = GrowingTable(self._table)
                    except ValueError:
                        self._growing = None
                    else:
                        self._table = self._growing.table(self.run)
        return self._table

    def poll(self, final: bool = False) -> pd.DataFrame:
        """Records added since the last poll; ``final`` also parses an unterminated last line.

        New bytes are read in pieces of ``piece_bytes`` under the size limit of whole reads
        (``SEGWATCH_MAX_LOG_BYTES``) and the line bound (``SEGWATCH_MAX_LINE_BYTES``): a huge
        or hostile log costs a refusal (``LogReadError``), not the server's memory. A log
        deleted while it is read (a rotation) is reported as ``missing``, not raised.
        """
        try:
            return self._poll(final)
        except OutsideLogdirError:
            raise  # swapped for a symlink out of LOGDIR: refused, not "missing"
        except LogReadError:
            if not self._src.is_local or os.path.lexists(self._src.inner):
                raise
            self.missing = True  # gone between the stat and the read: as if gone before
            return self._emit([])

    def _poll(self, final: bool) -> pd.DataFrame:
        try:
            st = self._src.stat()
        except OutsideLogdirError:
            raise
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
        if st.size > self._limit:
            raise too_large(self.path, st.size, self._limit)
        if self._fmt.whole_file:
            return self._poll_whole(st)
        if self._stat is not None and st == self._stat and not final:
            return self._emit([])
        self._stat = st
        if self._parser is None:
            self._parser = self._fmt.new_parser_for(self.path, self._options)
        new, pending = self._read_new()
        if final:
            new.append(self._parser.finish(pending, self._offset))
            self._offset += len(pending)
        self._remember()
        return self._emit(new)

    def _read_new(self) -> tuple[list[Parsed], bytes]:
        """Feed the parser the bytes after the offset, ``piece_bytes`` at a time; the new
        parts and the unconsumed rest (a partial line, at most the line bound)."""
        assert self._parser is not None
        new: list[Parsed] = []
        pending = b""
        while True:
            start = self._offset + len(pending)
            chunk = self._src.read_range(start, start + self.piece_bytes)
            if start + len(chunk) > self._limit:
                raise too_large(self.path, start + len(chunk), self._limit)
            if not chunk:
                break
            pending = pending + chunk if pending else chunk
            if len(self._fingerprint) < FINGERPRINT_BYTES and self._offset == 0:
                self._fingerprint = pending[:FINGERPRINT_BYTES]
            parsed, used = self._parser.feed(pending, self._offset)
            new.append(parsed)
            pending = pending[used:]
            self._offset += used
            if len(pending) > self._max_line:
                raise line_too_long(self.path, self._offset, len(pending), self._max_line)
            if len(chunk) < self.piece_bytes:
                break
        return new, pending

    def _remember(self) -> None:
        """Keep the bytes just before the offset: a file rewritten in place (same inode, same
        first bytes, grown past the offset) shows other bytes there at the next poll."""
        start = max(0, self._offset - FINGERPRINT_BYTES)
        self._before = self._src.read_range(start, self._offset) if self._offset else b""

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
        """A new file under the watched name: another inode, a shorter size, other first
        bytes, or other bytes just before the offset read so far (a truncate-and-relaunch
        that wrote the same header and grew past the old offset between two polls)."""
        assert self._stat is not None
        if st.ident != self._stat.ident or st.size < self._offset:
            return True
        if self._fmt is None or self._fmt.whole_file:
            return False
        if self._fingerprint and self._src.read_head(len(self._fingerprint)) != self._fingerprint:
            return True
        if self._before and st != self._stat:
            at = self._offset - len(self._before)
            return self._src.read_range(at, self._offset) != self._before
        return False

    def _reset(self) -> None:
        self.resets += 1
        self._parser = None
        self._offset = 0
        self._stat = None
        self._fingerprint = b""
        self._before = b""
        self._parts = []
        self._table = None
        self._growing = None

    def _poll_whole(self, st: FileStat) -> pd.DataFrame:
        if self._stat is not None and st == self._stat:
            return self._emit([])
        assert self._fmt is not None
        self._stat = st
        data = self._src.read_range(0, self._limit + 1)
        if len(data) > self._limit:
            raise too_large(self.path, len(data), self._limit)
        parsed = self._fmt.new_parser_for(self.path, self._options).finish(data, 0)
        old = self._parts[0].records if self._parts else None
        self._parts = [parsed]
        self._table = None
        self._growing = None
        fresh = parsed.records
        if old is not None and _is_prefix(old, fresh):
            fresh = fresh.iloc[len(old) :].reset_index(drop=True)
        elif old is not None:
            self.resets += 1
        only_new = Parsed(fresh)
        return finalize([only_new], self.run)[0]

    def _emit(self, new: list[Parsed]) -> pd.DataFrame:
        new = [p for p in new if len(p.records) or p.restarts or p.bad_lines or p.meta]
        only_records = [Parsed(p.records) for p in new]
        fresh = finalize(only_records, self.run)[0]
        if new:
            self._parts.extend(new)
            self._table = None
            # records after every earlier restart are untouched by them: append, unless the
            # new ones restart (they may void earlier records) or name a new metric
            if self._growing is not None and (
                any(p.restarts for p in new) or not self._growing.append(fresh)
            ):
                self._growing = None
        return fresh


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
