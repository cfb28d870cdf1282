"""The reader contract: a log format sniffs content and makes stateful parsers.

A parser is fed bytes in file order (a whole file at once, or a growing file piece by piece)
and returns the records of the complete units it consumed, so tailing a log and reading it in
one go give the same records. Records carry the byte offset of the line they came from; that
order is what the restart rule (:mod:`metrics.readers.restarts`) needs.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from metrics.schema import SPLITS, codes_categorical, frame_of

RECORD_COLUMNS: tuple[str, ...] = ("offset", "step", "split", "metric", "value", "wall_time")


@dataclass(frozen=True)
class BadLine:
    """A line that looked like a record but could not be parsed; it was skipped."""

    line: int
    reason: str
    text: str


@dataclass(frozen=True)
class Restart:
    """A relaunch inside one file: earlier records with step >= ``step`` are void."""

    offset: int
    step: int
    line: int


@dataclass
class Parsed:
    """What a parser returns for one piece of input."""

    records: pd.DataFrame
    restarts: list[Restart] = field(default_factory=list)
    bad_lines: list[BadLine] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


class RecordBuilder:
    """Collects records column-wise; cheap for one record at a time and for whole arrays."""

    def __init__(self) -> None:
        self._offsets: list[int] = []
        self._steps: list[int] = []
        self._splits: list[str] = []
        self._metrics: list[str] = []
        self._values: list[float] = []
        self._walls: list[float] = []
        self._blocks: list[
            tuple[str, str, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]
        ] = []
        self.restarts: list[Restart] = []
        self.bad_lines: list[BadLine] = []
        self.meta: dict[str, Any] = {}

    def add(
        self,
        offset: int,
        step: int,
        split: str,
        metric: str,
        value: float,
        wall_time: float = math.nan,
    ) -> None:
        """Add one record."""
        self._offsets.append(offset)
        self._steps.append(step)
        self._splits.append(split)
        self._metrics.append(metric)
        self._values.append(value)
        self._walls.append(wall_time)

    def add_many(
        self,
        split: str,
        metric: str,
        offsets: np.ndarray,
        steps: np.ndarray,
        values: np.ndarray,
        wall_times: np.ndarray | None = None,
    ) -> None:
        """Add one metric's records from aligned arrays."""
        n = len(steps)
        if n == 0:
            return
        walls = None if wall_times is None else np.asarray(wall_times, np.float64)
        self._blocks.append(
            (
                split,
                metric,
                np.asarray(offsets, np.int64),
                np.asarray(steps, np.int64),
                np.asarray(values, np.float64),
                walls,
            )
        )

    def restart(self, offset: int, step: int, line: int) -> None:
        """Note a relaunch that preempts earlier records with step >= ``step``."""
        self.restarts.append(Restart(offset, step, line))

    def bad(self, line: int, reason: str, text: bytes | str) -> None:
        """Note a skipped line (its text is kept short)."""
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        self.bad_lines.append(BadLine(line, reason, text.strip()[:200]))

    def __len__(self) -> int:
        return len(self._steps) + sum(len(b[3]) for b in self._blocks)

    def build(self) -> Parsed:
        """The collected records as a frame with the ``RECORD_COLUMNS``."""
        return Parsed(self._frame(), list(self.restarts), list(self.bad_lines), dict(self.meta))

    def _frame(self) -> pd.DataFrame:
        """One frame of every record: each column allocated once and filled block by block."""
        names: list[str] = sorted({b[1] for b in self._blocks} | set(self._metrics))
        code = {name: i for i, name in enumerate(names)}
        split_code = {s: i for i, s in enumerate(SPLITS)}
        total = len(self)
        offsets = np.empty(total, np.int64)
        steps = np.empty(total, np.int64)
        splits = np.empty(total, np.int8)
        metrics = np.empty(total, code_dtype(len(names)))
        values = np.empty(total, np.float64)
        walls = np.full(total, np.nan)
        at = 0
        if self._steps:
            at = len(self._steps)
            offsets[:at] = self._offsets
            steps[:at] = self._steps
            splits[:at] = [split_code[s] for s in self._splits]
            metrics[:at] = [code[m] for m in self._metrics]
            values[:at] = self._values
            walls[:at] = self._walls
        for split, metric, offs, stps, vals, wall in self._blocks:
            end = at + len(stps)
            offsets[at:end] = offs
            steps[at:end] = stps
            splits[at:end] = split_code[split]
            metrics[at:end] = code[metric]
            values[at:end] = vals
            if wall is not None:
                walls[at:end] = wall
            at = end
        return records_frame(offsets, steps, splits, metrics, names, values, walls)


def code_dtype(categories: int) -> type[np.signedinteger[Any]]:
    """The integer type pandas keeps category codes in (a wider one would be copied)."""
    for dtype in (np.int8, np.int16, np.int32):
        if categories < np.iinfo(dtype).max:
            return dtype
    return np.int64


def records_frame(
    offsets: np.ndarray,
    steps: np.ndarray,
    split_codes: np.ndarray,
    metric_codes: np.ndarray,
    metric_names: Sequence[str],
    values: np.ndarray,
    walls: np.ndarray,
) -> pd.DataFrame:
    """A records frame from codes, without building millions of Python strings."""
    return frame_of(
        {
            "offset": offsets,
            "step": steps,
            "split": codes_categorical(split_codes, SPLITS),
            "metric": codes_categorical(metric_codes, metric_names),
            "value": values,
            "wall_time": walls,
        }
    )


