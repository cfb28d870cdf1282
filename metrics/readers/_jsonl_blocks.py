"""Parsed JSON records grouped into column blocks by key set, the order the readers emit them.

Records sharing a key set form one block, blocks ordered by number of keys and then first
appearance, columns in the first record's key order. Decoded lines (numpy columns) and parsed
lines (Python values) sharing a key set are merged into the same block, so a piece gives the
same blocks whichever way its lines were read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import numpy as np

#: a column: floats decoded by numpy, or the parsed values
Column = np.ndarray | tuple[Any, ...]
Columns = dict[str, Column]
Block = tuple[np.ndarray, Columns]
_EXACT_INT = 2**53


@dataclass(frozen=True)
class Member:
    """Records of one key set read one way: positions in the piece (ascending), columns."""

    keys: tuple[str, ...]
    pos: np.ndarray
    cols: Columns


def assemble(members: list[Member], record: Callable[[int], dict[str, Any]]) -> list[Block]:
    """One block per key set; ``record(j)`` parses record ``j`` where columns cannot merge."""
    by_set: dict[frozenset[str], list[Member]] = {}
    for m in members:
        by_set.setdefault(frozenset(m.keys), []).append(m)
    groups = sorted(by_set.values(), key=lambda ms: (len(ms[0].keys), min(m.pos[0] for m in ms)))
    return [_merge(ms, record) for ms in groups]


def _merge(members: list[Member], record: Callable[[int], dict[str, Any]]) -> Block:
    if len(members) == 1:
        return members[0].pos, members[0].cols
    keys = min(members, key=lambda m: int(m.pos[0])).keys
    pos = np.concatenate([m.pos for m in members])
    order = np.argsort(pos, kind="stable")
    cols: Columns = {}
    for key in keys:
        col = _merge_column([m.cols[key] for m in members], order)
        if col is None:  # numbers decoded here, text or dicts there: as parsed values
            recs = [record(j) for j in pos[order].tolist()]
            return pos[order], {k: tuple(map(itemgetter(k), recs)) for k in keys}
        cols[key] = col
    return pos[order], cols


def _merge_column(parts: list[Column], order: np.ndarray) -> Column | None:
    arrays = [isinstance(p, np.ndarray) for p in parts]
    if not any(arrays):
        flat = [v for p in parts for v in p]
        return tuple(flat[i] for i in order.tolist())
    floats = []
    for part in parts:
        if not isinstance(part, np.ndarray):
            if not all(_plain_number(v) for v in part):
                return None
            part = np.array(part, np.float64)
        floats.append(part)
    merged: np.ndarray = np.concatenate(floats)[order]
    return merged


def _plain_number(v: Any) -> bool:
    """Whether numpy turns ``v`` into the float it stands for (as for a column of numbers)."""
    return type(v) is float or (type(v) is int and -_EXACT_INT < v < _EXACT_INT)


def member_of_records(recs: list[dict[str, Any]], at: np.ndarray) -> list[Member]:
    """Parsed records (at positions ``at``) as one member per key set."""
    return [Member(tuple(cols), at[pos], cols) for pos, cols in columns_by_keys(recs)]


def columns_by_keys(recs: list[dict[str, Any]]) -> list[tuple[np.ndarray, Columns]]:
    """Records sharing a key set, as (their positions, their values column by column).

    Records are grouped by their number of keys; a group whose records all have the first
    one's keys is one block (a C-level ``map`` per key, no Python loop per record).
    """
    sizes = np.fromiter(map(len, recs), np.int64, len(recs))
    blocks: list[tuple[np.ndarray, Columns]] = []
    distinct = np.unique(sizes)
    for size in distinct:
        at = np.flatnonzero(sizes == size) if len(distinct) > 1 else np.arange(len(recs))
        sub = recs if len(distinct) == 1 else _pick(recs, at)
        try:
            blocks.append((at, {k: tuple(map(itemgetter(k), sub)) for k in sub[0]}))
        except KeyError:
            blocks.extend((at[p], cols) for p, cols in _by_key_tuples(sub))
    return blocks


def _pick(recs: list[dict[str, Any]], pos: np.ndarray) -> list[dict[str, Any]]:
    return [recs[int(pos[0])]] if len(pos) == 1 else list(itemgetter(*pos.tolist())(recs))


def _by_key_tuples(recs: list[dict[str, Any]]) -> list[tuple[np.ndarray, Columns]]:
    """Records with the same number of keys but different keys: grouped one by one."""
    groups: dict[frozenset[str], list[int]] = {}
    for j, rec in enumerate(recs):
        groups.setdefault(frozenset(rec), []).append(j)
    blocks: list[tuple[np.ndarray, Columns]] = []
    for pos in groups.values():
        sub = [recs[j] for j in pos]
        blocks.append((np.asarray(pos, np.int64), {k: tuple(r[k] for r in sub) for k in sub[0]}))
    return blocks
