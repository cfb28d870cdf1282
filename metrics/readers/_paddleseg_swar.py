"""Decoding ASCII numbers at many positions of a byte buffer at once, eight bytes per uint64.

SWAR ("SIMD within a register"): each position's 8 bytes are read as one little-endian uint64,
so checking a literal, finding a separator or turning 8 digits into an integer is a handful of
numpy operations on one value per line instead of one Python call per line.
"""

from __future__ import annotations

import numpy as np

_ALL_INT = 0xFFFFFFFFFFFFFFFF
_ALL = np.uint64(_ALL_INT)
_ONES = np.uint64(0x0101010101010101)
_HIGH = np.uint64(0x8080808080808080)
_ZEROS = np.uint64(0x3030303030303030)  # eight ASCII "0"
_NIBBLE = np.uint64(0xF0F0F0F0F0F0F0F0)
_SIX = np.uint64(0x0606060606060606)
_THREES = np.uint64(0x3333333333333333)


def blocks(data: bytes, width: int) -> np.ndarray:
    """A view of ``data`` as ``width``-byte records at every byte position (for gathers)."""
    if len(data) < width:
        return np.empty(0, f"V{width}")
    return np.ndarray(shape=(len(data) - width + 1,), dtype=f"V{width}", buffer=data, strides=(1,))


