"""VisualDL record files (``vdlrecords.<time>.log``, PaddleSeg ``--use_vdl``) without VisualDL.

The file is ``[uint64 LE length][visualdl.Record]`` repeated, no checksum. ``Record.values``
(field 1) holds ``Value{id=step (1), tag (2), timestamp (3), value float32 (4)}``; values
without field 4 (images, the ``meta_data_tag`` header, ...) are not scalars and are skipped.
Tags ``Train/x`` → split train, ``Evaluate/x`` → val; ``loss``, ``lr``, ``mIoU`` → ``miou``,
``Acc`` → ``aacc`` (fractions, as PaddleSeg logs them), other names kept. Timestamps are
seconds in old VisualDL and milliseconds in new (told apart by size: ms epochs exceed 1e11).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

import numpy as np

from metrics.readers.base import LogFormat, Parsed, Parser, RecordBuilder
from metrics.readers.registry import register

_MAX_RECORD = 256 << 20  # longer is corruption, not a record still being written
_MS_EPOCH = 1e11
_FLOAT = struct.Struct("<f")
_SPLITS = {"train": "train", "evaluate": "val", "eval": "val", "val": "val", "validation": "val"}
_NAMES = {
    "val": {"mIoU": "miou", "Acc": "aacc", "Ema_mIoU": "ema_miou", "Ema_Acc": "ema_aacc"},
    "train": {},
}

Scalar = tuple[int, str, int, float]  # step, tag, timestamp, value


class CorruptRecord(ValueError):
    """A record whose protobuf does not decode."""


def _varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= end or shift > 63:
            raise CorruptRecord("varint runs past its message")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _skip(buf: bytes, pos: int, end: int, wire: int) -> int:
    """Position after a field of wire type ``wire`` that starts at ``pos``."""
    if wire == 0:
        return _varint(buf, pos, end)[1]
    if wire in (1, 5):
        size = 8 if wire == 1 else 4
    elif wire == 2:
        size, pos = _varint(buf, pos, end)
    else:
        raise CorruptRecord(f"wire type {wire} does not occur in VisualDL records")
    if pos + size > end:
        raise CorruptRecord("field runs past its message")
    return pos + size


def _value(buf: bytes, pos: int, end: int) -> Scalar | None:
    """A ``Record.Value`` if it is a scalar, else None."""
    step = timestamp = 0
    tag = b""
    value = None
    while pos < end:
        key, pos = _varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        start = pos
        pos = _skip(buf, pos, end, wire)
        if number == 1 and wire == 0:
            step = _varint(buf, start, end)[0]
        elif number == 2 and wire == 2:
            tag = buf[_varint(buf, start, end)[1] : pos]
        elif number == 3 and wire == 0:
            timestamp = _varint(buf, start, end)[0]
        elif number == 4 and wire == 5:
            value = _FLOAT.unpack_from(buf, start)[0]
    if value is None:
        return None
    try:
        name = tag.decode()
    except UnicodeDecodeError:
        raise CorruptRecord("tag is not UTF-8") from None
    step -= (step >> 63) << 64  # int64 two's complement
    return step, name, timestamp, value


def decode_record(buf: bytes, pos: int, end: int) -> list[Scalar]:
    """The scalar values of one serialized ``visualdl.Record``."""
    scalars = []
    while pos < end:
        key, pos = _varint(buf, pos, end)
        start = pos
        pos = _skip(buf, pos, end, key & 7)
        if key == (1 << 3) | 2:
            size, first = _varint(buf, start, end)
            scalar = _value(buf, first, first + size)
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
    while pos < end:
        key, pos = _varint(buf, pos, end)
        start = pos
        pos = _skip(buf, pos, end, key & 7)
        if key != (1 << 3) | 2:
            raise CorruptRecord("a Record holds only values")
        size, first = _varint(buf, start, end)
        inner, stop = first, first + size
        tag = None
        while inner < stop:
            k, inner = _varint(buf, inner, stop)
            begin = inner
            inner = _skip(buf, inner, stop, k & 7)
            if k == (2 << 3) | 2:
                tag = buf[_varint(buf, begin, stop)[1] : inner]
        if tag is None:
            raise CorruptRecord("a value without a tag")
        try:
            tags.append(tag.decode())
        except UnicodeDecodeError:
            raise CorruptRecord("tag is not UTF-8") from None
    return tags


register(VisualDL())
