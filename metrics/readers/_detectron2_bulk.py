"""Detectron2 ``metrics.json`` lines in bulk: each parsed once, records built column by column.

Each line is parsed on its own by orjson, or by the standard library where orjson refuses it
(bare ``NaN``, a number beyond a double, another encoding), so a line's object is the one
``json.loads`` gives. Lines sharing a key sequence then give their numbers a column at a time
(one C-level conversion where every value is a float) instead of a Python call per value, and
the records come out in the order reading every line would add them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np
import orjson

from metrics.readers.mapping import MAX_STEP, as_number

_NESTED = 256  # brackets in a line beyond which the standard library alone parses it


@dataclass
class Lines:
    """The lines of one piece that hold a record (``line``: their index, ascending), their
    objects and iterations, the objects grouped by key sequence, and the bad lines."""

    line: list[int]
    objs: list[dict[str, Any]]
    iteration: list[int]
    groups: dict[tuple[str, ...], list[int]]  # key sequence -> objects (positions, ascending)
    bad: list[tuple[int, str]]  # (line index, reason), in line order

    def train(self) -> list[bool]:
        """Which objects hold a train scalar (a key without ``/`` other than ``iteration``)."""
        flags = [False] * len(self.objs)
        for keys, at in self.groups.items():
            if any("/" not in k and k != "iteration" for k in keys):
                for j in at:
                    flags[j] = True
        return flags


def read_lines(lines: Sequence[bytes], load: Callable[[bytes], dict[str, Any] | None]) -> Lines:
    """Parse each non-blank line (``load``: the standard library's reading, for lines orjson
    refuses and deeply nested ones, where the standard library may run out of recursion
    while orjson does not) and keep those with an integer ``iteration``."""
    out = Lines([], [], [], {}, [])
    for i, raw in enumerate(lines):
        if not raw.strip():
            continue
        if len(raw) > 2 * _NESTED and raw.count(b"[") + raw.count(b"{") > _NESTED:
            obj = load(raw)  # as deep as json.loads may refuse
        else:
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError:
                obj = load(raw)
        if type(obj) is not dict:
            out.bad.append((i, "not a JSON object"))
            continue
        it = obj.get("iteration")
        if type(it) is not int or not -MAX_STEP < it < MAX_STEP:
            out.bad.append((i, "no integer 'iteration'"))
            continue
        out.groups.setdefault(tuple(obj), []).append(len(out.objs))
        out.line.append(i)
        out.objs.append(obj)
        out.iteration.append(it)
    return out


#: how a key sequence's values become records: (key, split, metric, percent) in record order
Fields = Callable[[tuple[str, ...]], list[tuple[str, str, str, bool]]]


def records(
    found: Lines, fields: Fields
) -> tuple[list[tuple[str, str]], np.ndarray, np.ndarray, np.ndarray]:
    """The records of ``found`` in order (object by object, an object's fields in ``fields``
    order; values that are not numbers skipped): the series (split, metric), and each record's
    object, series code and value."""
    series: dict[tuple[str, str], int] = {}
    parts = []
    for keys, at in found.groups.items():
        cols = fields(keys)
        if not cols:
            continue
        values, number = _numbers([found.objs[j] for j in at], [key for key, *_ in cols])
        percent = [c for c, (*_, pct) in enumerate(cols) if pct]
        if percent:
            values[:, percent] /= 100.0
        code = np.array([series.setdefault((s, m), len(series)) for _, s, m, _ in cols], np.int64)
        parts.append(
            (
                np.repeat(np.array(at, np.int64), number.sum(axis=1)),
                np.broadcast_to(code, number.shape)[number],
                values[number],
            )
        )
    if not parts:
        none = np.empty(0, np.int64)
        return [], none, none, np.empty(0)
    obj, codes, value = (np.concatenate(c) for c in zip(*parts, strict=True))
    if len(parts) > 1:  # key sequences interleave: back to object order
        order = np.argsort(obj, kind="stable")
        obj, codes, value = obj[order], codes[order], value[order]
    return list(series), obj, codes, value


def _numbers(recs: list[dict[str, Any]], keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """``as_number`` of each record's ``keys`` (objects × keys): the numbers (0 where none) and
    where there is one; one C-level conversion where every value is a float."""
    get = itemgetter(*keys)
    rows = list(map(get, recs)) if len(keys) > 1 else [(v,) for v in map(get, recs)]
    if set(map(type, chain.from_iterable(rows))) == {float}:
        return np.array(rows, np.float64), np.ones((len(rows), len(keys)), bool)
    got = [[as_number(v) for v in row] for row in rows]
    number = np.array([[v is not None for v in row] for row in got], bool)
    return np.array([[0.0 if v is None else v for v in row] for row in got], np.float64), number
