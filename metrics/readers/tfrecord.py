"""TFRecord framing and CRC32C checks, fast enough for event files of millions of records.

A record is ``uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)``.
Framing is a tight loop (each record's place depends on the previous length); CRCs, of headers
and of data, are checked in bulk with numpy: records of similar size are left-padded into one
matrix and processed a 32-bit column at a time (slicing-by-4 tables).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cache

import numpy as np

HEADER = struct.Struct("<QI")
_LENGTH = struct.Struct("<Q")
HEADER_SIZE = 12
FOOTER_SIZE = 4
_MASK = 0xFFFFFFFF
_POLY = 0x82F63B78  # CRC-32C (Castagnoli), reflected
_MASK_DELTA = 0xA282EAD8
_PYTHON_ROWS = 24  # below this many records of one size class, a Python loop is cheaper
_MATRIX_BYTES = 1 << 24  # bytes gathered at once by the numpy CRC


def _make_table() -> list[int]:
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ _POLY if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _make_table()
# the top byte of the table entries is a permutation: it lets a zero-byte step be undone
_INV_TOP = {entry >> 24: i for i, entry in enumerate(_TABLE)}


def _word_tables() -> tuple[np.ndarray, np.ndarray]:
    """Slicing-by-4 tables merged in pairs: one 32-bit word costs two 16-bit lookups."""
    t = [np.array(_TABLE, np.uint32)]
    for _ in range(3):
        prev = t[-1]
        t.append((prev >> np.uint32(8)) ^ t[0][prev & 0xFF])
    x = np.arange(1 << 16, dtype=np.uint32)
    low, high = x & 0xFF, x >> np.uint32(8)
    return t[3][low] ^ t[2][high], t[1][low] ^ t[0][high]


_WORD_LOW, _WORD_HIGH = _word_tables()


def crc32c(data: bytes | memoryview) -> int:
    """CRC-32C of ``data`` (pure Python; for short inputs)."""
    crc = _MASK
    table = _TABLE
    for byte in bytes(data):
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ _MASK


def mask_crc(crc: int) -> int:
    """TFRecord's masked CRC (rotated and offset so that CRCs of CRCs stay informative)."""
    return ((((crc >> 15) | (crc << 17)) & _MASK) + _MASK_DELTA) & _MASK


def masked_crc32c(data: bytes | memoryview) -> int:
    """The masked CRC-32C stored in TFRecord headers and footers."""
    return mask_crc(crc32c(data))


def _unzero(crc: int) -> int:
    """The CRC state that one zero byte turns into ``crc``."""
    idx = _INV_TOP[crc >> 24]
    return (((crc ^ _TABLE[idx]) << 8) | idx) & _MASK


def _pre_states(n: int) -> np.ndarray:
    """States ``s[k]`` that ``k`` zero bytes turn into the CRC start state (for left padding)."""
    states = [_MASK]
    for _ in range(n):
        states.append(_unzero(states[-1]))
    return np.array(states, np.uint32)


