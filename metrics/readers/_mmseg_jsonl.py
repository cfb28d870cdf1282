"""The JSON-lines engine of the MMSeg JSON readers: lines in, column blocks of records out.

A piece of lines is decoded column-wise where lines share a layout (:mod:`._jsonl_layout`:
numpy, no Python per line); the other lines (metadata, ``NaN``, an ``lr`` dict, odd spacing)
are parsed by orjson, or the standard library for ``NaN``. Records are then grouped by key set
exactly as parsing every line would group them, so both paths give the same table.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import orjson

from metrics.readers import _jsonl_layout as layouts
from metrics.readers._jsonl_blocks import Block, Columns, Member, assemble, member_of_records
from metrics.readers.base import LineParser, RecordBuilder

_PAD = bytes(layouts.PAD)


@dataclass
class Run:
    """Lines of one piece that fit one layout: their line indices and decoded numbers."""

    layout: layouts.Layout
    lines: np.ndarray
    values: np.ndarray


class Batch:
    """The records of one piece in file order: line offsets, column blocks, dicts on demand."""

    def __init__(self, offs: np.ndarray, buf: bytes, starts: np.ndarray, ends: np.ndarray):
        self.offs = offs  # file offset of each record's line
        self.blocks: list[Block] = []
        self.parsed: dict[int, dict[str, Any]] = {}  # records parsed so far, by position
        self._buf = buf
        self._starts = starts  # where each record's line is in ``buf``
        self._ends = ends

    def __len__(self) -> int:
        return len(self.offs)

    def record(self, j: int) -> dict[str, Any]:
        """Record ``j`` as parsed JSON (a decoded line is parsed when asked: rarely)."""
        rec = self.parsed.get(j)
        if rec is None:
            rec = self.parsed[j] = orjson.loads(self._buf[self._starts[j] : self._ends[j]])
        return rec


class JsonLinesParser(LineParser):
    """JSON lines parsed in pieces and handed on column-wise (fast on million-line logs)."""

    parse_unterminated_tail = True
    batch_bytes: ClassVar[int] = 4 << 20
    #: decode lines of a repeated layout with numpy (off: every line goes through orjson)
    fast: ClassVar[bool] = True
    #: lines left in a piece worth matching a layout on; layouts tried per piece
    min_run: ClassVar[int] = 32
    max_layouts: ClassVar[int] = 8
    #: lines of a piece whose numbers tell a layout which number shapes to expect
    sample_lines: ClassVar[int] = 8

    def parse_lines(self, data: bytes, offset: int, out: RecordBuilder) -> None:
        pos = 0
        lines_before = 0
        while pos < len(data):  # pieces of ~batch_bytes, cut after a newline
            end = data.rfind(b"\n", pos, pos + self.batch_bytes) + 1
            end = end if end > pos else data.find(b"\n", pos) + 1 or len(data)
            lines_before += self._parse_piece(data, pos, end, lines_before, offset, out)
            pos = end

    def _parse_piece(
        self, data: bytes, pos: int, end: int, lines_before: int, offset: int, out: RecordBuilder
    ) -> int:
        """Parse ``data[pos:end]`` (whole lines); returns its number of lines."""
        pad = len(_PAD)
        nl = np.flatnonzero(np.frombuffer(data, np.uint8, end - pos, pos) == 10) + pad
        starts = np.concatenate(([pad], nl + 1))
        ends = np.append(nl, end - pos + pad)
        if starts[-1] == ends[-1]:  # nothing after the last newline
            starts, ends = starts[:-1], ends[:-1]
        todo = np.flatnonzero(ends > starts)
        buf = b"".join((_PAD, memoryview(data)[pos:end], _PAD))  # gathers stay inside
        runs: list[Run] = []
        if self.fast:
            runs, todo = self._decode(buf, starts, ends, todo)
        lines = [buf[s:e] for s, e in zip(starts[todo].tolist(), ends[todo].tolist(), strict=True)]
        recs, kept = self._load(lines, todo.tolist(), lines_before, out)
        order = np.sort(np.concatenate([r.lines for r in runs] + [np.array(kept, np.int64)]))
        if len(order):
            batch = Batch(offset + pos - pad + starts[order], buf, starts[order], ends[order])
            at = np.searchsorted(order, np.array(kept, np.int64))
            batch.parsed.update(zip(at.tolist(), recs, strict=True))
            batch.blocks = assemble(_members(runs, order, recs, at), batch.record)
            self.handle(batch, data, offset, out)
        return len(starts)

    def _decode(
        self, buf: bytes, starts: np.ndarray, ends: np.ndarray, todo: np.ndarray
    ) -> tuple[list[Run], np.ndarray]:
        """Runs of lines fitting the layouts of their first lines, and the lines left over."""
        runs: list[Run] = []
        rest = [np.empty(0, np.int64)]
        tried = 0
        while len(todo) >= self.min_run and tried < self.max_layouts:
            tried += 1
            first = int(todo[0])
            sample = todo[:: max(1, len(todo) // self.sample_lines)][1 : self.sample_lines]
            layout = layouts.layout_of(
                buf[starts[first] : ends[first]],
                [buf[starts[j] : ends[j]] for j in sample.tolist()],
            )
            if layout is None:
                rest.append(todo[:1])
                todo = todo[1:]
                continue
            ok, values = layouts.match(buf, starts[todo], ends[todo], layout)
            if ok.any():
                runs.append(Run(layout, todo[ok], values[:, ok]))
            if not ok[0]:
                rest.append(todo[:1])
            todo = todo[1:][~ok[1:]]
        rest.append(todo)
        return runs, np.sort(np.concatenate(rest))

    def _load(
        self, lines: list[bytes], idx: list[int], first: int, out: RecordBuilder
    ) -> tuple[list[dict[str, Any]], list[int]]:
        """Lines parsed as JSON objects (one orjson call if it can), with their line indices."""
        if not lines:
            return [], []
        try:
            # ",\n": a string cannot run on into the next line (raw newlines are invalid JSON)
            # and a count check catches lines merged by an unclosed bracket
            recs = orjson.loads(b"[" + b",\n".join(lines) + b"]")
            if len(recs) == len(lines) and all(type(r) is dict for r in recs):
                return recs, idx
        except orjson.JSONDecodeError:
            pass
        good: list[dict[str, Any]] = []
        kept: list[int] = []
        for i, line in zip(idx, lines, strict=True):
            if line.isspace():
                continue
            rec = _loads(line)
            if isinstance(rec, dict):
                good.append(rec)
                kept.append(i)
            else:
                out.bad(self.lines_before + first + i + 1, "not a JSON object", line)
        return good, kept

    @abstractmethod
    def handle(self, batch: Batch, data: bytes, base: int, out: RecordBuilder) -> None:
        """Records of parsed lines (in file order); ``batch.offs`` are offsets in ``data``,
        which starts at file offset ``base``."""


def _members(
    runs: list[Run], order: np.ndarray, recs: list[dict[str, Any]], at: np.ndarray
) -> list[Member]:
    """Decoded runs and parsed records as members of column blocks (positions in ``order``)."""
    members = []
    for run in runs:
        pos = np.searchsorted(order, run.lines)
        cols: Columns = dict(zip(run.layout.slots, run.values, strict=True))
        cols.update({k: (v,) * len(pos) for k, v in run.layout.strings.items()})
        members.append(Member(run.layout.keys, pos, {k: cols[k] for k in run.layout.keys}))
    return members + member_of_records(recs, at) if recs else members


def _loads(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(line)  # accepts NaN / Infinity
    except (ValueError, RecursionError):  # RecursionError: deeply nested brackets
        return None
