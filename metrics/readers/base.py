"""The reader contract: a log format sniffs content and makes stateful parsers.

A parser is fed bytes in file order (a whole file at once, or a growing file piece by piece)
and returns the records of the complete units it consumed, so tailing a log and reading it in
one go give the same records. Records carry the byte offset of the line they came from; that
order is what the restart rule (:mod:`metrics.readers.restarts`) needs.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
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
    """A relaunch or purge: earlier records with step >= ``step`` are void.

    ``series`` confines it to one (split, metric): TensorBoard's per-tag rule for legacy event
    files. ``earlier_files`` marks one that voids nothing in its own file (a SessionLog START
    before any later step): it can only void records of earlier files of the same run folder,
    and is reported only if it does (:mod:`metrics.runs.merge`).
    """

    offset: int
    step: int
    line: int
    series: tuple[str, str] | None = None
    earlier_files: bool = False


@dataclass
class LogMeta:
    """What a log states about its run beside its records; each reader fills what it sees.

    ``num_classes`` and ``ignore_index`` come from a run's config (``metrics.facts``), the rest
    from the log itself. A later part of a log, or a more precise file, wins (``update``).
    """

    planned_steps: int | None = None
    class_names: list[str] | None = None
    num_classes: int | None = None
    ignore_index: int | None = None
    val_images: int | None = None
    best_miou: float | None = None  # the framework's own "best model" line
    best_step: int | None = None
    best_checkpoint: dict[str, Any] | None = None
    last_epoch: int | None = None
    train_summary: dict[str, Any] | None = None  # HF's end-of-training summary
    ended: bool = False  # the log says training ended (HF's summary, Detectron2's final test)
    renamed_tags: dict[str, str] | None = None  # TensorBoard tags kept apart by a suffix

    def update(self, other: LogMeta) -> None:
        """Take every value ``other`` states."""
        for f in fields(self):
            value = getattr(other, f.name)
            if value is not None and value is not False:
                setattr(self, f.name, value)

    def stated(self) -> dict[str, Any]:
        """The values the log states, by name (JSON-ready)."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) is not None and getattr(self, f.name) is not False
        }

    def __bool__(self) -> bool:
        return bool(self.stated())

    @classmethod
    def of(cls, data: LogMeta | Mapping[str, Any] | None) -> LogMeta:
        """``data`` as a ``LogMeta`` (a mapping of its field names, for scripts and tests)."""
        if isinstance(data, LogMeta):
            return data
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data or {}) - known)
        if unknown:
            raise TypeError(f"unknown run meta {unknown}; known: {sorted(known)}")
        return cls(**dict(data or {}))


def merged_meta(metas: Iterable[LogMeta]) -> LogMeta:
    """One ``LogMeta`` from several, later ones winning."""
    out = LogMeta()
    for m in metas:
        out.update(m)
    return out


class Parsed:
    """What a parser returns for one piece of input.

    Records a parser collected are assembled into a frame on first use, so a whole read can
    assemble all its pieces into one table at once (``assemble``) instead of copying twice.
    """

    def __init__(
        self,
        records: pd.DataFrame | None = None,
        restarts: Sequence[Restart] = (),
        bad_lines: Sequence[BadLine] = (),
        meta: LogMeta | None = None,
        *,
        pending: RecordBuilder | None = None,
    ) -> None:
        self._records = records
        self._pending = pending if records is None else None
        self.restarts = list(restarts)
        self.bad_lines = list(bad_lines)
        self.meta = meta if meta is not None else LogMeta()

    @property
    def records(self) -> pd.DataFrame:
        """The records as a frame with the ``RECORD_COLUMNS``."""
        if self._records is None:
            self._records = assemble([self._pending] if self._pending else [])
            self._pending = None
        return self._records

    @property
    def pending(self) -> RecordBuilder | None:
        """The collected records not yet assembled into ``records`` (None once they are)."""
        return self._pending


@dataclass(frozen=True)
class _Block:
    """Records added as arrays, after the first ``cut`` single records (the order added)."""

    cut: int
    series: tuple[tuple[str, str], ...]  # (split, metric) of each series code
    codes: np.ndarray | None  # each record's series code; None: all the first series
    offsets: np.ndarray
    steps: np.ndarray
    values: np.ndarray
    walls: np.ndarray | None