def masked_crc32c_many(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Masked CRC-32C of ``buf[starts[i] : starts[i] + lengths[i]]`` for every ``i``."""
    out = np.empty(len(starts), np.uint32)
    long = lengths >= _LONG
    if long.any():
        out[long] = _crc_long(buf, starts[long], lengths[long])
    size_class = np.ceil(np.log2(np.maximum(lengths, 1))).astype(np.int64)
    size_class[long] = -1
    for cls in np.unique(size_class[~long]):
        rows = np.flatnonzero(size_class == cls)
        width = -(-int(lengths[rows].max()) // 4) * 4
        # records too few for numpy to pay, or too near the buffer start to be left-padded
        slow = (len(rows) < _PYTHON_ROWS) | (starts[rows] < width)
        for r in rows[slow]:
            a = int(starts[r])
            out[r] = masked_crc32c(buf[a : a + int(lengths[r])].tobytes())
        rows = rows[~slow]
        step = max(1, _MATRIX_BYTES // max(width, 1))
        for i in range(0, len(rows), step):
            part = rows[i : i + step]
            out[part] = _crc_matrix(buf, starts[part], lengths[part], width)
    return out


def _crc_matrix(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray, width: int) -> np.ndarray:
    """CRCs of records left-padded with zeros to ``width`` (a multiple of 4); each starts from a
    state that its padding turns into the usual start state, so the padding changes nothing."""
    pad = width - lengths
    windows = np.lib.stride_tricks.sliding_window_view(buf, width)
    mat = windows[starts - pad]
    mat[np.arange(width)[None, :] < pad[:, None]] = 0
    words = np.ascontiguousarray(mat.view("<u4").T)
    crc = _pre_states(int(pad.max()))[pad]
    low, high = _WORD_LOW, _WORD_HIGH
    for j in range(width // 4):
        crc ^= words[j]
        crc = low[crc & 0xFFFF] ^ high[crc >> np.uint32(16)]
    crc ^= np.uint32(_MASK)
    rotated = (crc >> np.uint32(15)) | (crc << np.uint32(17))
    result: np.ndarray = rotated + np.uint32(_MASK_DELTA)
    return result


_CHUNK = 1024  # bytes per chunk of a long record (a multiple of 4)
_LONG = 4 * _CHUNK  # records this long (images, graphs) are checked chunk by chunk


@cache
def _zero_bytes_tables(n: int) -> list[list[int]]:
    """What ``n`` zero bytes do to a CRC state, as four tables by the state's bytes (the map
    is linear, so the tables of each byte's values XOR together)."""
    images = []
    for bit in range(32):
        state = 1 << bit
        for _ in range(n):
            state = _TABLE[state & 0xFF] ^ (state >> 8)
        images.append(state)
    tables = []
    for byte in range(4):
        table = [0] * 256
        for x in range(1, 256):
            low = x & -x
            table[x] = table[x ^ low] ^ images[8 * byte + low.bit_length() - 1]
        tables.append(table)
    return tables


def _crc_long(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Masked CRC-32C of long records: the CRC of every chunk of every record is computed at
    once (a zero start state, chunks as rows of a matrix), then each record's chunks are
    chained: the state after a chunk is ``zeros(state before) ^ crc(chunk)``, the CRC being
    linear. A record's first ``length % _CHUNK`` bytes form a chunk left-padded with zeros,
    started from the state that the padding turns into the usual start state."""
    heads = lengths % _CHUNK
    counts = lengths // _CHUNK + (heads > 0)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    # each chunk's start in ``buf`` (a head chunk starts before its record: padding)
    pad = np.where(heads > 0, _CHUNK - heads, 0)
    index = np.arange(int(counts.sum())) - np.repeat(first, counts)
    chunk_starts = np.repeat(starts - pad, counts) + index * _CHUNK
    chunk_pad = np.where(index == 0, np.repeat(pad, counts), 0)
    regs = np.empty(len(chunk_starts), np.uint32)
    step = max(1, _MATRIX_BYTES // _CHUNK)
    for i in range(0, len(chunk_starts), step):
        part = slice(i, i + step)
        regs[part] = _chunk_registers(buf, chunk_starts[part], chunk_pad[part])
    t0, t1, t2, t3 = _zero_bytes_tables(_CHUNK)
    pre = _chunk_pre_states()
    out = np.empty(len(starts), np.uint32)
    for r, (a, n, p) in enumerate(zip(first.tolist(), counts.tolist(), pad.tolist(), strict=True)):
        state = int(pre[p]) if p else _MASK
        for reg in regs[a : a + n].tolist():
            zeros = t0[state & 0xFF] ^ t1[(state >> 8) & 0xFF] ^ t2[(state >> 16) & 0xFF]
            state = zeros ^ t3[state >> 24] ^ reg
        out[r] = mask_crc(state ^ _MASK)
    return out


@cache
def _chunk_pre_states() -> np.ndarray:
    return _pre_states(_CHUNK)


def _chunk_registers(buf: np.ndarray, starts: np.ndarray, pad: np.ndarray) -> np.ndarray:
    """CRC states after each ``_CHUNK``-byte chunk from a zero state (its first ``pad`` bytes
    read as zeros)."""
    cols = np.arange(_CHUNK)
    mat = buf[np.clip(starts[:, None] + cols, 0, len(buf) - 1)]
    mat[cols[None, :] < pad[:, None]] = 0
    words = np.ascontiguousarray(mat.view("<u4").T)
    crc = np.zeros(len(starts), np.uint32)
    low, high = _WORD_LOW, _WORD_HIGH
    for j in range(_CHUNK // 4):
        crc ^= words[j]
        crc = low[crc & 0xFFFF] ^ high[crc >> np.uint32(16)]
    return crc


@dataclass
class Framing:
    """Records found at the start of a buffer."""

    starts: np.ndarray  # offset of each record's header in the buffer
    lengths: np.ndarray  # payload length of each record
    end: int  # bytes taken by the complete records
    corrupt: bool  # the header at ``end`` fails its CRC: nothing after it can be trusted


def frame_records(data: bytes) -> Framing:
    """Split ``data`` into complete records whose length passes its CRC.

    The loop trusts each length to find the next record; the header CRCs are then checked in
    bulk and everything from the first bad header on is dropped (it was framed from garbage).
    """
    unpack = _LENGTH.unpack_from
    last = len(data) - HEADER_SIZE
    found: list[int] = []
    pos = 0
    while pos <= last:
        found.append(pos)
        pos += HEADER_SIZE + FOOTER_SIZE + unpack(data, pos)[0]
    buf = np.frombuffer(data, np.uint8)
    starts = np.array(found, np.int64)
    raw = _gather_u64(buf, starts)
    lengths = np.minimum(raw, np.uint64(len(data))).astype(np.int64)
    stored = _gather_u32(buf, starts + 8)
    bad = np.flatnonzero(masked_crc32c_many(buf, starts, np.full(len(starts), 8)) != stored)
    corrupt = len(bad) > 0
    if corrupt:
        starts, lengths = starts[: bad[0]], lengths[: bad[0]]
    if len(starts) and starts[-1] + HEADER_SIZE + lengths[-1] + FOOTER_SIZE > len(data):
        starts, lengths = starts[:-1], lengths[:-1]  # the last record is not complete yet
    end = int(starts[-1] + HEADER_SIZE + lengths[-1] + FOOTER_SIZE) if len(starts) else 0
    return Framing(starts, lengths, end, corrupt)


def _gather_u64(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(buf[at[:, None] + np.arange(8)]).view("<u8").ravel()


def _gather_u32(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(buf[at[:, None] + np.arange(4)]).view("<u4").ravel()


def footer_crcs(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The data CRC stored after each record."""
    return _gather_u32(buf, starts + HEADER_SIZE + lengths)


def frame_bytes(payload: bytes) -> bytes:
    """One record around ``payload`` (for tests and tools that write event files)."""
    header = struct.pack("<Q", len(payload))
    return (
        header
        + struct.pack("<I", masked_crc32c(header))
        + payload
        + struct.pack("<I", masked_crc32c(payload))
    )
