"""MMSeg text train lines in bulk: one regex per line layout over a whole piece, numbers by column.

A run prints every train line with one format string, so the keys of one line give a layout
(:mod:`._mmseg_text_layout`): a compiled regex that ``findall`` runs over the whole piece in C
(one tuple per line) capturing the values, which C-level ``map(float)`` converts column by
column. A line is taken only where a layout matches it whole; every other line is left to the
per-line parser. Lines that cannot carry a log prefix are marked too, so that the parser skips
them outside a class table.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import TypeVar

import numpy as np

from metrics.readers._mmseg_common import to_float, utc_seconds_array
from metrics.readers._mmseg_text_layout import Dialect, Layout, layout_of

#: what a line is to the parser: no prefix possible; per line; a bulk train line; a line whose
#: only effect is to end a class table (an MMSeg 1.x val progress line)
PLAIN, EACH, TRAIN, QUIET = 0, 1, 2, 3
MAX_LAYOUTS = 8
_TRIES = 8  # train lines a piece may try to learn a layout from
_MIN_LEFT = 16  # train lines left over that are worth learning a layout for
_T = TypeVar("_T")
_DIGIT = np.zeros(256, bool)
_DIGIT[ord("0") : ord("9") + 1] = True


@dataclass
class Scan:
    """The lines of one piece (``kind`` each), its bulk train lines (``rows``, ascending) and
    their records in line order (``record_*``)."""

    starts: np.ndarray  # offset of each line in the piece, then the piece's length
    kind: np.ndarray
    rows: np.ndarray
    step: np.ndarray
    planned: np.ndarray  # ``max`` of an ``Iter`` line, -1 for an epoch line
    wall: np.ndarray
    names: list[str]
    record_row: np.ndarray  # index into ``rows``
    record_name: np.ndarray  # index into ``names``
    record_value: np.ndarray


def scan(data: bytes, dialect: Dialect, layouts: list[Layout]) -> Scan:
    """Classify the lines of ``data`` (whole lines, ending with a newline) and read the train
    lines that fit a layout of ``layouts`` (learning one from a train line none fits)."""
    starts = np.concatenate(([0], np.flatnonzero(np.frombuffer(data, np.uint8) == 10) + 1))
    kind = _prefixable(data, starts)
    expected = sum(data.count(m) for m in dialect.markers)  # about the number of train lines
    parts: list[_Lines] = []
    for layout in _layouts(data, dialect, layouts, starts, kind, expected):
        part = _read(data, layout, kind, dialect)
        if part is not None:
            parts.append(part)
        if np.count_nonzero(kind == TRAIN) >= expected:
            break
    return _joined(starts, kind, parts)


def _layouts(
    data: bytes,
    dialect: Dialect,
    layouts: list[Layout],
    starts: np.ndarray,
    kind: np.ndarray,
    expected: int,
) -> Iterator[Layout]:
    """The known layouts, then any learnt (and remembered) from a train line none fits, while
    enough train lines are left: a few odd ones are the per-line parser's."""
    yield from list(layouts)
    tried: set[int] = set()
    while len(layouts) < MAX_LAYOUTS:
        left = expected - int(np.count_nonzero(kind == TRAIN))
        if left < min(_MIN_LEFT, expected) or left <= 0:
            return
        layout = _learn(data, dialect, starts, kind, tried)
        if layout is None:
            return
        layouts.append(layout)
        yield layout


def _learn(
    data: bytes, dialect: Dialect, starts: np.ndarray, kind: np.ndarray, tried: set[int]
) -> Layout | None:
    """A layout from the first train line not read in bulk yet (a few lines tried)."""
    generic = dialect.generic()
    for marker in dialect.markers:
        pos = data.find(marker)
        while pos >= 0 and len(tried) < _TRIES:
            line = int(np.searchsorted(starts, pos, "right")) - 1
            if kind[line] == EACH and line not in tried:
                tried.add(line)
                m = generic.match(data, int(starts[line]), int(starts[line + 1]))
                layout = None if m is None else layout_of(m.group("body"), dialect)
                if layout is not None:
                    return layout
            pos = data.find(marker, int(starts[line + 1]))
    return None


@dataclass
class _Lines:
    """The lines one layout read: rows, positions, values and where a value is a number."""

    rows: np.ndarray
    step: np.ndarray
    planned: np.ndarray
    wall: np.ndarray
    values: np.ndarray  # lines × fields
    number: np.ndarray  # lines × fields
    names: tuple[str, ...]


def _read(data: bytes, layout: Layout, kind: np.ndarray, dialect: Dialect) -> _Lines | None:
    """The lines of ``data`` that fit ``layout`` and were not read yet (marked in ``kind``)."""
    found = layout.pattern.findall(data)
    at = layout.pattern.groupindex
    fresh = kind == EACH
    matched = _present(map(itemgetter(at["stamp"] - 1), found), len(found)) & fresh
    if "quiet" in at:
        quiet = _present(map(itemgetter(at["quiet"] - 1), found), len(found)) & matched
        kind[quiet] = QUIET
        matched &= ~quiet
    rows = np.flatnonzero(matched)
    if not len(rows):
        return None
    cols = dict(zip(at, zip(*_pick(found, rows), strict=True), strict=True))
    values, number = _floats([cols[f"v{j}"] for j in range(len(layout.names))])
    keep = number.any(axis=1)  # a line without a number is a bad line: the per-line parser's
    if not keep.all():
        rows, values, number = rows[keep], values[keep], number[keep]
        cols = {k: _pick(v, np.flatnonzero(keep)) for k, v in cols.items()}
    kind[rows] = TRAIN
    return _Lines(rows, *_positions(cols, dialect), values, number, layout.names)


