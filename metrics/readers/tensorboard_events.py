"""TensorBoard event files (``events.out.tfevents.*``): every scalar point, read fast.

Unlike ``EventAccumulator`` (10,000 points per tag by default) every point is kept. Events of
one ``simple_value`` (torch.utils.tensorboard, tensorboardX, Detectron2, MMSeg, HF, Lightning)
or one TF2 float/double scalar tensor are decoded in bulk with numpy straight from the protobuf
wire format; any other event is decoded one at a time (:mod:`metrics.readers.tensorboard_proto`,
no ``tensorboard`` package needed). Tensor
values count if their tag's first metadata names the ``scalars`` plugin (TensorBoard's rule),
those logged before that metadata too: they are held until it comes. Images, histograms, audio,
graphs and other plugins' tensors are skipped.

Integrity: every record's length is checked against its CRC, and so is every record's data.
A damaged image, histogram, audio or graph record is reported and passed over (its verified
length still frames what follows). Any other bad record ends the read, noted: nothing after it
can be trusted (bytes inserted in or lost from a payload leave its verified length pointing
inside other bytes, where even a copy of a whole record would pass both CRCs).

Restarts, as TensorBoard's ``EventAccumulator`` applies them: in files of ``file_version``
``brain.Event:2`` and later only a SessionLog START at step ``s`` voids earlier points with step
``>= s`` (every tag; a writer's ``purge_step`` writes one); a step going back on its own keeps
every point. In legacy files (``brain.Event:1``) an event whose step is below the previous
event's voids the points of its own tags from that step on. Distinct tags stay distinct series:
a tag whose name another tag of the file already took is suffixed with itself
(``loss [train/loss]``) and listed in ``meta.renamed_tags``.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from metrics.readers.base import LogFormat, Parsed, Parser, RecordBuilder
from metrics.readers.mapping import ColumnMapping, Target
from metrics.readers.protowire import WireError
from metrics.readers.registry import register
from metrics.readers.tensorboard_proto import Event, decode_event
from metrics.readers.tensorboard_tags import TagNamer, folder_split
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

#: What a writer names its event files; an empty one is a run waiting for its first flush.
EVENT_FILE_RE = re.compile(r"(^|/)events\.out\.tfevents\.[^/]*$")

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

    def then(self, other: _Batch) -> _Batch:
        """These points followed by ``other``'s."""
        return _Batch(
            *(np.concatenate([getattr(self, f), getattr(other, f)]) for f in _BATCH_FIELDS)
        )


def file_version(text: str) -> float | None:
    """The number of a ``brain.Event:<n>`` file version (None if it is not one)."""
    _, _, number = text.partition(":")
    try:
        return float(number)
    except ValueError:
        return None