def gather(view: np.ndarray, pos: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """The bytes at ``pos`` as rows of little-endian uint64 words; clears ``ok`` out of range."""
    width = view.dtype.itemsize
    if not len(view):
        ok[:] = False
        return np.zeros((len(pos), width // 8), np.uint64)
    if len(pos) and (pos.min() < 0 or pos.max() >= len(view)):  # rare: clip, and say where
        ok &= (pos >= 0) & (pos < len(view))
        pos = np.clip(pos, 0, len(view) - 1)
    rows: np.ndarray = view[pos].view("<u8")
    return rows.reshape(len(pos), width // 8)


def literal_at(rows: np.ndarray, start: int, text: bytes) -> np.ndarray:
    """Where the gathered ``rows`` hold ``text`` from byte ``start`` (within the rows)."""
    ok = np.ones(len(rows), bool)
    for word in range(start // 8, (start + len(text) - 1) // 8 + 1):
        lo, hi = max(start, 8 * word), min(start + len(text), 8 * word + 8)
        mask = sum(0xFF << (8 * (k - 8 * word)) for k in range(lo, hi))
        value = sum(text[k - start] << (8 * (k - 8 * word)) for k in range(lo, hi))
        ok &= (rows[:, word] & np.uint64(mask)) == np.uint64(value)
    return ok


def find_byte(word: np.ndarray, byte: int) -> np.ndarray:
    """Index (0-7) of the first ``byte`` in each word, 8 where there is none."""
    x = word ^ (_ONES * np.uint64(byte))
    z = (x - _ONES) & ~x & _HIGH  # the lowest set bit marks the first match exactly
    below: np.ndarray = np.bitwise_count((z - np.uint64(1)) & ~z)  # bits under it: 8k+7, or 64
    return (below >> np.uint8(3)).astype(np.int64)


def all_digits(word: np.ndarray) -> np.ndarray:
    """Where all 8 bytes are ASCII digits."""
    ok: np.ndarray = ((word & _NIBBLE) | (((word + _SIX) & _NIBBLE) >> np.uint64(4))) == _THREES
    return ok


def pad_left(word: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Keep the last ``keep`` (1-8) bytes of each word, the others become ASCII "0"."""
    shift = (8 * (8 - np.clip(keep, 1, 8))).astype(np.uint64)
    mask = _ALL << shift
    padded: np.ndarray = (word & mask) | (_ZEROS & ~mask)
    return padded


def parse8(word: np.ndarray) -> np.ndarray:
    """The integer written by 8 ASCII digits (first byte most significant)."""
    v = word - _ZEROS
    v = (v * np.uint64(10) + (v >> np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    v = (v * np.uint64(100) + (v >> np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    value: np.ndarray = (v * np.uint64(10000) + (v >> np.uint64(32))) & np.uint64(0xFFFFFFFF)
    return value


def funnel(first: np.ndarray, second: np.ndarray, skip: np.ndarray) -> np.ndarray:
    """The 8 bytes that start ``skip`` (1-8) bytes into the 16 bytes ``first``, ``second``."""
    k = (8 * np.clip(skip, 1, 8)).astype(np.uint64)
    word: np.ndarray = ((first >> (k - np.uint64(8))) >> np.uint64(8)) | (
        second << (np.uint64(64) - k)
    )
    return word


def number(
    first: np.ndarray, second: np.ndarray, frac: int, stop: int, ok: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Decode the number that starts the 16 bytes ``first``, ``second`` and ends at the first
    ``stop`` byte: ``frac`` decimals (-1: an integer), 1-8 integer digits, 0-7 decimals, at
    most 15 bytes (the stop must be among the 16 seen; a longer text is refused).
    Returns the values (equal to ``float(text)``) and each number's length; clears ``ok``
    where the text is not such a number."""
    length = find_byte(first, stop)
    longer = length == 8
    if longer.any():
        length[longer] += find_byte(second[longer], stop)
    if not np.any((length > 8) & ok):
        return _short_number(first, length, frac, ok), length
    digits = length - frac - 1 if frac >= 0 else length
    ok &= (length < 16) & (digits >= 1) & (digits <= 8)
    shift = (8 * (8 - np.clip(digits, 1, 8))).astype(np.uint64)
    whole = pad_left(first << shift, digits)  # the integer digits, right-aligned
    ok &= all_digits(whole)
    value = parse8(whole)
    if frac < 0:
        return value.astype(np.float64), length
    rest = funnel(first, second, digits)  # the point, then the decimals
    ok &= (rest & np.uint64(0xFF)) == np.uint64(ord("."))
    if frac == 0:
        return value.astype(np.float64), length
    decimals = pad_left((rest >> np.uint64(8)) << np.uint64(8 * (8 - frac)), np.full(1, frac))
    ok &= all_digits(decimals)
    mantissa = value * np.uint64(10**frac) + parse8(decimals)
    return mantissa.astype(np.float64) / 10.0**frac, length


def _short_number(first: np.ndarray, length: np.ndarray, frac: int, ok: np.ndarray) -> np.ndarray:
    """``number`` where every text fits in ``first`` (``length`` <= 8): the text is moved to
    the word's top bytes, so the point and decimals sit at fixed bytes and one ``parse8``
    reads integer and decimal digits together."""
    ok &= length >= (1 if frac < 0 else frac + 2)  # at least one integer digit
    bits = (8 * length).astype(np.uint64)
    word = (first << (np.uint64(64) - bits)) | (_ZEROS >> bits)  # "0"-padded on the left
    if frac >= 0:
        point = 8 * (7 - frac)  # the byte of the point
        ok &= ((word >> np.uint64(point)) & np.uint64(0xFF)) == np.uint64(ord("."))
        low = np.uint64((1 << point) - 1)
        high = np.uint64((_ALL_INT << (point + 8)) & _ALL_INT)
        word = ((word & low) << np.uint64(8)) | (word & high) | np.uint64(0x30)
    ok &= all_digits(word)
    value = parse8(word).astype(np.float64)
    return value / 10.0**frac if frac > 0 else value


def stamp(rows: np.ndarray, template: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Where gathered ``rows`` end with ``template`` (``D`` = a digit, 14 of them:
    YYYYMMDDhhmmss), and the UTC seconds it says (NaN where it is not, or no such date)."""
    start = 8 * rows.shape[1] - len(template)
    digit_at = [start + k for k, c in enumerate(template) if c == ord("D")]
    ok = np.ones(len(rows), bool)
    pairs: list[np.ndarray | None] = []  # per word: byte k holds the number written at k, k+1
    for word in range(rows.shape[1]):
        fixed = value = digit = 0
        for k in range(max(start, 8 * word), 8 * word + 8):
            c = template[k - start]
            if c == ord("D"):
                digit |= 0xFF << (8 * (k - 8 * word))
            else:
                fixed |= 0xFF << (8 * (k - 8 * word))
                value |= c << (8 * (k - 8 * word))
        if not fixed | digit:
            pairs.append(None)
            continue
        w = rows[:, word]
        ok &= (w & np.uint64(fixed)) == np.uint64(value)
        padded = (w & np.uint64(digit)) | (_ZEROS & ~np.uint64(digit))  # other bytes: "0"
        ok &= all_digits(padded)
        v = padded - _ZEROS  # each byte 0-9, no borrows
        pairs.append(v * np.uint64(10) + (v >> np.uint64(8)))
    fields = []
    for k in digit_at[::2]:  # the two-digit numbers YY YY MM DD hh mm ss
        word, byte = divmod(k, 8)
        if byte < 7:
            pair = pairs[word]
            assert pair is not None
            fields.append((pair >> np.uint64(8 * byte)) & np.uint64(0xFF))
        else:  # across two words: the tens from one, the units from the next
            tens, units = rows[:, word] >> np.uint64(56), rows[:, word + 1] & np.uint64(0xFF)
            fields.append((tens - np.uint64(48)) * np.uint64(10) + units - np.uint64(48))
    year, month, day, hour, minute, sec = [f.astype(np.int64) for f in fields[1:]]
    year += 100 * fields[0].astype(np.int64)
    seconds = epoch_seconds(year, month, day, hour, minute, sec)
    return ok, np.where(ok, seconds, np.nan)


def epoch_seconds(
    year: np.ndarray,
    month: np.ndarray,
    day: np.ndarray,
    hour: np.ndarray,
    minute: np.ndarray,
    sec: np.ndarray,
) -> np.ndarray:
    """UTC seconds of calendar dates and times (NaN where a field is out of range)."""
    valid = (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)
    valid &= (hour < 24) & (minute < 60) & (sec < 61)
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    seconds = (days * 86400 + hour * 3600 + minute * 60 + sec).astype(np.float64)
    return np.where(valid, seconds, np.nan)
