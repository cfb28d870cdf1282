"""JSON numbers decoded from 16 text bytes per row with numpy, equal to ``float(text)``.

Each row's bytes are read as two little-endian uint64 words (SWAR: "SIMD within a register"),
so finding the point and the end, checking the digits and building the value are a few numpy
operations per column. Only plain numbers are decoded (1-8 integer digits without a leading
zero, optionally a point and 1-7 decimals): their digits make an integer below 2**53 and
dividing it by 1e7 is the correctly rounded ``float(text)``. Others are left to a JSON parser.
Shifts by 64 bits or more give 0 in numpy: the branch-free code below relies on it.
"""

from __future__ import annotations

import numpy as np


def number(
    first: np.ndarray, second: np.ndarray, stop: int, ok: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The JSON number that starts the 16 bytes ``first``, ``second`` and ends before the first
    ``stop`` byte (not NUL), equal to ``float(text)``, and its length; clears ``ok`` where the
    text is not 1-8 digits (no leading zero) optionally followed by a point and 1-7 decimals.

    Shifts by 64 bits or more give 0 in numpy: the branches below rely on it."""
    t0, t1 = first ^ _ZEROS, second ^ _ZEROS  # digits become the bytes 0-9
    nd0, nd1 = _non_digits(t0), _non_digits(t1)
    low = nd0 & (~nd0 + _ONE)
    whole = _count_below(low)  # integer digits: up to the first non-digit (8: none in 8 bytes)
    point = (_byte(first, second, whole) == _DOT).astype(np.uint64)
    nd0 ^= low  # the next non-digit ends the decimals
    nd1 = np.where(low == 0, nd1 & (nd1 - _ONE), nd1)
    after = np.where(
        nd0 != 0, _count_below(nd0 & (~nd0 + _ONE)), 8 + _count_below(nd1 & (~nd1 + _ONE))
    )
    length = np.where(point != 0, after, whole)
    frac = length - whole - point
    ok &= (_byte(first, second, length) == stop) & (whole - _ONE < 8) & (frac - point < 7)
    ok &= (whole == 1) | ((t0 & _BYTE) != 0)  # "01" is not JSON
    head = t0 << (8 * (8 - whole))  # the integer digits, right-aligned
    rest = (t0 >> (8 * (whole + _ONE))) | (t1 << (8 * (7 - whole))) | (t1 >> (8 * (whole - 7)))
    tail = (rest << _EIGHT) & (_ALL >> (8 * (7 - frac)))  # "0" and up to 7 decimals
    mantissa = _digits8(head) * np.uint64(10**7) + _digits8(tail)
    return mantissa.astype(np.float64) / 1e7, length.astype(np.int64)


_ZEROS = np.uint64(0x3030303030303030)
_HIGH = np.uint64(0x8080808080808080)
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_TEN = np.uint64(0x7676767676767676)  # 0x80 - 10 per byte: a byte >= 10 reaches the high bit
_ONES = np.uint64(0x0101010101010101)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
_BYTE = np.uint64(0xFF)
_DOT = ord(".")
_ONE, _EIGHT = np.uint64(1), np.uint64(8)


def _non_digits(t: np.ndarray) -> np.ndarray:
    """The high bit of each byte of ``t`` (text XOR "0") that was not a digit."""
    flags: np.ndarray = (((t & _LOW7) + _TEN) | t) & _HIGH
    return flags


def _count_below(low: np.ndarray) -> np.ndarray:
    """Bytes below the one flagged in ``low`` (a single high bit), 8 where none is."""
    before = (low - _ONE) & _HIGH
    count: np.ndarray = ((before >> np.uint64(7)) * _ONES) >> np.uint64(56)
    return count


def _byte(first: np.ndarray, second: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Byte ``at`` (0-15; 0 beyond) of the 16 bytes ``first``, ``second``."""
    byte: np.ndarray = ((first >> (8 * at)) | (second >> (8 * (at - 8)))) & _BYTE
    return byte


def _digits8(t: np.ndarray) -> np.ndarray:
    """The integer of 8 digit bytes (0-9, the first byte most significant)."""
    v = (t * np.uint64(10) + (t >> np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    v = (v * np.uint64(100) + (v >> np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    value: np.ndarray = (v * np.uint64(10000) + (v >> np.uint64(32))) & np.uint64(0xFFFFFFFF)
    return value


def shape_of(text: bytes) -> tuple[int, int] | None:
    """(integer digits, decimals) of a number ``fixed_number`` decodes, else None."""
    whole, dot, frac = text.partition(b".")
    if not whole.isdigit() or (dot and not frac.isdigit()) or (len(whole) > 1 and whole[0] == 48):
        return None
    if not 1 <= len(whole) <= 8 or len(frac) > 7 or len(text) > 15 or not text.isascii():
        return None
    return len(whole), len(frac)


def fixed_number(
    first: np.ndarray, second: np.ndarray, shape: tuple[int, int], stop: int, ok: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``number`` for rows whose number has the given ``shape`` (fewer operations); returns
    the values and which rows (of those ``ok``) have that shape, the others to be decoded."""
    whole, frac = shape
    length = whole + (frac + 1 if frac else 0)
    t0 = first ^ _ZEROS
    fit = ok & _marks_fit(first, t0, whole if frac else -1, length, stop, 0)
    if length >= 8:
        t1 = second ^ _ZEROS
        fit &= _marks_fit(second, t1, whole - 8 if frac else -1, length - 8, stop, 8)
    if whole > 1:
        fit &= (t0 & _BYTE) != 0  # "01" is not JSON
    value = _digits8(t0 << np.uint64(8 * (8 - whole))) if whole > 1 else t0 & _BYTE
    if frac:
        rest = t0 >> np.uint64(8 * (whole + 1))
        if length > 8:
            rest |= (
                t1 << np.uint64(8 * (7 - whole)) if whole < 7 else t1 >> np.uint64(8 * (whole - 7))
            )
        tail = (rest << _EIGHT) & np.uint64(0xFFFFFFFFFFFFFFFF >> (8 * (7 - frac)))
        return (value * np.uint64(10**7) + _digits8(tail)).astype(np.float64) / 1e7, fit
    return value.astype(np.float64), fit


def _marks_fit(
    word: np.ndarray, t: np.ndarray, point: int, stop_at: int, stop: int, first_byte: int
) -> np.ndarray:
    """Whether the 8 bytes ``word`` (``t``: XOR "0") are digits up to ``stop_at`` except a
    point at ``point`` (both relative to the word; out of it: not there), then ``stop``."""
    last = min(stop_at, 7)
    span = sum(0x80 << (8 * k) for k in range(last + 1))
    marks = bytes_ = values = 0
    for at, byte in ((point, _DOT), (stop_at, stop)):
        if 0 <= at <= 7:
            marks |= 0x80 << (8 * at)
            bytes_ |= 0xFF << (8 * at)
            values |= byte << (8 * at)
    fit: np.ndarray = (_non_digits(t) & np.uint64(span)) == np.uint64(marks)
    if bytes_:
        fit &= (word & np.uint64(bytes_)) == np.uint64(values)
    return fit
