"""What the four MMSegmentation readers share: metric names, units, text prefixes, tables.

MMSeg names its scores ``mIoU``, ``IoU.<class>``…; segwatch's table uses ``miou``,
``iou/<class>``. MMSeg 1.x prints every score in percent, 0.x in fractions (tables: percent).
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from metrics.readers._jsonl_blocks import Column, Columns
from metrics.readers.base import RecordBuilder
from metrics.readers.mapping import MAX_STEP

# summary scores: MMSeg key -> canonical name
_SUMMARY = {
    "mIoU": "miou",
    "mAcc": "macc",
    "aAcc": "aacc",
    "mDice": "mdice",
    "mFscore": "mfscore",
    "mPrecision": "mprecision",
    "mRecall": "mrecall",
}
# per-class score prefixes: MMSeg prefix -> canonical prefix
_PER_CLASS = {
    "IoU": "iou/",
    "Acc": "acc/",
    "Dice": "dice/",
    "Fscore": "fscore/",
    "Precision": "precision/",
    "Recall": "recall/",
}
#: keys that say where a record sits, not what was measured
POSITION_KEYS = frozenset({"mode", "epoch", "iter", "step"})

_NAME_CACHE: dict[str, str] = {}


def metric_name(key: str) -> str:
    """The canonical name of an MMSeg log key (``mIoU`` -> ``miou``, ``IoU.cat`` -> ``iou/cat``)."""
    name = _NAME_CACHE.get(key)
    if name is None:
        name = _canonical(key)
        _NAME_CACHE[key] = name
    return name


def _canonical(key: str) -> str:
    if key in _SUMMARY:
        return _SUMMARY[key]
    head, dot, cls = key.partition(".")
    if dot and cls and head in _PER_CLASS:
        return _PER_CLASS[head] + cls
    return key


def is_score(key: str) -> bool:
    """Whether an MMSeg key is an IoU/accuracy-type score (percent in MMSeg 1.x)."""
    if key in _SUMMARY:
        return True
    head, dot, cls = key.partition(".")
    return bool(dot and cls and head in _PER_CLASS)


def from_percent(values: np.ndarray) -> np.ndarray:
    """Percent as fractions, rounded to 12 places (``55.9`` gives ``0.559``, not ``0.55899…``)."""
    return np.round(np.asarray(values, np.float64) / 100.0, 12)


def table_metric(column: str, class_name: str) -> str:
    """The canonical name of a per-class table cell (``IoU`` of ``cat`` -> ``iou/cat``)."""
    prefix = _PER_CLASS.get(column, column.lower() + "/")
    return prefix + class_name


def to_float(text: str) -> float | None:
    """A printed number (``0.4917``, ``nan``, ``9.971e-03``) as a float, or None."""
    if "_" in text:  # float() would read "28_0" as 280
        return None
    try:
        return float(text)
    except ValueError:
        return None


def utc_seconds(y: int, mo: int, d: int, h: int, mi: int, s: int) -> float:
    """Seconds since the epoch of a zone-less stamp, read as UTC."""
    try:
        return float(calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)))
    except (ValueError, OverflowError):
        return math.nan


def utc_seconds_array(
    y: np.ndarray, mo: np.ndarray, d: np.ndarray, h: np.ndarray, mi: np.ndarray, s: np.ndarray
) -> np.ndarray:
    """``utc_seconds`` of many stamps: as ``calendar.timegm``, linear in day, hour, minute and
    second (a 31 February is 3 March), NaN where the year or month is out of range."""
    valid = (y >= 1) & (y <= 9999) & (mo >= 1) & (mo <= 12)
    year = y - (mo <= 2)  # years from March, so that February is last
    era = year // 400
    yoe = year - era * 400
    first = (153 * (mo + np.where(mo > 2, -3, 9)) + 2) // 5  # the month's first day, from March
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + first - 719468 + d - 1
    seconds = (days * 86400 + h * 3600 + mi * 60 + s).astype(np.float64)
    return np.where(valid, seconds, np.nan)


_KV_SPLIT = re.compile(r", (?=[^,:]+: )")


def split_fields(text: str) -> list[tuple[str, str]]:
    """``key: value`` pairs of an mmcv line joined by ``", "`` (``eta: 1 day, 3:03:21`` kept)."""
    pairs = []
    for piece in _KV_SPLIT.split(text.strip()):
        key, sep, value = piece.partition(": ")
        if sep:
            pairs.append((key.strip(), value.strip()))
    return pairs


def int_column(col: Column | None, n: int) -> np.ndarray:
    """A JSON column of integers as floats (NaN where a value is missing or not an integer)."""
    if col is None:
        return np.full(n, np.nan)
    try:
        values = np.array(col, np.float64)
    except (TypeError, ValueError):
        values = None
    if values is None or values.shape != (n,):  # text, or lists that numpy made 2-D
        values = np.array([v if type(v) is int else math.nan for v in col], np.float64)
    values[(values != np.floor(values)) | (np.abs(values) >= MAX_STEP)] = np.nan
    return values


def emit_columns(
    out: RecordBuilder,
    split: str,
    cols: Columns,
    skip: frozenset[str],
    pos: np.ndarray,
    keep: np.ndarray,
    offs: np.ndarray,
    steps: np.ndarray,
    rename: Callable[[str], str],
    scale: Callable[[str, np.ndarray], np.ndarray] | None = None,
) -> None:
    """Add the numeric columns of one key-sequence block (rows where ``keep``) as records."""
    every = keep.all()
    at = pos if every else pos[keep]
    block_offs, block_steps = offs[at], steps[at]  # shared by the block's full columns
    for key, col in cols.items():
        name = rename(key)
        if name in skip:
            continue
        for sub, rows, values in numeric_columns(name, col):
            if rows is None:
                sub_offs, sub_steps = block_offs, block_steps
                vals = values if every else values[keep]
            else:
                mask = keep[rows]
                sub_at = pos[rows][mask]
                sub_offs, sub_steps, vals = offs[sub_at], steps[sub_at], values[mask]
            if scale is not None:
                vals = scale(name, vals)
            out.add_many(split, metric_name(sub), sub_offs, sub_steps, vals)


def numeric_columns(key: str, col: Column) -> list[tuple[str, np.ndarray | None, np.ndarray]]:
    """Float columns of one JSON column as ``(name, rows or None for all, values)``.

    A number per row gives one column; per-param-group dicts (``lr``) give ``key`` (the first
    group) plus ``key/<group>`` for the rows that have that group. Text values are dropped.
    """
    if isinstance(col, np.ndarray):  # decoded by numpy: floats already
        return [(key, None, col)]
    try:
        values = np.array(col, np.float64)
        if values.ndim == 1:  # lists of numbers would make it 2-D
            return [(key, None, values)]
    except (TypeError, ValueError):
        pass
    main = [_first(v) for v in col]
    rows = np.array([v is not None for v in main], bool)
    out = [(key, np.flatnonzero(rows), np.array([v for v in main if v is not None], np.float64))]
    groups = dict.fromkeys(g for v in col if isinstance(v, dict) for g in v)
    for g in groups:
        found = [(i, v[g]) for i, v in enumerate(col) if isinstance(v, dict) and _number(v.get(g))]
        idx = np.array([i for i, _ in found], np.int64)
        out.append((f"{key}/{g}", idx, np.array([x for _, x in found], np.float64)))
    return [c for c in out if len(c[2])]


def _number(v: Any) -> bool:
    return isinstance(v, int | float) or v is None


def _first(v: Any) -> float | None:
    """A row's main value: the number itself, or a dict's first group; None for text."""
    if isinstance(v, dict):
        v = next(iter(v.values()), None)
    if v is None:
        return math.nan
    return float(v) if isinstance(v, int | float) else None
