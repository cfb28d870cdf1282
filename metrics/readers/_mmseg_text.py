"""What the two MMSeg text readers share: the line loop and the per-class table.

Train lines are read in bulk (:mod:`._mmseg_text_bulk`), every other line by the reader's
``line``, all in file order, so what a line leaves behind (the last train step, an open class
table) is what the next one sees. Lines that cannot carry a log prefix are skipped unless a
class table is open (its rows have none).
"""

from __future__ import annotations

from abc import abstractmethod
from bisect import bisect_left, bisect_right
from itertools import pairwise
from typing import ClassVar

import numpy as np

from metrics.readers._mmseg_common import table_metric, to_float
from metrics.readers._mmseg_text_bulk import PLAIN, TRAIN, Scan, scan
from metrics.readers._mmseg_text_layout import Dialect, Layout
from metrics.readers.base import LineParser, RecordBuilder
from metrics.readers.textutil import decode, last_segment, strip_ansi


class TableCollector:
    """Collects the per-class PrettyTable (or older plain table) MMSeg prints before a val line.

    The rows carry no log prefix, so the collector is fed every unprefixed line after a
    ``per class results:`` message until the next prefixed line. Cells are percent.
    """

    def __init__(self) -> None:
        self.active = False
        self.columns: list[str] = []
        self.rows: list[tuple[str, list[float]]] = []

    def start(self) -> None:
        """A ``per class results:`` message: forget the previous table."""
        self.active = True
        self.columns = []
        self.rows = []

    def stop(self) -> None:
        """A prefixed line: the table (if any) is complete."""
        self.active = False

    def take(self) -> tuple[list[str], list[tuple[str, list[float]]]]:
        """The collected table, forgotten afterwards (one table per evaluation)."""
        table = (self.columns, self.rows)
        self.columns, self.rows, self.active = [], [], False
        return table

    def feed(self, text: str) -> None:
        """One unprefixed line while collecting."""
        line = text.strip()
        if not line or line[0] in "+-":
            return
        piped = "|" in line
        cells = [c.strip() for c in line.strip("|").split("|")] if piped else line.split()
        if not cells:
            return
        if cells[0] == "Class":
            self.columns = cells[1:]
            return
        n = len(self.columns)
        if not n or len(cells) <= n:
            return
        name = cells[0] if piped else " ".join(cells[:-n])
        values = []
        for cell in cells[-n:]:
            value = to_float(cell)
            if value is None:
                return
            values.append(value)
        if name:
            self.rows.append((name, values))


class _Bulk:
    """The bulk train lines of one piece as lists and record columns, for the line loop."""

    def __init__(self, found: Scan, offset: int) -> None:
        self.offset = offset
        self.rows: list[int] = found.rows.tolist()
        self.steps: list[int] = found.step.tolist()
        self.planned: list[int] = found.planned.tolist()
        n = len(self.rows)
        #: rows whose step is below the previous row's (in one block of bulk lines: a relaunch)
        self.drops: list[int] = (np.flatnonzero(found.step[1:] < found.step[:-1]) + 1).tolist()
        #: the last ``Iter`` row up to each row (-1: none)
        iters = np.where(found.planned >= 0, np.arange(n), -1)
        self.last_iter: list[int] = np.maximum.accumulate(iters).tolist() if n else []
        self.record_start: list[int] = np.searchsorted(found.record_row, np.arange(n + 1)).tolist()
        self.series = [("train", name) for name in found.names]
        row = found.record_row
        self.name = found.record_name
        self.offsets = found.starts[found.rows[row]] + offset
        self.step = found.step[row]
        self.value = found.record_value
        self.wall = found.wall[row]


