"""The protobuf wire format, read field by field: what the VisualDL and TensorBoard readers need.

Both formats are a few small messages whose layout is fixed by their ``.proto`` files; reading
them needs only the wire format (varints, fixed 32/64-bit numbers, length-delimited bytes), not
generated classes nor the ``tensorboard`` package (55 MB with grpcio) nor ``protobuf``. Bulk
scalars are decoded with numpy elsewhere (:mod:`metrics.readers.tensorboard_wire`); this is the
path for everything else, one record at a time. A message that breaks the wire format raises
``WireError``, as protobuf's ``DecodeError`` would.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from metrics.errors import LogFormatError

VARINT, FIXED64, BYTES, FIXED32 = 0, 1, 2, 5
_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")


class WireError(LogFormatError, ValueError):
    """A message that does not follow the protobuf wire format (a damaged record)."""


def varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """The unsigned varint at ``pos`` and the position after it."""
    value = shift = 0
    while True:
        if pos >= end or shift > 63:
            raise WireError(f"varint at byte {pos} runs past its message (ends at {end})")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def signed64(value: int) -> int:
    """An ``int64`` field's varint as the signed number it holds (two's complement)."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >> 63 else value


def fields(buf: bytes, pos: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """``(number, wire type, a, b)`` of each field of the message in ``buf[pos:end]``: for a
    varint ``a`` is its value; otherwise the field's bytes are ``buf[a:b]``."""
    while pos < end:
        key = buf[pos]  # one-byte keys and lengths (nearly all) skip the varint loop
        if key < 0x80:
            pos += 1
        else:
            key, pos = varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError(f"field number 0 at byte {pos}")
        if wire in (VARINT, BYTES):
            if pos < end and buf[pos] < 0x80:
                value, pos = buf[pos], pos + 1
            else:
                value, pos = varint(buf, pos, end)
            if wire == VARINT:
                yield number, wire, value, pos
                continue
            size = value
        elif wire == FIXED64:
            size = 8
        elif wire == FIXED32:
            size = 4
        else:
            raise WireError(f"wire type {wire} at byte {pos} is not one these records use")
        if pos + size > end:
            raise WireError(f"field {number} at byte {pos} runs past its message (ends at {end})")
        yield number, wire, pos, pos + size
        pos += size


def float32(buf: bytes, at: int) -> float:
    """The little-endian float32 at ``at``."""
    value: float = _F32.unpack_from(buf, at)[0]
    return value


def float64(buf: bytes, at: int) -> float:
    """The little-endian float64 at ``at``."""
    value: float = _F64.unpack_from(buf, at)[0]
    return value


def text(buf: bytes, a: int, b: int) -> str:
    """A string field (UTF-8, as protobuf requires of them)."""
    try:
        return buf[a:b].decode()
    except UnicodeDecodeError:
        raise WireError(f"string field at byte {a} is not UTF-8") from None
