"""VisualDL record files (``vdlrecords.<time>.log``, PaddleSeg ``--use_vdl``) without VisualDL.

The file is ``[uint64 LE length][visualdl.Record]`` repeated, no checksum. ``Record.values``
(field 1) holds ``Value{id=step (1), tag (2), timestamp (3), value float32 (4)}``; values
without field 4 (images, the ``meta_data_tag`` header, ...) are not scalars and are skipped.
Tags ``Train/x`` → split train, ``Evaluate/x`` → val; ``loss``, ``lr``, ``mIoU`` → ``miou``,
``Acc`` → ``aacc`` (fractions, as PaddleSeg logs them), other names kept. Timestamps are
seconds in old VisualDL and milliseconds in new (told apart by size: ms epochs exceed 1e11).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from metrics.readers.base import LogFormat, Parsed, Parser, RecordBuilder
from metrics.readers.protowire import (
    BYTES,
    FIXED32,
    VARINT,
    WireError,
    fields,
    float32,
    signed64,
    text,
)
from metrics.readers.registry import register

_MAX_RECORD = 256 << 20  # longer is corruption, not a record still being written
_MS_EPOCH = 1e11
_SPLITS = {"train": "train", "evaluate": "val", "eval": "val", "val": "val", "validation": "val"}
_NAMES = {
    "val": {"mIoU": "miou", "Acc": "aacc", "Ema_mIoU": "ema_miou", "Ema_Acc": "ema_aacc"},
    "train": {},
}

Scalar = tuple[int, str, int, float]  # step, tag, timestamp, value
CorruptRecord = WireError  # a record whose protobuf does not decode
_VALUES = 1  # Record.values
_STEP, _TAG, _TIMESTAMP, _VALUE = 1, 2, 3, 4  # Record.Value fields


def _value(buf: bytes, pos: int, end: int) -> Scalar | None:
    """A ``Record.Value`` if it is a scalar, else None."""
    step = timestamp = 0
    tag = (0, 0)
    value = None
    for number, wire, a, b in fields(buf, pos, end):
        if number == _STEP and wire == VARINT:
            step = signed64(a)
        elif number == _TAG and wire == BYTES:
            tag = (a, b)
        elif number == _TIMESTAMP and wire == VARINT:
            timestamp = a
        elif number == _VALUE and wire == FIXED32:
            value = float32(buf, a)
    if value is None:
        return None
    return step, text(buf, *tag), timestamp, value


def _values(buf: bytes, pos: int, end: int) -> Iterator[tuple[int, int]]:
    """Where each ``Record.Value`` of a record lies; a record holds nothing else."""
    for number, wire, a, b in fields(buf, pos, end):
        if number != _VALUES or wire != BYTES:
            raise CorruptRecord(f"field {number} at byte {a}: a Record holds only values")
        yield a, b


def decode_record(buf: bytes, pos: int, end: int) -> list[Scalar]:
    """The scalar values of one serialized ``visualdl.Record``."""
    scalars = []
    for a, b in _values(buf, pos, end):
        scalar = _value(buf, a, b)
        if scalar is not None:
            scalars.append(scalar)
    return scalars


def metric_of(tag: str) -> tuple[str, str]:
    """Split and metric name of a VisualDL tag (``Evaluate/mIoU`` → ``("val", "miou")``)."""
    head, sep, rest = tag.partition("/")
    split = _SPLITS.get(head.lower()) if sep else None
    if split is None:
        return "train", tag
    return split, _NAMES[split].get(rest, rest)


class VisualDLParser(Parser):
    """Decodes complete records; a corrupt one stops the file (nothing after it is trusted)."""

    def __init__(self) -> None:
        self.records = 0
        self.broken = False

    def feed(self, data: bytes, offset: int, last: bool = False) -> tuple[Parsed, int]:
        out = RecordBuilder()
        if self.broken:
            return out.build(), len(data)
        columns: dict[tuple[str, str], list[list[float]]] = {}
        pos = 0
        while pos + 8 <= len(data):
            size = int.from_bytes(data[pos : pos + 8], "little")
            if size > _MAX_RECORD:
                return self._corrupt(out, columns, f"record length {size} is implausible", data)
            if pos + 8 + size > len(data):
                break  # still being written
            try:
                scalars = decode_record(data, pos + 8, pos + 8 + size)
            except CorruptRecord as exc:
                return self._corrupt(out, columns, str(exc), data)
            for step, tag, timestamp, value in scalars:
                wall = timestamp / 1000.0 if timestamp > _MS_EPOCH else float(timestamp)
                rows = columns.setdefault(metric_of(tag), [[], [], [], []])
                for column, item in zip(rows, (offset + pos, step, value, wall), strict=True):
                    column.append(item)
            self.records += 1
            pos += 8 + size
        _add(out, columns)
        return out.build(), pos

    def _corrupt(
        self,
        out: RecordBuilder,
        columns: dict[tuple[str, str], list[list[float]]],
        reason: str,
        data: bytes,
    ) -> tuple[Parsed, int]:
        _add(out, columns)
        out.bad(self.records + 1, f"VisualDL record {self.records + 1}: {reason}", b"")
        self.broken = True
        return out.build(), len(data)


def _add(out: RecordBuilder, columns: dict[tuple[str, str], list[list[float]]]) -> None:
    for (split, name), (offsets, steps, values, walls) in columns.items():
        out.add_many(
            split,
            name,
            np.array(offsets, np.int64),
            np.array(steps, np.int64),
            np.array(values),
            np.array(walls),
        )


def _plausible_tag(tag: str) -> bool:
    return 0 < len(tag) <= 256 and tag.isprintable()


class VisualDL(LogFormat):
    """VisualDL ``vdlrecords.*.log``, recognised by a first record that decodes."""

    name = "visualdl"
    detect_rank = 20
    title = "VisualDL records (vdlrecords.*.log, PaddleSeg --use_vdl)"

    def sniff(self, head: bytes, path: str) -> bool:
        if len(head) < 10:
            return False
        size = int.from_bytes(head[:8], "little")
        if not 2 <= size <= len(head) - 8:
            return False
        try:
            tags = _tags(head, 8, 8 + size)
        except CorruptRecord:
            return False
        return bool(tags) and all(_plausible_tag(t) for t in tags)

    def new_parser(self, options: Mapping[str, Any] | None = None) -> Parser:
        return VisualDLParser()


def _tags(buf: bytes, pos: int, end: int) -> list[str]:
    """The tags of every value of one record (scalar or not), for sniffing."""
    tags = []
    for a, b in _values(buf, pos, end):
        found = [text(buf, x, y) for n, w, x, y in fields(buf, a, b) if n == _TAG and w == BYTES]
        if not found:
            raise CorruptRecord(f"a value without a tag at byte {a}")
        tags.append(found[-1])
    return tags


register(VisualDL())