def _joined(starts: np.ndarray, kind: np.ndarray, parts: list[_Lines]) -> Scan:
    """One scan of the lines the layouts read, in line order, records row by row."""
    names: dict[str, int] = {}
    lines, records = [], []
    for p in parts:
        code = np.array([names.setdefault(n, len(names)) for n in p.names], np.int64)
        lines.append((p.rows, p.step, p.planned, p.wall))
        records.append(
            (
                np.repeat(p.rows, p.number.sum(axis=1)),
                np.broadcast_to(code, p.number.shape)[p.number],
                p.values[p.number],
            )
        )
    if not parts:
        none = np.empty(0, np.int64)
        return Scan(starts, kind, none, none, none, np.empty(0), [], none, none, np.empty(0))
    rows, step, planned, wall = (np.concatenate(c) for c in zip(*lines, strict=True))
    line, name, value = (np.concatenate(c) for c in zip(*records, strict=True))
    if len(parts) > 1:  # several layouts: back to line order (a line's records stay together)
        order = np.argsort(rows, kind="stable")
        rows, step, planned, wall = rows[order], step[order], planned[order], wall[order]
        order = np.argsort(line, kind="stable")
        line, name, value = line[order], name[order], value[order]
    record_row = np.searchsorted(rows, line)
    return Scan(starts, kind, rows, step, planned, wall, list(names), record_row, name, value)


def _prefixable(data: bytes, starts: np.ndarray) -> np.ndarray:
    """EACH where a line may carry a log prefix: it starts with a digit, or it is redrawn or
    coloured (a backspace, an escape, a carriage return before its end); else PLAIN."""
    arr = np.frombuffer(data, np.uint8)
    kind = np.where(_DIGIT[arr[starts[:-1]]], EACH, PLAIN).astype(np.int8)
    cr = np.flatnonzero(arr[:-1] == 13)
    odd = np.concatenate(
        (np.flatnonzero((arr == 8) | (arr == 27)), cr[(arr[cr + 1] != 13) & (arr[cr + 1] != 10)])
    )
    kind[np.searchsorted(starts, odd, "right") - 1] = EACH
    return kind


def _floats(columns: list[tuple[bytes, ...]]) -> tuple[np.ndarray, np.ndarray]:
    """``to_float`` of each text (no ``_`` in them: the layouts refuse it) as a lines × columns
    matrix (0 where none) and where there is one; one C-level pass when all are numbers."""
    size = len(columns[0])
    try:
        flat = np.fromiter(
            map(float, chain.from_iterable(columns)), np.float64, len(columns) * size
        )
        return flat.reshape(len(columns), size).T, np.ones((size, len(columns)), bool)
    except ValueError:
        pass
    got = [[to_float(t.decode("ascii")) for t in texts] for texts in columns]
    values = np.array([[0.0 if v is None else v for v in col] for col in got], np.float64)
    return values.T, np.array([[v is not None for v in col] for col in got], bool).T


def _positions(
    cols: dict[str, tuple[bytes, ...]], dialect: Dialect
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step, planned steps (-1: none) and wall time of each line read in bulk."""
    step, planned = _whole(cols["it"]), _whole(cols["max"])
    epochs = np.flatnonzero(planned < 0)  # ``Epoch [e][i/n]``: no ``it``, no ``max``
    if len(epochs):
        ep, inner, size = (_whole(cols[k])[epochs] for k in ("ep", "inner", "len"))
        step[epochs] = (ep - 1) * size + inner
    (year,) = _digits(cols["year"], ((0, 4),))
    clock = _digits(cols["stamp"], dialect.clock)
    seconds = utc_seconds_array(year, *clock[:5])
    wall = np.where(year >= 0, seconds, np.nan)  # a console copy states no year
    if len(clock) > 5:
        wall = wall + clock[5] / 1000.0
    return step, planned, wall


_POWERS = np.array(
    [[10 ** (n - 1 - k) if k < n else 0 for k in range(18)] for n in range(19)], np.int64
)


def _whole(texts: Sequence[bytes]) -> np.ndarray:
    """The integers written by up to 18 digits (-1 for an empty text)."""
    grid = np.array(texts, "S18").view(np.uint8).reshape(-1, 18)
    size = np.count_nonzero(grid, axis=1)
    value: np.ndarray = ((grid.astype(np.int64) - 48) * _POWERS[size]).sum(axis=1)
    value[size == 0] = -1
    return value


def _digits(texts: Sequence[bytes], fields: Sequence[tuple[int, int]]) -> list[np.ndarray]:
    """The numbers written at (start, length) of each fixed-width text (digits, as the line
    pattern matched them; -1 where the text is empty)."""
    width = max(a + n for a, n in fields)
    grid = np.array(texts, f"S{width}").view(np.uint8).reshape(-1, width).astype(np.int64) - 48
    weights = np.zeros((width, len(fields)), np.int64)
    for f, (start, length) in enumerate(fields):
        weights[start : start + length, f] = 10 ** np.arange(length - 1, -1, -1)
    values = grid @ weights
    values[grid[:, 0] < 0] = -1  # no text: NUL bytes
    return list(values.T)


def _pick(items: Sequence[_T], at: np.ndarray) -> tuple[_T, ...]:
    """The items at positions ``at``."""
    if len(at) == 1:
        return (items[int(at[0])],)
    return tuple(itemgetter(*at.tolist())(items)) if len(at) else ()


def _present(texts: Iterable[bytes], size: int) -> np.ndarray:
    return np.fromiter(map(bool, texts), bool, size)