class TensorBoardParser(Parser):
    """Stateful reader of one event file, fed in file order."""

    def __init__(
        self, mapping: ColumnMapping | None = None, folder_split: str | None = None
    ) -> None:
        self._dead = False  # a record failed its CRC: nothing after it is read
        self._records_before = 0
        self._plugins: dict[str, str] = {}  # tag → plugin named by its first metadata
        self._tag_ids: dict[str, int] = {}
        self._names: list[str] = []
        self._info: dict[int, Target | None] = {}
        self._namer = TagNamer(mapping or ColumnMapping(), folder_split=folder_split)
        self._owners: dict[tuple[str, str], str] = {}  # (split, metric) → the tag that took it
        self._renamed: dict[str, str] = {}  # tag → the suffixed metric it got
        self._legacy = False  # file_version below 2: TensorBoard's per-tag out-of-order rule
        self._recent_step: int | None = None  # the highest step read so far (legacy rule)
        self._tag_top: dict[int, int] = {}  # tag id → its highest step left (legacy rule)
        self._max_step = -(2**63)  # the largest step read so far
        self._held: _Batch | None = None  # tensor points of tags whose metadata is not seen yet

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
        if self._renamed:
            out.meta.renamed_tags = dict(self._renamed)
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
        if batch.tensor.any() or points.metas or self._held is not None:
            batch = self._scalar_tensors(batch, fast_meta, points.metas)
        self._emit(batch, points.starts, offset, framing, out)

    def _verified(
        self,
        buf: np.ndarray,
        framing: Framing,
        simple: SimpleScalars,
        offset: int,
        out: RecordBuilder,
    ) -> tuple[Framing, SimpleScalars]:
        """The records before the first read one whose data CRC fails: that failure ends the
        read, since the framing after it is unproven. A damaged media or graph record before it
        is reported and passed over (nothing in it is read)."""
        stored = footer_crcs(buf, framing.starts, framing.lengths)
        crcs = masked_crc32c_many(buf, framing.starts + HEADER_SIZE, framing.lengths)
        failed = np.flatnonzero(crcs != stored)
        if not len(failed):
            return framing, simple
        ends = failed[~simple.skip[failed]]
        cut = int(ends[0]) if len(ends) else len(framing.starts)
        for row in failed[failed < cut].tolist():
            at = offset + int(framing.starts[row])
            out.bad(
                self._records_before + row + 1,
                f"record at byte {at} fails its data CRC (an image, histogram, audio or graph "
                "record); passed over",
                "skipped",
            )
        if cut == len(framing.starts):
            return framing, simple
        self._dead = True
        at = offset + int(framing.starts[cut])
        out.bad(
            self._records_before + cut + 1,
            f"record at byte {at} fails its data CRC; rest not read",
            "skipped",
        )
        kept = Framing(framing.starts[:cut], framing.lengths[:cut], at - offset, True)
        part = SimpleScalars(*(getattr(simple, f.name)[:cut] for f in fields(simple)))
        return kept, part

    def _slow_points(
        self,
        data: bytes,
        framing: Framing,
        rows: np.ndarray,
        offset: int,
        out: RecordBuilder,
    ) -> Points:
        """Scalars and restarts of the events the bulk decoder left, through the Event proto."""
        events: dict[int, Event] = {}
        broken: list[int] = []  # data CRC verified, yet not an Event
        for row in rows.tolist():
            a = int(framing.starts[row]) + HEADER_SIZE
            try:
                event = decode_event(data, a, a + int(framing.lengths[row]))
            except WireError:
                broken.append(row)
                continue
            if event.file_version:
                version = file_version(event.file_version)
                self._legacy = version is not None and version < 2
            elif event.has_summary or event.session_start:
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
    ) -> _Batch:
        """The points to read now: tensors count if their tag's first metadata (in file order,
        as TensorBoard reads it) names the scalars plugin; those of tags whose metadata has not
        come yet are held until it does (TensorBoard keeps them too)."""
        meta_ids, first = np.unique(batch.ids[fast_meta], return_index=True)
        meta_offs = batch.offsets[fast_meta][first]
        seen = [
            (int(o), self._names[int(i)], "scalars")
            for o, i in zip(meta_offs, meta_ids, strict=True)
        ]
        for _, tag, plugin in sorted([*metas, *seen]):
            self._plugins.setdefault(tag, plugin)
        if self._held is not None:
            batch, self._held = self._held.then(batch), None
        known = np.array([n in self._plugins for n in self._names], bool)
        scalar = np.array([self._plugins.get(n) == "scalars" for n in self._names], bool)
        ids = batch.ids
        held = batch.tensor & ~known[ids]
        if held.any():
            self._held = batch.take(held)
        return batch.take(~batch.tensor | scalar[ids])

    def _tag_id(self, tag: str) -> int:
        tid = self._tag_ids.get(tag)
        if tid is None:
            tid = self._tag_ids[tag] = len(self._names)
            self._names.append(tag)
        return tid

    def _name(self, tag: str) -> Target | None:
        """The tag's (split, metric): never one another tag of the file already took."""
        info = self._namer.name(tag)
        if info is None:
            return None
        owner = self._owners.setdefault((info.split, info.metric), tag)
        if owner != tag and tag not in self._namer.mapping.columns:
            info = Target(info.split, f"{info.metric} [{tag}]", info.percent)
            self._owners[(info.split, info.metric)] = tag
            self._renamed[tag] = info.metric
        return info

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
                self._info[tid] = self._name(self._names[tid])
        if self._legacy:
            self._out_of_order(batch, offset, framing, out)
        else:
            self._session_starts(session_starts, offs, steps, offset, framing, out)
        if len(steps):
            self._max_step = max(self._max_step, int(steps.max()))
        for a, b in segments:
            info = self._info[int(ids[a])]
            if info is not None:
                vals = values[a:b] / 100.0 if info.percent else values[a:b]
                out.add_many(info.split, info.metric, offs[a:b], steps[a:b], vals, walls[a:b])

    def _line(self, off: int, offset: int, framing: Framing) -> int:
        """The 1-based record number of the record at file offset ``off``."""
        return self._records_before + int(np.searchsorted(framing.starts, off - offset)) + 1

    def _session_starts(
        self,
        starts: list[tuple[int, int]],
        offs: np.ndarray,
        steps: np.ndarray,
        offset: int,
        framing: Framing,
        out: RecordBuilder,
    ) -> None:
        """A SessionLog START at step ``s`` voids every earlier point with step ``>= s``; one
        that voids nothing here may void points of earlier files of the folder."""
        for off, step in starts:
            before = steps[offs < off]
            top = max(int(before.max()) if len(before) else self._max_step, self._max_step)
            line = self._line(off, offset, framing)
            out.restart(off, step, line, earlier_files=top < step)

    def _out_of_order(
        self, batch: _Batch, offset: int, framing: Framing, out: RecordBuilder
    ) -> None:
        """Legacy files: an event whose step is below the highest step read so far voids its
        own tags' points from its step on (noted when it voids something); TensorBoard's
        ``_CheckForOutOfOrderStepAndMaybePurge``. Legacy files are rare: one loop per point."""
        order = np.argsort(batch.offsets, kind="stable")
        mark, last_off, back = self._recent_step, -1, False
        for off, step, tid in zip(
            batch.offsets[order].tolist(),
            batch.steps[order].tolist(),
            batch.ids[order].tolist(),
            strict=True,
        ):
            if off != last_off:  # a new event
                back = mark is not None and step < mark
                mark = mark if back else step
                last_off = off
            top = self._tag_top.get(tid)
            info = self._info.get(tid)
            if back and top is not None and top >= step and info is not None:
                line = self._line(off, offset, framing)
                out.restart(off, step, line, series=(info.split, info.metric))
            self._tag_top[tid] = step if back or top is None else max(top, step)
        self._recent_step = mark


