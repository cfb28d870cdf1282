"""PaddleSeg ``[TRAIN]`` lines in bulk: numpy per field over all lines, Python only for oddities.

A run prints every train line with one format string, so the first line gives a layout (the
literal text between numbers, each number's decimals) that numpy checks and decodes on every
line at once. Lines that do not fit (``nan``, a negative loss, another launch's layout) are
parsed one by one, or give a new layout when many lines share it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from metrics.readers import _paddleseg_swar as swar
from metrics.readers._paddleseg_common import (
    TRAIN_TAG,
    parse_train_body,
)

_BLOCK = 1 << 15  # rows per numpy block: their text stays in cache across the fields
_SCAN = 1 << 20  # bytes per block of the tag scan (its temporaries stay small and reused)
_MAX_LAYOUTS = 8
# PaddleSeg <= 2.9 logger, develop's logging.Formatter; D marks a digit
_STAMPS = (b"DDDD-DD-DD DD:DD:DD [INFO]\t", b"[DDDD/DD/DD DD:DD:DD] INFO: ")


@dataclass(frozen=True)
class Field:
    """One number of a train line: the text before it, its name and decimals (-1: integer)."""

    literal: bytes
    name: str
    frac: int


Rows = np.ndarray | slice  # row indices, or every row


@dataclass
class TrainRows:
    """Train lines of one chunk, in file order; ``values`` holds (rows, values) per name."""

    tag: np.ndarray  # position of ``[TRAIN]`` in the chunk
    start: np.ndarray  # position of the record's text (its time prefix, else the tag)
    step: np.ndarray
    wall: np.ndarray
    values: dict[str, tuple[Rows, np.ndarray]] = field(default_factory=dict)
    planned: int | None = None
    epoch: int | None = None
    bad: list[tuple[int, str]] = field(default_factory=list)  # (tag position, reason)


def find_tags(data: bytes, tags: tuple[bytes, ...]) -> list[np.ndarray]:
    """Positions of each tag (up to 8 bytes, starting with ``[``): one numpy scan for ``[``."""
    arr = np.frombuffer(data, np.uint8)
    view = swar.blocks(data, 8)
    masks = [np.uint64((1 << (8 * len(t))) - 1) for t in tags]
    words = [np.uint64(int.from_bytes(t, "little")) for t in tags]
    found: list[list[np.ndarray]] = [[np.empty(0, np.int64)] for _ in tags]
    for lo in range(0, len(view), _SCAN):
        cand = np.flatnonzero(arr[lo : min(lo + _SCAN, len(view))] == ord("[")) + lo
        got = swar.gather(view, cand, np.ones(len(cand), bool))[:, 0]
        for i, (mask, word) in enumerate(zip(masks, words, strict=True)):
            found[i].append(cand[(got & mask) == word])
    return [np.concatenate(f).astype(np.int64) for f in found]


def read_train_lines(data: bytes, tags: np.ndarray) -> TrainRows:
    """The ``[TRAIN]`` lines of ``data`` (whole lines) whose tags are at ``tags``, decoded."""
    n = len(tags)
    start, wall = _stamps(data, tags)
    step = np.zeros(n, np.int64)
    planned = np.full(n, -1, np.int64)
    epoch = np.full(n, -1, np.int64)
    good = np.zeros(n, bool)
    parts: dict[str, list[tuple[Rows, np.ndarray]]] = {}
    rows = TrainRows(tags, start, step, wall)
    remaining = np.arange(n)
    layouts = 0
    while len(remaining):
        first = int(remaining[0])
        layout = None
        if layouts < _MAX_LAYOUTS and len(remaining) > 32:
            layout = _layout(_body(data, int(tags[first])))
        if layout is None:  # a one-off line (nan, a negative value) or few lines left
            _one_row(data, first, rows, parts, good, planned, epoch)
            remaining = remaining[1:]
            continue
        layouts += 1
        every = len(remaining) == n  # the first layout, usually the whole run's
        ok, values = _match(data, (tags if every else tags[remaining]) + len(TRAIN_TAG), layout)
        if ok.all():  # the common case: no copies
            _store(slice(None) if every else remaining, values, parts, good, step, planned, epoch)
        else:
            matched = {k: v[ok] for k, v in values.items()}
            _store(remaining[ok], matched, parts, good, step, planned, epoch)
        if not ok[0]:  # the layout's own line does not fit it: parsed alone, so the loop ends
            _one_row(data, first, rows, parts, good, planned, epoch)
            ok[0] = True
        remaining = remaining[~ok]
    rows.values = {
        name: _merge(chunks) for name, chunks in parts.items() if name not in ("epoch", "planned")
    }
    rows.bad = [(int(tags[i]), reason) for i, reason in rows.bad]
    if not good.all():
        rows.tag, rows.start, rows.step, rows.wall = tags[good], start[good], step[good], wall[good]
        index = np.cumsum(good) - 1
        rows.values = {k: (index[r], v) for k, (r, v) in rows.values.items()}
    if good.any():
        last = np.flatnonzero(good)[-1]
        rows.planned = int(planned[last]) if planned[last] >= 0 else None
        rows.epoch = int(epoch[last]) if epoch[last] >= 0 else None
    return rows


def _merge(chunks: list[tuple[Rows, np.ndarray]]) -> tuple[Rows, np.ndarray]:
    """One metric's (rows, values) pieces in row order (usually already in order: no sort then)."""
    if len(chunks) == 1:
        return chunks[0]
    idx = np.concatenate([_indices(c[0], len(c[1])) for c in chunks])
    val = np.concatenate([c[1] for c in chunks])
    if bool(np.all(idx[1:] >= idx[:-1])):
        return idx, val
    order = np.argsort(idx, kind="stable")
    return idx[order], val[order]


def _indices(rows: Rows, n: int) -> np.ndarray:
    return np.arange(n) if isinstance(rows, slice) else rows


def _store(
    matched: Rows,
    values: dict[str, np.ndarray],
    parts: dict[str, list[tuple[Rows, np.ndarray]]],
    good: np.ndarray,
    step: np.ndarray,
    planned: np.ndarray,
    epoch: np.ndarray,
) -> None:
    good[matched] = True
    ints = {"iter": step, "planned": planned, "epoch": epoch}
    for name, vals in values.items():
        if name in ints:
            ints[name][matched] = vals  # whole numbers: cast in place, no temporary
        else:
            parts.setdefault(name, []).append((matched, vals))


def _one_row(
    data: bytes,
    i: int,
    rows: TrainRows,
    parts: dict[str, list[tuple[Rows, np.ndarray]]],
    good: np.ndarray,
    planned: np.ndarray,
    epoch: np.ndarray,
) -> None:
    parsed = parse_train_body(_body(data, int(rows.tag[i])))
    if isinstance(parsed, str):
        rows.bad.append((i, parsed))
        return
    good[i] = True
    rows.step[i] = parsed.step
    planned[i] = -1 if parsed.planned is None else parsed.planned
    epoch[i] = -1 if parsed.epoch is None else parsed.epoch
    one = np.array([i])
    for name, value in parsed.values.items():
        parts.setdefault(name, []).append((one, np.array([value])))


def _body(data: bytes, tag: int) -> bytes:
    end = data.find(b"\n", tag)
    return data[tag + len(TRAIN_TAG) : len(data) if end < 0 else end]


_NUMBER = re.compile(rb"\d+(?:\.(\d*))?")


def _layout(body: bytes) -> list[Field] | None:
    """The literal/number layout of one train line, or None if a value is not a plain number."""
    parsed = parse_train_body(body)
    if isinstance(parsed, str):
        return None
    fields: list[Field] = []
    literal = b""
    for part in parsed.parts:
        literal += part.literal
        for name, text in part.numbers:
            m = _NUMBER.fullmatch(text)
            frac = -1 if m is None or m.group(1) is None else len(m.group(1))
            if m is None or len(text) - frac - 1 > 8 or frac > 7:
                return None
            fields.append(Field(literal, name, frac))
            literal = b"/"
        literal = part.unit
    literal += b" | ETA "
    fields.append(Field(literal, "", 0))  # the tail after the last number
    if any(not f.literal or len(f.literal) > 32 for f in fields) or len(literal) > 24:
        return None  # a number must end where a literal starts; literals must fit the gathers
    return fields


def _match(
    data: bytes, body: np.ndarray, layout: list[Field]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Which lines fit ``layout`` (bodies starting at ``body``) and their numbers."""
    around, head, tail_view = swar.blocks(data, 32), swar.blocks(data, 16), swar.blocks(data, 24)
    n = len(body)
    ok_all = np.ones(n, bool)
    out = {f.name: np.empty(n) for f in layout[:-1]}
    stops = [nxt.literal[0] for nxt in layout[1:]]
    tail = layout[-1].literal
    for lo in range(0, n, _BLOCK):
        cur = body[lo : lo + _BLOCK]
        ok = ok_all[lo : lo + _BLOCK]  # a view: the checks clear it in place
        for f, stop in zip(layout[:-1], stops, strict=True):
            size = len(f.literal)
            if size > 16:
                ok &= swar.literal_at(swar.gather(head, cur, ok), 0, f.literal[:-16])
            rows = swar.gather(around, cur + size - 16, ok)  # the literal's end, the number
            if size:
                ok &= swar.literal_at(rows, 16 - min(size, 16), f.literal[-16:])
            value, length = swar.number(rows[:, 2], rows[:, 3], f.frac, stop, ok)
            out[f.name][lo : lo + _BLOCK] = value
            cur = cur + size + length
        ok &= swar.literal_at(swar.gather(tail_view, cur, ok), 0, tail)
    return ok_all, out


def _stamps(data: bytes, tags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start of each record's text and its wall time, from the stamp right before the tag."""
    start, wall = _stamps_at(data, tags)
    near = tags < 32  # a stamp at the very start of the chunk: the same check, on a padded copy
    if near.any():
        s, w = _stamps_at(b"\n" * 32 + data[:64], tags[near] + 32)
        start[near], wall[near] = s - 32, w
    return start, wall


def _stamps_at(data: bytes, tags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    view = swar.blocks(data, 32)
    start = tags.copy()
    wall = np.full(len(tags), np.nan)
    for lo in range(0, len(tags), _BLOCK):
        t = tags[lo : lo + _BLOCK]
        ok = np.ones(len(t), bool)
        rows = swar.gather(view, t - 32, ok)
        for stamp in _STAMPS:
            if not ok.any():
                break
            fits, seconds = swar.stamp(rows, stamp)
            fits &= ok
            ok &= ~fits  # the other stamp only for the rest
            wall[lo : lo + _BLOCK][fits] = seconds[fits]
            start[lo : lo + _BLOCK][fits] = t[fits] - len(stamp)
    return start, wall