class Parser(ABC):
    """Stateful parser of one log file, fed in file order."""

    @abstractmethod
    def feed(self, data: bytes, offset: int, last: bool = False) -> tuple[Parsed, int]:
        """Parse the complete units at the start of ``data`` (found at file ``offset``).

        Returns the records and how many bytes were consumed; the rest is offered again,
        with more bytes after it, on the next call. ``last`` says no more bytes are expected
        (the final piece of a whole read): work only later pieces need may be put off.
        """

    def finish(self, data: bytes, offset: int) -> Parsed:
        """At the end of a full read: parse what ``feed`` left over (an unterminated tail)."""
        return RecordBuilder().build()


class LineParser(Parser):
    """A parser of newline-terminated lines; subclasses implement ``parse_lines``."""

    #: Parse an unterminated last line at the end of a full read (only where a line's
    #: completeness can be verified, as for JSON lines).
    parse_unterminated_tail: ClassVar[bool] = False

    def __init__(self) -> None:
        self._lines_before = 0  # newlines consumed before the current chunk
        self._uncounted = b""  # a consumed chunk whose newlines are counted when needed
        self.last_train_step: int | None = None

    @property
    def lines_before(self) -> int:
        """Newlines consumed before the current chunk."""
        if self._uncounted:
            self._lines_before += self._uncounted.count(b"\n")
            self._uncounted = b""
        return self._lines_before

    @lines_before.setter
    def lines_before(self, value: int) -> None:
        self._uncounted = b""
        self._lines_before = value

    @abstractmethod
    def parse_lines(self, data: bytes, offset: int, out: RecordBuilder) -> None:
        """Parse ``data``, made of whole lines, found at file ``offset``."""

    def feed(self, data: bytes, offset: int, last: bool = False) -> tuple[Parsed, int]:
        end = data.rfind(b"\n") + 1
        out = RecordBuilder()
        if end:
            chunk = data[:end] if end < len(data) else data
            before = self.lines_before
            self.parse_lines(chunk, offset, out)
            if last:  # counted only if a later line number is asked for after all
                self._uncounted = chunk
            else:
                self.lines_before = before + chunk.count(b"\n")
        return out.build(), end

    def finish(self, data: bytes, offset: int) -> Parsed:
        out = RecordBuilder()
        if data and self.parse_unterminated_tail:
            self.parse_lines(data, offset, out)
        return out.build()

    def line_number(self, data: bytes, pos: int) -> int:
        """The 1-based line number in the file of byte ``pos`` of the current chunk."""
        return self.lines_before + data.count(b"\n", 0, pos) + 1

    def track_train_steps(
        self, data: bytes, offsets: np.ndarray, steps: np.ndarray, out: RecordBuilder, base: int
    ) -> None:
        """Note a restart wherever a train step goes back (TensorBoard's preemption rule)."""
        if len(steps) == 0:
            return
        prev = np.empty(len(steps), np.int64)
        prev[0] = steps[0] if self.last_train_step is None else self.last_train_step
        prev[1:] = steps[:-1]
        for i in np.flatnonzero(steps < prev):
            off = int(offsets[i])
            out.restart(off, int(steps[i]), self.line_number(data, off - base))
        self.last_train_step = int(steps[-1])


class PerLineParser(LineParser):
    """A line parser that handles one non-blank line at a time (JSON lines, CSV rows)."""

    def parse_lines(self, data: bytes, offset: int, out: RecordBuilder) -> None:
        start = 0
        line_no = self.lines_before
        while start < len(data):
            end = data.find(b"\n", start)
            end = len(data) if end < 0 else end + 1
            line_no += 1
            raw = data[start:end]
            if raw.strip():
                self.parse_line(raw, offset + start, line_no, out)
            start = end

    @abstractmethod
    def parse_line(self, raw: bytes, offset: int, line_no: int, out: RecordBuilder) -> None:
        """Parse one line (with its newline) found at file ``offset``, line ``line_no``."""


class WholeFileParser(Parser):
    """A parser of files that are rewritten whole (one JSON document, a rewritten CSV)."""

    def feed(self, data: bytes, offset: int, last: bool = False) -> tuple[Parsed, int]:
        return RecordBuilder().build(), 0

    def finish(self, data: bytes, offset: int) -> Parsed:
        out = RecordBuilder()
        self.parse_document(data, out)
        return out.build()

    @abstractmethod
    def parse_document(self, data: bytes, out: RecordBuilder) -> None:
        """Parse the whole file."""


class LogFormat(ABC):
    """One log format: how to recognise it by content and how to parse it."""

    name: ClassVar[str]
    title: ClassVar[str]
    #: The file is rewritten whole rather than appended to (tailing re-reads it).
    whole_file: ClassVar[bool] = False

    @abstractmethod
    def sniff(self, head: bytes, path: str) -> bool:
        """Whether the first bytes of a file (up to 256 KiB) look like this format."""

    def sniff_with(self, head: bytes, path: str, options: Mapping[str, Any] | None) -> bool:
        """``sniff`` given the user's reader options (a mapped step column, say)."""
        return self.sniff(head, path)

    @abstractmethod
    def new_parser(self, options: Mapping[str, Any] | None = None) -> Parser:
        """A fresh parser for one file."""