class RecordBuilder:
    """Collects records column-wise, in the order added; cheap for one record at a time and
    for whole arrays."""

    def __init__(self) -> None:
        self._offsets: list[int] = []
        self._steps: list[int] = []
        self._splits: list[str] = []
        self._metrics: list[str] = []
        self._values: list[float] = []
        self._walls: list[float] = []
        self._blocks: list[_Block] = []
        self.restarts: list[Restart] = []
        self.bad_lines: list[BadLine] = []
        self.meta = LogMeta()

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
        self._add_block(((split, metric),), None, offsets, steps, values, wall_times)

    def add_rows(
        self,
        series: Sequence[tuple[str, str]],
        codes: np.ndarray,
        offsets: np.ndarray,
        steps: np.ndarray,
        values: np.ndarray,
        wall_times: np.ndarray | None = None,
    ) -> None:
        """Add records of several series from aligned arrays, in their order: record ``i`` is
        of the (split, metric) ``series[codes[i]]``."""
        self._add_block(
            tuple(series), np.asarray(codes, np.int64), offsets, steps, values, wall_times
        )

    def _add_block(
        self,
        series: tuple[tuple[str, str], ...],
        codes: np.ndarray | None,
        offsets: np.ndarray,
        steps: np.ndarray,
        values: np.ndarray,
        wall_times: np.ndarray | None,
    ) -> None:
        if len(steps) == 0:
            return
        self._blocks.append(
            _Block(
                len(self._steps),
                series,
                codes,
                np.asarray(offsets, np.int64),
                np.asarray(steps, np.int64),
                np.asarray(values, np.float64),
                None if wall_times is None else np.asarray(wall_times, np.float64),
            )
        )

    def restart(
        self,
        offset: int,
        step: int,
        line: int,
        series: tuple[str, str] | None = None,
        earlier_files: bool = False,
    ) -> None:
        """Note a relaunch that preempts earlier records with step >= ``step`` (see Restart)."""
        self.restarts.append(Restart(offset, step, line, series, earlier_files))

    def bad(self, line: int, reason: str, text: bytes | str) -> None:
        """Note a skipped line (its text is kept short)."""
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        self.bad_lines.append(BadLine(line, reason, text.strip()[:200]))

    def __len__(self) -> int:
        return len(self._steps) + sum(len(b.steps) for b in self._blocks)

    def build(self) -> Parsed:
        """What was collected, records to be assembled on first use."""
        return Parsed(None, self.restarts, self.bad_lines, self.meta, pending=self)

    def _fill(self, columns: _Columns, at: int, code: Mapping[str, int]) -> int:
        """Write the records into ``columns`` from row ``at``; returns the row after them."""
        offsets, steps, splits, metrics, values, walls = columns
        split_code = {s: i for i, s in enumerate(SPLITS)}
        done = 0
        for b in self._blocks:
            at = self._fill_single(columns, at, done, b.cut, code, split_code)
            done = b.cut
            end = at + len(b.steps)
            if offsets is not None:
                offsets[at:end] = b.offsets
            steps[at:end] = b.steps
            if b.codes is None:
                splits[at:end] = split_code[b.series[0][0]]
                metrics[at:end] = code[b.series[0][1]]
            else:
                splits[at:end] = np.array([split_code[s] for s, _ in b.series])[b.codes]
                metrics[at:end] = np.array([code.get(m, -1) for _, m in b.series])[b.codes]
            values[at:end] = b.values
            walls[at:end] = np.nan if b.walls is None else b.walls
            at = end
        return self._fill_single(columns, at, done, len(self._steps), code, split_code)

    def _fill_single(
        self,
        columns: _Columns,
        at: int,
        lo: int,
        hi: int,
        code: Mapping[str, int],
        split_code: Mapping[str, int],
    ) -> int:
        """Write single records ``lo:hi`` from row ``at``; returns the row after them."""
        if hi == lo:
            return at
        offsets, steps, splits, metrics, values, walls = columns
        end = at + hi - lo
        whole = lo == 0 and hi == len(self._steps)  # no slices to copy
        if offsets is not None:
            offsets[at:end] = self._offsets if whole else self._offsets[lo:hi]
        steps[at:end] = self._steps if whole else self._steps[lo:hi]
        splits[at:end] = [split_code[s] for s in self._splits[lo:hi]]
        metrics[at:end] = [code[m] for m in self._metrics[lo:hi]]
        values[at:end] = self._values if whole else self._values[lo:hi]
        walls[at:end] = self._walls if whole else self._walls[lo:hi]
        return end

    def _names(self) -> set[str]:
        names = set(self._metrics)
        for b in self._blocks:
            used = range(len(b.series)) if b.codes is None else np.unique(b.codes).tolist()
            names.update(b.series[i][1] for i in used)
        return names


