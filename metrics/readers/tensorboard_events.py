"""TensorBoard event files (``events.out.tfevents.*``): every scalar point, read fast.

Unlike ``EventAccumulator`` (10,000 points per tag by default) every point is kept. Events of
one ``simple_value`` (torch.utils.tensorboard, tensorboardX, Detectron2, MMSeg, HF, Lightning)
or one TF2 float/double scalar tensor are decoded in bulk with numpy straight from the protobuf
wire format; any other event goes through the ``tensorboard`` package's ``Event`` proto. Tensor
values count once their tag's first metadata names the ``scalars`` plugin (TensorBoard's rule).
Images, histograms, audio, graphs and other plugins' tensors are skipped.

Integrity: every record's length is checked against its CRC, and the data CRC of every record
but media and graphs (which hold nothing read). A bad one ends the read, noted: nothing after
it can be framed (bytes inserted in or lost from a payload leave its verified length pointing
inside other bytes, where even a copy of a whole record would pass both CRCs).
Restarts: a SessionLog START at step ``s`` that voids earlier points (TensorBoard's rule), or a
train tag's step going back; one restart is noted per relaunch, however many tags go back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from google.protobuf.message import DecodeError
from tensorboard.compat.proto import event_pb2

from metrics.readers.base import LogFormat, Parsed, Parser, RecordBuilder
from metrics.readers.mapping import ColumnMapping, Target
from metrics.readers.registry import register
from metrics.readers.tensorboard_tags import TagNamer
from metrics.readers.tensorboard_wire import (
    Points,
    SimpleScalars,
    scan_simple,
    tag_codes,
    take_event,
)
from metrics.readers.tfrecord import (
    HEADER,
    HEADER_SIZE,
    Framing,
    footer_crcs,
    frame_records,
    masked_crc32c,
    masked_crc32c_many,
)

_START = event_pb2.SessionLog.START


_BATCH_FIELDS = ("ids", "offsets", "steps", "values", "walls", "tensor")


@dataclass
class _Batch:
    """Scalar points of one piece of the file, as parallel arrays."""

    ids: np.ndarray  # tag ids
    offsets: np.ndarray
    steps: np.ndarray
    values: np.ndarray
    walls: np.ndarray
    tensor: np.ndarray  # the point came from a tensor value

    def take(self, keep: np.ndarray) -> _Batch:
        """The points where ``keep`` is set."""
        return _Batch(*(getattr(self, f)[keep] for f in _BATCH_FIELDS))


class TensorBoardParser(Parser):
    """Stateful reader of one event file, fed in file order."""

    def __init__(self, mapping: ColumnMapping | None = None) -> None:
        self._dead = False  # a header failed its CRC: nothing after it is read
        self._records_before = 0
        self._plugins: dict[str, str] = {}  # tag → plugin named by its first metadata
        self._tag_ids: dict[str, int] = {}
        self._names: list[str] = []
        self._info: dict[int, Target | None] = {}
        self._namer = TagNamer(mapping or ColumnMapping())
        self._last: dict[int, tuple[int, int]] = {}  # tag id → (last step, its offset)
        self._max_step = -(2**63)  # the largest step read so far
        self._restart = (-1, 0)  # (offset, step) of the last restart noted

    def feed(self, data: bytes, offset: int, last: bool = False) -> tuple[Parsed, int]:
        out = RecordBuilder()
        if self._dead or not data:
            return out.build(), len(data)
        framing = frame_records(data)
        header_bad = framing.corrupt
        if len(framing.starts):
            buf = np.frombuffer(data, np.uint8)
            simple = scan_simple(buf, framing.starts, framing.lengths)
            framing, simple = self._verified(buf, framing, simple, offset, out)
            header_bad &= not self._dead  # a data CRC failed before the bad header
            if len(framing.starts):
                self._read(data, buf, offset, framing, simple, out)
        if header_bad:
            self._dead = True
            index = self._records_before + len(framing.starts) + 1
            reason = f"record header at byte {offset + framing.end} fails its CRC; rest not read"
            out.bad(index, reason, data[framing.end : framing.end + HEADER_SIZE].hex())
        self._records_before += len(framing.starts)
        return out.build(), len(data) if self._dead else framing.end

    def finish(self, data: bytes, offset: int) -> Parsed:
        out = RecordBuilder()
        if data and not self._dead:
            need = HEADER_SIZE
            if len(data) >= HEADER_SIZE:
                need += HEADER.unpack_from(data)[0] + 4
            reason = f"truncated record at byte {offset}: {len(data)} of {need} bytes"
            out.bad(self._records_before + 1, reason, data[:HEADER_SIZE].hex())
        return out.build()

    def _read(
        self,
        data: bytes,
        buf: np.ndarray,
        offset: int,
        framing: Framing,
        simple: SimpleScalars,
        out: RecordBuilder,
    ) -> None:
        """Scalars of records whose data CRC verified (``_verified``)."""
        good = np.flatnonzero(simple.ok)
        codes, names = tag_codes(buf, simple.tag_at[good], simple.tag_len[good])
        rest = np.flatnonzero(~simple.ok & ~simple.skip)
        points = self._slow_points(data, framing, rest, offset, out)
        name_ids = np.array([self._tag_id(n) for n in names], np.int64)
        slow_ids = np.array([self._tag_id(t) for t in points.tags], np.int64)
        batch = _Batch(
            np.concatenate([name_ids[codes], slow_ids]),
            np.concatenate([offset + framing.starts[good], np.array(points.offsets, np.int64)]),
            np.concatenate([simple.steps[good], np.array(points.steps, np.int64)]),
            np.concatenate([simple.values[good], np.array(points.values, np.float64)]),
            np.concatenate([simple.walls[good], np.array(points.walls, np.float64)]),
            np.concatenate([simple.tensor[good], np.array(points.tensor, bool)]),
        )
        fast_meta = np.concatenate([simple.meta[good], np.zeros(len(slow_ids), bool)])
        if batch.tensor.any() or points.metas:
            batch = batch.take(self._scalar_tensors(batch, fast_meta, points.metas))
        self._emit(
            batch,
            points.starts,
            offset,
            framing,
            out,
        )

    def _verified(
        self,
        buf: np.ndarray,
        framing: Framing,
        simple: SimpleScalars,
        offset: int,
        out: RecordBuilder,
    ) -> tuple[Framing, SimpleScalars]:
        """The records before the first whose data CRC fails (media and graphs unchecked: they
        hold nothing read); a failure ends the read, since the framing after it is unproven."""
        rows = np.flatnonzero(~simple.skip)
        starts, lengths = framing.starts[rows], framing.lengths[rows]
        stored = footer_crcs(buf, starts, lengths)
        failed = rows[masked_crc32c_many(buf, starts + HEADER_SIZE, lengths) != stored]
        if not len(failed):
            return framing, simple
        row = int(failed[0])
        self._dead = True
        at = offset + int(framing.starts[row])
        out.bad(
            self._records_before + row + 1,
            f"record at byte {at} fails its data CRC; rest not read",
            "skipped",
        )
        kept = Framing(framing.starts[:row], framing.lengths[:row], at - offset, True)
        cut = SimpleScalars(*(getattr(simple, f.name)[:row] for f in fields(simple)))
        return kept, cut

    def _slow_points(
        self,
        data: bytes,
        framing: Framing,
        rows: np.ndarray,
        offset: int,
        out: RecordBuilder,
    ) -> Points:
        """Scalars and restarts of the events the bulk decoder left, through the Event proto."""
        events: dict[int, Any] = {}
        broken: list[int] = []  # data CRC verified, yet not an Event
        view = memoryview(data)
        for row in rows.tolist():
            a = int(framing.starts[row]) + HEADER_SIZE
            try:
                event = event_pb2.Event.FromString(view[a : a + int(framing.lengths[row])])
            except DecodeError:
                broken.append(row)
                continue
            if event.HasField("summary") or (
                event.HasField("session_log") and event.session_log.status == _START
            ):
                events[row] = event
        points = Points()
        for row in sorted([*events, *broken]):
            at = offset + int(framing.starts[row])
            if row in events:
                take_event(events[row], at, points, self._plugins)
            else:
                out.bad(self._records_before + row + 1, "not an Event record", f"byte {at}")
        return points

    def _scalar_tensors(
        self, batch: _Batch, fast_meta: np.ndarray, metas: list[tuple[int, str, str]]
    ) -> np.ndarray:
        """Which points to keep: tensors count only once their tag's first metadata (in file
        order, as TensorBoard reads it) has named the scalars plugin."""
        meta_ids, first = np.unique(batch.ids[fast_meta], return_index=True)
        meta_offs = batch.offsets[fast_meta][first]
        seen = [
            (int(o), self._names[int(i)], "scalars")
            for o, i in zip(meta_offs, meta_ids, strict=True)
        ]
        first_at: dict[str, int] = {}
        for off, tag, plugin in sorted([*metas, *seen]):
            if tag not in self._plugins:
                self._plugins[tag] = plugin
                first_at[tag] = off
        scalar = np.array([self._plugins.get(n) == "scalars" for n in self._names], bool)
        since = np.array([first_at.get(n, -1) for n in self._names], np.int64)
        ids = batch.ids
        keep: np.ndarray = ~batch.tensor | (scalar[ids] & (batch.offsets >= since[ids]))
        return keep

    def _tag_id(self, tag: str) -> int:
        tid = self._tag_ids.get(tag)
        if tid is None:
            tid = self._tag_ids[tag] = len(self._names)
            self._names.append(tag)
        return tid

    def _emit(
        self,
        batch: _Batch,
        session_starts: list[tuple[int, int]],
        offset: int,
        framing: Framing,
        out: RecordBuilder,
    ) -> None:
        """Name new tags, note restarts, and add every tag's points to ``out``."""
        order = np.lexsort((batch.offsets, batch.ids))  # by tag, then file order
        ids, offs, steps = batch.ids[order], batch.offsets[order], batch.steps[order]
        values, walls = batch.values[order], batch.walls[order]
        cuts = (np.flatnonzero(np.diff(ids)) + 1).tolist()
        segments = [(a, b) for a, b in zip([0, *cuts], [*cuts, len(ids)], strict=True) if a < b]
        for _, tid in sorted((int(offs[a]), int(ids[a])) for a, _ in segments):
            if tid not in self._info:
                self._info[tid] = self._namer.name(self._names[tid])
        infos = [self._info[int(ids[a])] for a, _ in segments]
        candidates: list[tuple[int, int, int | None]] = []
        for (a, b), info in zip(segments, infos, strict=True):
            tid = int(ids[a])
            if info is not None and info.split == "train":
                candidates.extend(self._steps_back(tid, offs[a:b], steps[a:b]))
            self._last[tid] = (int(steps[b - 1]), int(offs[b - 1]))
        for off, step in session_starts:  # TensorBoard's rule, if it voids anything
            before = steps[offs < off]
            top = max(int(before.max()) if len(before) else -1, self._max_step)
            if top >= step:
                candidates.append((off, step, None))
        self._note_restarts(sorted(candidates), offset, framing, out)
        if len(steps):
            self._max_step = max(self._max_step, int(steps.max()))
        for (a, b), info in zip(segments, infos, strict=True):
            if info is not None:
                vals = values[a:b] / 100.0 if info.percent else values[a:b]
                out.add_many(info.split, info.metric, offs[a:b], steps[a:b], vals, walls[a:b])

    def _steps_back(
        self, tid: int, offs: np.ndarray, steps: np.ndarray
    ) -> list[tuple[int, int, int | None]]:
        """(offset, step, offset of the previous point) where this tag's step goes back."""
        last = self._last.get(tid)
        prev_steps = np.concatenate([[last[0] if last else steps[0]], steps[:-1]])
        prev_offs = np.concatenate([[last[1] if last else -1], offs[:-1]])
        back = np.flatnonzero(steps < prev_steps)
        return [(int(offs[i]), int(steps[i]), int(prev_offs[i])) for i in back]

    def _note_restarts(
        self,
        candidates: list[tuple[int, int, int | None]],
        offset: int,
        framing: Framing,
        out: RecordBuilder,
    ) -> None:
        """One restart per relaunch: a tag going back whose previous point came before the last
        restart belongs to that relaunch, unless it goes back further."""
        for off, step, prev_off in candidates:
            last_off, last_step = self._restart
            if prev_off is None or prev_off > last_off or step < last_step:
                row = int(np.searchsorted(framing.starts, off - offset))
                out.restart(off, step, self._records_before + row + 1)
                self._restart = (off, step)


class TensorBoardFormat(LogFormat):
    """TensorBoard event files written by torch, tensorboardX, TF, Keras, Lightning, HF…"""

    name = "tensorboard"
    title = "TensorBoard event file"

    def sniff(self, head: bytes, path: str) -> bool:
        """The first record is an intact Event whose ``file_version`` is ``brain.Event:…``."""
        if len(head) < HEADER_SIZE:
            return False
        length, crc = HEADER.unpack_from(head)
        if length > len(head) - HEADER_SIZE or masked_crc32c(head[:8]) != crc:
            return False
        try:
            event = event_pb2.Event.FromString(head[HEADER_SIZE : HEADER_SIZE + length])
        except DecodeError:
            return False
        return bool(event.file_version.startswith("brain.Event:"))

    def new_parser(self, options: Mapping[str, Any] | None = None) -> Parser:
        return TensorBoardParser(ColumnMapping.from_options(options))


register(TensorBoardFormat())