class TextLineParser(LineParser):
    """Text logs with the state MMSeg text needs: the pending per-class table."""

    dialect: ClassVar[Dialect]
    #: read train lines in bulk (off: every line by ``line``, the path the bulk one must match)
    bulk: ClassVar[bool] = True
    #: bytes scanned at once (the scan holds a tuple per line)
    piece_bytes: ClassVar[int] = 1 << 20

    def __init__(self) -> None:
        super().__init__()
        self.table = TableCollector()
        self.class_names_seen = False
        self.layouts: list[Layout] = []  # of the train lines read in bulk, learnt as they come
        self._table_series: tuple[object, list[tuple[str, str]]] = (None, [])

    def parse_lines(self, data: bytes, offset: int, out: RecordBuilder) -> None:
        pos, line_no = 0, self.lines_before
        while pos < len(data):
            end = data.rfind(b"\n", pos, pos + self.piece_bytes) + 1
            if end <= pos:  # a line longer than a piece
                end = data.find(b"\n", pos) + 1 or len(data)
            piece = data[pos:end] if data.endswith(b"\n", pos, end) else data[pos:end] + b"\n"
            line_no = self._piece(piece, offset + pos, line_no, out)
            pos = end

    def _piece(self, data: bytes, offset: int, before: int, out: RecordBuilder) -> int:
        """Parse ``data`` (whole lines) after line ``before``; returns the last line's number."""
        if not self.bulk:
            lines = data.split(b"\n")[:-1]
            starts = np.cumsum([0] + [len(raw) + 1 for raw in lines]).tolist()
            for i in range(len(lines)):
                self._one(data, starts, i, offset, before, out)
            return before + len(lines)
        found = scan(data, self.dialect, self.layouts)
        bulk = _Bulk(found, offset)
        starts = found.starts.tolist()
        events = np.flatnonzero(found.kind != PLAIN)
        n = len(starts) - 1
        ev = [*events.tolist(), n]
        self._plain(data, starts, -1, ev[0], before)
        in_bulk = found.kind[events] >= TRAIN
        edges = [0, *(np.flatnonzero(np.diff(in_bulk.astype(np.int8))) + 1).tolist(), len(events)]
        for a, b in pairwise(edges if len(events) else ()):
            if in_bulk[a]:  # train lines and lines that only end a table
                self._bulk_lines(bulk, ev[a], ev[b - 1], starts, before, out)
                continue
            for k in range(a, b):
                self._one(data, starts, ev[k], offset, before, out)
                self._plain(data, starts, ev[k], ev[k + 1], before)
        return before + n

    def _one(
        self, data: bytes, starts: list[int], i: int, offset: int, before: int, out: RecordBuilder
    ) -> None:
        raw = data[starts[i] : starts[i + 1] - 1]
        self.line(
            strip_ansi(last_segment(raw.rstrip(b"\r"))), offset + starts[i], before + i + 1, out
        )

    def _plain(self, data: bytes, starts: list[int], after: int, until: int, before: int) -> None:
        """Lines without a prefix between two others: rows of an open class table, else nothing
        (they are plain text: what ``line`` sees of them is the line without its CRs)."""
        if not self.table.active or until <= after + 1:
            return
        block = data[starts[after + 1] : starts[until]]
        if block.isascii():  # decoded at once: ``decode`` of each line gives the same
            for text in block.decode("ascii").split("\n")[:-1]:
                self.table.feed(text.rstrip("\r"))
            return
        for i in range(after + 1, until):
            self.unprefixed(data[starts[i] : starts[i + 1] - 1].rstrip(b"\r"))

    def _bulk_lines(
        self, bulk: _Bulk, first: int, last: int, starts: list[int], before: int, out: RecordBuilder
    ) -> None:
        """Lines ``first``-``last`` (bulk train lines, quiet lines): their records and state."""
        self.table.stop()
        lo, hi = bisect_left(bulk.rows, first), bisect_right(bulk.rows, last)
        if hi == lo:
            return
        steps, rows = bulk.steps, bulk.rows
        going_back = bulk.drops[bisect_right(bulk.drops, lo) : bisect_left(bulk.drops, hi)]
        if self.last_train_step is not None and steps[lo] < self.last_train_step:
            going_back.insert(0, lo)
        for k in going_back:  # a step going back: a relaunch
            out.restart(bulk.offset + starts[rows[k]], steps[k], before + rows[k] + 1)
        self.last_train_step = steps[hi - 1]
        if bulk.last_iter[hi - 1] >= lo:
            out.meta.planned_steps = bulk.planned[bulk.last_iter[hi - 1]]
        a, b = bulk.record_start[lo], bulk.record_start[hi]
        out.add_rows(
            bulk.series,
            bulk.name[a:b],
            bulk.offsets[a:b],
            bulk.step[a:b],
            bulk.value[a:b],
            bulk.wall[a:b],
        )

    @abstractmethod
    def line(self, raw: bytes, off: int, line_no: int, out: RecordBuilder) -> None:
        """One line (CR, ANSI colour and progress-bar redraws removed); one without a log
        prefix goes to ``unprefixed``."""

    def unprefixed(self, raw: bytes) -> None:
        """A line without a log prefix: a row of the class table, if one is open."""
        if self.table.active:
            self.table.feed(decode(raw))

    def _series(
        self, columns: list[str], rows: list[tuple[str, list[float]]]
    ) -> list[tuple[str, str]]:
        """The (split, metric) of each cell of a table, row by row; kept for the next table,
        which names the same classes and columns."""
        key = (tuple(columns), tuple((name, len(values)) for name, values in rows))
        if self._table_series[0] != key:
            cells = [(name, c) for name, values in rows for c in columns[: len(values)]]
            self._table_series = (key, [("val", table_metric(c, name)) for name, c in cells])
        return self._table_series[1]

    def train_step(self, step: int, off: int, line_no: int, out: RecordBuilder) -> None:
        """Note a train step (a step going back is a relaunch appended to the file)."""
        if self.last_train_step is not None and step < self.last_train_step:
            out.restart(off, step, line_no)
        self.last_train_step = step

    def emit_table(
        self, out: RecordBuilder, step: int, off: int, wall: float, values_too: bool = True
    ) -> None:
        """The pending per-class table (percent) as fractions at ``step``; its class names."""
        columns, rows = self.table.take()
        if rows and values_too:  # one block, cells in the order printed
            series = self._series(columns, rows)
            width = len(columns)  # a row has as many values, unless a later header changed it
            fractions = [round(v / 100.0, 12) for _, values in rows for v in values[:width]]
            size = len(series)
            out.add_rows(
                series,
                np.arange(size),
                np.full(size, off, np.int64),
                np.full(size, step, np.int64),
                np.array(fractions, np.float64),
                np.full(size, wall),
            )
        if rows and not self.class_names_seen:
            self.class_names_seen = True
            out.meta.class_names = [name for name, _ in rows]