_Columns = tuple[np.ndarray | None, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def assemble(builders: Sequence[RecordBuilder], offsets: bool = True) -> pd.DataFrame:
    """One frame of the records of ``builders``, in order: each column allocated once and
    filled block by block. Without ``offsets`` the frame has no ``offset`` column (a whole
    read without relaunches does not need it)."""
    names: list[str] = sorted(set().union(*(b._names() for b in builders)))
    code = {name: i for i, name in enumerate(names)}
    total = sum(len(b) for b in builders)
    columns: _Columns = (
        np.empty(total, np.int64) if offsets else None,
        np.empty(total, np.int64),
        np.empty(total, np.int8),
        np.empty(total, code_dtype(len(names))),
        np.empty(total, np.float64),
        np.empty(total, np.float64),
    )
    at = 0
    for b in builders:
        at = b._fill(columns, at, code)
    offs, steps, splits, metrics, values, walls = columns
    frame = {
        "step": steps,
        "split": codes_categorical(splits, SPLITS),
        "metric": codes_categorical(metrics, names),
        "value": values,
        "wall_time": walls,
    }
    return frame_of(frame if offs is None else {"offset": offs, **frame})


def code_dtype(categories: int) -> type[np.signedinteger[Any]]:
    """The integer type pandas keeps category codes in (a wider one would be copied)."""
    for dtype in (np.int8, np.int16, np.int32):
        if categories < np.iinfo(dtype).max:
            return dtype
    return np.int64


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
        """Note a restart wherever a train step goes back: a text log's relaunch re-logs
        everything, so the step going back is the relaunch (:mod:`metrics.readers.restarts`)."""
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
    #: The files of one folder are one run, read in file-name order, a later file's restarts
    #: voiding records of earlier ones (TensorBoard event files: one per writer launch).
    folder_is_run: ClassVar[bool] = False
    #: Where detection tries this format: binary formats first (0–99), JSON with distinctive
    #: keys (100–199), CSV (200–299), text logs (300–399), generic readers last (900+).
    detect_rank: ClassVar[int] = 500
    #: Which file wins when two files of one launch carry the same metric (lower wins): full
    #: precision before text logs, generic readers last. None: the detection rank.
    precision_rank: ClassVar[int | None] = None
    #: The name of the framework's canonical file: kept when identical twins are found.
    canonical_names: ClassVar[tuple[str, ...]] = ()
    #: Folders (one path part, a regex) that hold a run's files but do not name the run.
    inner_dirs: ClassVar[str] = ""

    @property
    def precision(self) -> int:
        """The rank that decides between files carrying the same metric (lower wins)."""
        return self.detect_rank if self.precision_rank is None else self.precision_rank

    @abstractmethod
    def sniff(self, head: bytes, path: str) -> bool:
        """Whether the first bytes of a file (up to 256 KiB) look like this format."""

    def sniff_with(self, head: bytes, path: str, options: Mapping[str, Any] | None) -> bool:
        """``sniff`` given the user's reader options (a mapped step column, say)."""
        return self.sniff(head, path)

    @abstractmethod
    def new_parser(self, options: Mapping[str, Any] | None = None) -> Parser:
        """A fresh parser for one file."""

    def new_parser_for(self, path: str, options: Mapping[str, Any] | None = None) -> Parser:
        """A fresh parser for the file at ``path`` (formats whose naming depends on where the
        file lies override this; the default ignores the path)."""
        return self.new_parser(options)
