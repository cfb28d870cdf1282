"""TensorBoard's ``Event`` records decoded from the wire format, without the ``tensorboard``
package: only the fields a scalar reader needs (field numbers from tensorboard's
``event.proto``, ``summary.proto``, ``tensor.proto`` and ``tensor_shape.proto``).

The bulk decoder (:mod:`metrics.readers.tensorboard_wire`) reads the common one-scalar events;
this reads the rest one at a time: the file version, SessionLog START, TF1 merged summaries,
tensors of any numeric type and shape ``[]``/``[1]``/``[1, 1]``…, and each tag's plugin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from metrics.readers.protowire import (
    BYTES,
    FIXED32,
    FIXED64,
    VARINT,
    fields,
    float32,
    float64,
    signed64,
    text,
    varint,
)

# Event
_WALL_TIME, _STEP, _FILE_VERSION, _SUMMARY, _SESSION_LOG = 1, 2, 3, 5, 7
_START = 1  # SessionLog.status START
# Summary.Value: its ``value`` oneof, by field number
_TAG, _METADATA = 1, 9
_KINDS = {2: "simple_value", 3: "histo", 4: "image", 5: "histo", 6: "audio", 8: "tensor"}
# TensorProto: dtype → (numpy type, the field holding values as a list)
_DTYPES: dict[int, tuple[str, int]] = {
    1: ("<f4", 5),  # DT_FLOAT: float_val
    2: ("<f8", 6),  # DT_DOUBLE: double_val
    3: ("<i4", 7),  # DT_INT32: int_val
    4: ("u1", 7),  # DT_UINT8
    5: ("<i2", 7),  # DT_INT16
    6: ("i1", 7),  # DT_INT8
    9: ("<i8", 10),  # DT_INT64: int64_val
    10: ("?", 11),  # DT_BOOL: bool_val
    17: ("<u2", 7),  # DT_UINT16
    19: ("<f2", 13),  # DT_HALF: half_val (the float16 bits)
}
_DTYPE, _SHAPE, _CONTENT = 1, 2, 4
_DIM, _DIM_SIZE = 2, 1


@dataclass
class Value:
    """One ``Summary.Value``: its tag, which kind of value it holds, and its number if any."""

    tag: str
    kind: str | None  # simple_value, tensor, image, histo, audio; None when unset
    number: float | None  # the simple value, or a one-element numeric tensor's value
    plugin: str | None  # ``metadata.plugin_data.plugin_name`` when metadata is present


@dataclass
class Event:
    """The fields of an ``Event`` a scalar reader uses."""

    wall_time: float = 0.0
    step: int = 0
    file_version: str = ""
    values: list[Value] = field(default_factory=list)
    has_summary: bool = False
    session_start: bool = False  # a SessionLog whose status is START


def decode_event(buf: bytes, pos: int, end: int) -> Event:
    """The ``Event`` serialized in ``buf[pos:end]`` (``WireError`` if it breaks the format)."""
    merged = _merged_scalars(buf, pos, end)
    if merged is not None:
        return merged
    event = Event()
    for number, wire, a, b in fields(buf, pos, end):
        if number == _WALL_TIME and wire == FIXED64:
            event.wall_time = float64(buf, a)
        elif number == _STEP and wire == VARINT:
            event.step = signed64(a)
        elif number == _FILE_VERSION and wire == BYTES:
            event.file_version = text(buf, a, b)
        elif number == _SUMMARY and wire == BYTES:
            event.has_summary = True
            event.values.extend(
                _value(buf, x, y) for n, w, x, y in fields(buf, a, b) if n == 1 and w == BYTES
            )
        elif number == _SESSION_LOG and wire == BYTES:
            status = [x for n, w, x, _ in fields(buf, a, b) if n == 1 and w == VARINT]
            event.session_start = bool(status) and status[-1] == _START
    return event


def _merged_scalars(buf: bytes, pos: int, end: int) -> Event | None:
    """A TF1 merged summary (``wall_time, step, summary { value { tag, simple_value } … }``)
    read in straight-line code; None for any other layout (read field by field instead)."""
    if end - pos < 12 or buf[pos] != 0x09:
        return None
    wall = float64(buf, pos + 1)
    pos += 9
    step = 0
    if buf[pos] == 0x10:
        raw, pos = varint(buf, pos + 1, end)
        step = signed64(raw)
    if pos >= end or buf[pos] != 0x2A:
        return None
    size, pos = varint(buf, pos + 1, end)
    if pos + size != end:
        return None
    values = []
    while pos < end:
        if buf[pos] != 0x0A or pos + 8 > end:
            return None
        size, pos = varint(buf, pos + 1, end)
        stop = pos + size
        if stop > end or size < 7:
            return None
        tag_size = buf[pos + 1]
        at = pos + 2 + tag_size
        if buf[pos] != 0x0A or tag_size >= 0x80 or at + 5 != stop or buf[at] != 0x15:
            return None
        values.append(Value(text(buf, pos + 2, at), "simple_value", float32(buf, at + 1), None))
        pos = stop
    return Event(wall, step, "", values, True, False)


def _value(buf: bytes, pos: int, end: int) -> Value:
    # the common ``{tag, simple_value}`` of a TF1 merged summary, without the field loop
    size = buf[pos + 1] if end - pos >= 7 and buf[pos] == 0x0A else 0x80
    at = pos + 2 + size
    if size < 0x80 and at + 5 == end and buf[at] == 0x15:
        return Value(text(buf, pos + 2, at), "simple_value", float32(buf, at + 1), None)
    tag, kind, number, plugin = "", None, None, None
    for n, wire, a, b in fields(buf, pos, end):
        if n == _TAG and wire == BYTES:
            tag = text(buf, a, b)
        elif n == _METADATA and wire == BYTES:
            plugin = _plugin_name(buf, a, b)
        elif n in _KINDS:  # the last member of the oneof wins, as in protobuf
            kind = _KINDS[n]
            if kind == "simple_value":
                number = float32(buf, a) if wire == FIXED32 else None
            elif kind == "tensor" and wire == BYTES:
                number = tensor_value(buf, a, b)
            else:
                number = None
    return Value(tag, kind, number, plugin)


def _plugin_name(buf: bytes, pos: int, end: int) -> str:
    name = ""
    for n, w, a, b in fields(buf, pos, end):
        if n == 1 and w == BYTES:  # plugin_data
            for m, v, x, y in fields(buf, a, b):
                if m == 1 and v == BYTES:  # plugin_name
                    name = text(buf, x, y)
    return name


def tensor_value(buf: bytes, pos: int, end: int) -> float | None:
    """The number in a one-element numeric ``TensorProto``, or None (strings, several
    elements, no value)."""
    dtype = 0
    elements = 1
    content: tuple[int, int] | None = None
    listed: dict[int, list[tuple[int, int, int]]] = {}
    for n, wire, a, b in fields(buf, pos, end):
        if n == _DTYPE and wire == VARINT:
            dtype = a
        elif n == _SHAPE and wire == BYTES:
            elements = math.prod(_dims(buf, a, b))
        elif n == _CONTENT and wire == BYTES:
            content = (a, b)
        else:
            listed.setdefault(n, []).append((wire, a, b))
    if dtype not in _DTYPES or elements != 1:
        return None
    kind, list_field = _DTYPES[dtype]
    if content is not None and content[1] - content[0] == np.dtype(kind).itemsize:
        return float(np.frombuffer(buf[content[0] : content[1]], kind)[0])
    return _first_listed(buf, listed.get(list_field, []), dtype)


def _dims(buf: bytes, pos: int, end: int) -> list[int]:
    sizes = []
    for n, w, a, b in fields(buf, pos, end):
        if n == _DIM and w == BYTES:
            size = [signed64(x) for m, v, x, _ in fields(buf, a, b) if m == _DIM_SIZE and v == 0]
            sizes.append(size[-1] if size else 0)
    return sizes


def _first_listed(buf: bytes, found: list[tuple[int, int, int]], dtype: int) -> float | None:
    """The first element of the repeated field holding a tensor's values, packed or not."""
    for wire, a, b in found:
        if dtype == 1 and wire in (FIXED32, BYTES) and b - a >= 4:  # float_val
            return float32(buf, a)
        if dtype == 2 and wire in (FIXED64, BYTES) and b - a >= 8:  # double_val
            return float64(buf, a)
        if dtype in (1, 2):
            continue
        if wire == VARINT:
            raw = a
        elif wire == BYTES and b > a:
            raw = varint(buf, a, b)[0]
        else:
            continue
        if dtype == 19:  # half_val: the float16 bits
            return float(np.array([raw & 0xFFFF], np.uint16).view(np.float16)[0])
        if dtype == 10:  # bool_val
            return float(raw != 0)
        if dtype in (4, 17):  # unsigned
            return float(raw)
        return float(signed64(raw))  # int32 and narrower are sign-extended to 64 bits
    return None
