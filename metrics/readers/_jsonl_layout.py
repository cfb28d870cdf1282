"""Flat JSON lines decoded column-wise: numpy checks one line's layout on many lines at once.

Loggers write every train record with the same keys in the same order, so one line gives a
layout (the literal text between its numbers) that numpy matches and decodes on all lines of a
piece at once, a few operations per number column instead of a JSON parse per line. A number is
decoded only when ``float(text)`` is exact from its digits (at most 8 integer digits and 7
decimals, no sign or exponent, valid JSON); every other line is left to a JSON parser.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import orjson

from metrics.readers import _paddleseg_swar as swar
from metrics.readers._json_numbers import fixed_number, number, shape_of

#: bytes of zeros around a piece, so that every gather near its ends stays inside the buffer
PAD = 64
_STRING = rb'"(?:[^"\\]|\\.)*"'
_PAIR = re.compile(  # "key": "text" or "key": number, then "," or "}"
    rb"[ \t]*("
    + _STRING
    + rb")[ \t]*:[ \t]*(?:("
    + _STRING
    + rb")|(-?[0-9][-+.eE0-9]*))[ \t]*([,}])"
)
_OPEN = re.compile(rb"[ \t]*\{")
_TAIL = re.compile(rb"[ \t\r]*")
_DOT = ord(".")


@dataclass(frozen=True)
class Layout:
    """A flat JSON object line: literal text around each number, and what the keys hold."""

    literals: tuple[bytes, ...]  # before the first number, between numbers, after the last
    slots: tuple[str, ...]  # the key of each number, in line order
    keys: tuple[str, ...]  # every key, in line order
    strings: dict[str, str]  # the keys holding text, and the text
    shapes: tuple[tuple[int, int] | None, ...]  # each number's likely digits, decimals


def layout_of(line: bytes, sample: Sequence[bytes] = ()) -> Layout | None:
    """The layout of a flat JSON object with only number and text values, else None; the
    number shapes expected are the commonest among ``line`` and the ``sample`` lines like it."""
    found = _split(line)
    if found is None:
        return None
    tokens, cuts = found
    own = _numbers_of(line, cuts)
    if None in own:  # a number numpy would not decode: likely the lines like it neither
        return None
    try:
        rec = orjson.loads(line)
        keys = [orjson.loads(k) for k, _ in tokens]
    except orjson.JSONDecodeError:
        return None
    if not isinstance(rec, dict) or list(rec) != keys:  # duplicate keys, odd text
        return None
    for key, text in zip(keys, (t for _, t in tokens), strict=True):
        if (type(rec[key]) is str) != (text is not None) or type(rec[key]) not in (str, int, float):
            return None
    literals = _literals(line, cuts)
    slots = tuple(k for (_, text), k in zip(tokens, keys, strict=True) if text is None)
    strings = {k: rec[k] for k in keys if type(rec[k]) is str}
    shapes = [Counter([shape]) for shape in own]
    for other in sample:
        split = _split(other)
        if split is not None and _literals(other, split[1]) == literals:
            for counts, shape in zip(shapes, _numbers_of(other, split[1]), strict=True):
                counts[shape] += 1
    guess = tuple(c.most_common(1)[0][0] for c in shapes)
    return Layout(literals, slots, tuple(keys), strings, guess)


def _split(line: bytes) -> tuple[list[tuple[bytes, bytes | None]], list[int]] | None:
    """The (key, text value or None for a number) tokens of a flat object line, and the
    number spans as cut positions ``[0, start, end, start, end, ..., len(line)]``."""
    m = _OPEN.match(line)
    if m is None:
        return None
    pos, cuts, tokens = m.end(), [0], []
    while True:
        m = _PAIR.match(line, pos)
        if m is None:
            return None
        tokens.append((m.group(1), m.group(2)))
        if m.group(3) is not None:
            cuts += [m.start(3), m.end(3)]
        pos = m.end()
        if m.group(4) == b"}":
            break
    if _TAIL.fullmatch(line, pos) is None or len(cuts) == 1:
        return None
    return tokens, [*cuts, len(line)]


def _literals(line: bytes, cuts: list[int]) -> tuple[bytes, ...]:
    return tuple(line[a:b] for a, b in zip(cuts[::2], cuts[1::2], strict=True))


def _numbers_of(line: bytes, cuts: list[int]) -> list[tuple[int, int] | None]:
    return [shape_of(line[a:b]) for a, b in zip(cuts[1:-1:2], cuts[2:-1:2], strict=True)]


def match(
    buf: bytes, starts: np.ndarray, ends: np.ndarray, layout: Layout
) -> tuple[np.ndarray, np.ndarray]:
    """Which lines (``buf[starts:ends]``, ``buf`` padded by ``PAD``) fit ``layout``, and their
    numbers as rows of a (slots, lines) array (meaningless where a line does not fit)."""
    v16, v32 = _blocks(buf, 16), _blocks(buf, 32)
    last = len(buf) - PAD  # a failed line's position may run on: keep it in ``buf``
    top16, top32 = len(v16) - 1, len(v32) - 1  # and every gather inside the views
    ok = ends - starts >= sum(len(lit) for lit in layout.literals)  # too short to fit
    values = np.zeros((len(layout.slots), len(starts)))
    rows = None  # all lines are in play, else those in ``rows``
    cur = starts
    for i, lit in enumerate(layout.literals[:-1]):
        size = len(lit)
        for k in range(0, size - 16, 16):  # a long literal's first part
            at = np.minimum(cur + k, top16)
            ok &= swar.literal_at(v16[at].view("<u8").reshape(-1, 2), 0, lit[k : k + 16])
        at = np.minimum(cur + (size - 16), top32)
        words = v32[at].view("<u8").reshape(-1, 4)  # literal end, number
        ok &= swar.literal_at(words, 16 - min(size, 16), lit[-16:])
        if 2 * int(np.count_nonzero(ok)) < len(ok):  # most lines are out: drop them
            keep = np.flatnonzero(ok)
            rows = keep if rows is None else rows[keep]
            cur, words, ok = cur[keep], words[keep], ok[keep]
        value, length = _numbers(words, layout.shapes[i], layout.literals[i + 1][0], ok)
        values[i, slice(None) if rows is None else rows] = value
        cur = np.minimum(cur + (size + length), last)
    tail = layout.literals[-1]
    for k in range(0, len(tail), 16):
        at = np.minimum(cur + k, top16)
        ok &= swar.literal_at(v16[at].view("<u8").reshape(-1, 2), 0, tail[k : k + 16])
    ok &= cur + len(tail) == (ends if rows is None else ends[rows])
    if rows is None:
        return ok, values
    fits = np.zeros(len(starts), bool)
    fits[rows[ok]] = True
    return fits, values


def _numbers(
    words: np.ndarray, shape: tuple[int, int] | None, stop: int, ok: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The numbers in words 2-3 of each row, and their lengths; clears ``ok`` where none is.
    Rows with the expected ``shape`` take the short path, the others the general one."""
    first, second = words[:, 2], words[:, 3]
    if shape is None:
        return number(first, second, stop, ok)
    value, fit = fixed_number(first, second, shape, stop, ok)
    length = np.full(len(ok), shape[0] + (shape[1] + 1 if shape[1] else 0))
    other = np.flatnonzero(ok & ~fit)
    if len(other):
        found = np.ones(len(other), bool)
        value[other], length[other] = number(first[other], second[other], stop, found)
        ok[other] = found
    return value, length


def _blocks(buf: bytes, width: int) -> np.ndarray:
    """A view of ``buf`` as ``width``-byte records at every byte position (for gathers)."""
    return np.ndarray(shape=(len(buf) - width + 1,), dtype=f"V{width}", buffer=buf, strides=(1,))