class TensorBoardFormat(LogFormat):
    """TensorBoard event files written by torch, tensorboardX, TF, Keras, Lightning, HF…"""

    name = "tensorboard"
    detect_rank = 10
    inner_dirs = "tf_logs"
    title = "TensorBoard event file"
    folder_is_run = True

    def sniff(self, head: bytes, path: str) -> bool:
        """The first record is an intact Event whose ``file_version`` is ``brain.Event:…``;
        or the file is named as event files are and holds no whole record header yet (a writer
        that has not flushed: a run waiting for data)."""
        if len(head) < HEADER_SIZE:
            return bool(EVENT_FILE_RE.search(path))
        length, crc = HEADER.unpack_from(head)
        if length > len(head) - HEADER_SIZE or masked_crc32c(head[:8]) != crc:
            return False
        try:
            event = decode_event(head, HEADER_SIZE, HEADER_SIZE + length)
        except WireError:
            return False
        return bool(event.file_version.startswith("brain.Event:"))

    def new_parser(self, options: Mapping[str, Any] | None = None) -> Parser:
        return TensorBoardParser(ColumnMapping.from_options(options))

    def new_parser_for(self, path: str, options: Mapping[str, Any] | None = None) -> Parser:
        """A parser that knows the split the file's folder names (Keras, ``add_scalars``)."""
        folder = posixpath.basename(posixpath.dirname(path.replace("\\", "/")))
        return TensorBoardParser(ColumnMapping.from_options(options), folder_split(folder))


register(TensorBoardFormat())
