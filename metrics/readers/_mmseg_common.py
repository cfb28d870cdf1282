"""What the four MMSegmentation readers share: metric names, units, text prefixes, tables.

MMSeg names its scores ``mIoU``, ``IoU.<class>``…; segwatch's table uses ``miou``,
``iou/<class>``. MMSeg 1.x prints every score in percent, 0.x in fractions (tables: percent).
"""

from __future__ import annotations

import calendar
import json
import math
import re
from abc import abstractmethod
from collections.abc import Callable
from operator import itemgetter
from typing import Any, ClassVar

import numpy as np
import orjson

from metrics.readers.base import LineParser, RecordBuilder
from metrics.readers.mapping import MAX_STEP
from metrics.readers.textutil import last_segment, strip_ansi

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


class TableCollector:
    """Collects the per-class PrettyTable (or older plain table) MMSeg prints before a val line.

    The rows carry no log prefix, so the collector is fed every unprefixed line after a
    ``per class results:`` message until the next prefixed line. Cells are percent.
    """

    def __init__(self) -> None:
        self.active = False
        self.columns: list[str] = []
        self.rows: list[tuple[str, list[float]]] = []

    def start(self) -> None:
        """A ``per class results:`` message: forget the previous table."""
        self.active = True
        self.columns = []
        self.rows = []

    def stop(self) -> None:
        """A prefixed line: the table (if any) is complete."""
        self.active = False

    def take(self) -> tuple[list[str], list[tuple[str, list[float]]]]:
        """The collected table, forgotten afterwards (one table per evaluation)."""
        table = (self.columns, self.rows)
        self.columns, self.rows, self.active = [], [], False
        return table

    def feed(self, text: str) -> None:
        """One unprefixed line while collecting."""
        line = text.strip()
        if not line or line.startswith("+") or line.startswith("-"):
            return
        cells = [c.strip() for c in line.strip("|").split("|")] if "|" in line else line.split()
        if not cells:
            return
        if cells[0] == "Class":
            self.columns = cells[1:]
            return
        if not self.columns:
            return
        n = len(self.columns)
        name = " ".join(cells[:-n]) if "|" not in line else cells[0]
        values = [to_float(c) for c in cells[-n:]]
        if len(cells) <= n or not name or any(v is None for v in values):
            return
        self.rows.append((name, [v for v in values if v is not None]))


_KV_SPLIT = re.compile(r", (?=[^,:]+: )")


def split_fields(text: str) -> list[tuple[str, str]]:
    """``key: value`` pairs of an mmcv line joined by ``", "`` (``eta: 1 day, 3:03:21`` kept)."""
    pairs = []
    for piece in _KV_SPLIT.split(text.strip()):
        key, sep, value = piece.partition(": ")
        if sep:
            pairs.append((key.strip(), value.strip()))
    return pairs


class JsonLinesParser(LineParser):
    """JSON lines parsed in batches and handed on column-wise (fast on million-line logs).

    A batch is parsed as one JSON array by orjson; a batch with a line orjson rejects (bare
    ``NaN``, a torn line) is parsed line by line, with the standard library for ``NaN``.
    """

    parse_unterminated_tail = True
    batch_bytes: ClassVar[int] = 4 << 20

    def parse_lines(self, data: bytes, offset: int, out: RecordBuilder) -> None:
        pos = 0
        lines_before = 0
        while pos < len(data):  # pieces of ~batch_bytes, cut after a newline
            end = data.rfind(b"\n", pos, pos + self.batch_bytes) + 1
            end = end if end > pos else data.find(b"\n", pos) + 1 or len(data)
            lines_before += self._parse_piece(data[pos:end], pos, lines_before, data, offset, out)
            pos = end

    def _parse_piece(
        self,
        piece: bytes,
        pos: int,
        lines_before: int,
        data: bytes,
        offset: int,
        out: RecordBuilder,
    ) -> int:
        lines = piece.split(b"\n")
        if not lines[-1]:
            lines.pop()
        lens = np.fromiter(map(len, lines), np.int64, len(lines))
        starts = np.zeros(len(lines), np.int64)
        np.cumsum(lens[:-1] + 1, out=starts[1:])
        if all(lines):  # no empty lines
            idx = list(range(len(lines)))
        else:
            idx = [i for i, x in enumerate(lines) if x]
            lines = [lines[i] for i in idx]
        recs, kept = self._load(lines, idx, lines_before, data, out)
        if recs:
            offs = offset + pos + starts[np.asarray(kept, np.int64)]
            self.handle(recs, offs, data, offset, out)
        return len(starts)

    def _load(
        self, lines: list[bytes], idx: list[int], first: int, data: bytes, out: RecordBuilder
    ) -> tuple[list[dict[str, Any]], list[int]]:
        try:
            recs = orjson.loads(b"[" + b",".join(lines) + b"]")
            if all(type(r) is dict for r in recs):
                return recs, idx
        except orjson.JSONDecodeError:
            pass
        good: list[dict[str, Any]] = []
        kept: list[int] = []
        for i, line in zip(idx, lines, strict=True):
            if line.isspace():
                continue
            rec = _loads(line)
            if isinstance(rec, dict):
                good.append(rec)
                kept.append(i)
            else:
                out.bad(self.lines_before + first + i + 1, "not a JSON object", line)
        return good, kept

    @abstractmethod
    def handle(
        self,
        recs: list[dict[str, Any]],
        offs: np.ndarray,
        data: bytes,
        base: int,
        out: RecordBuilder,
    ) -> None:
        """Records of parsed lines (in file order) with the byte offsets of their lines."""


def _loads(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(line)  # accepts NaN / Infinity
    except ValueError:
        return None


Columns = dict[str, tuple[Any, ...]]


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
    blocks = []
    for pos in groups.values():
        sub = [recs[j] for j in pos]
        blocks.append((np.asarray(pos, np.int64), {k: tuple(r[k] for r in sub) for k in sub[0]}))
    return blocks


def int_column(col: tuple[Any, ...] | None, n: int) -> np.ndarray:
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
    cols: dict[str, tuple[Any, ...]],
    skip: frozenset[str],
    pos: np.ndarray,
    keep: np.ndarray,
    offs: np.ndarray,
    steps: np.ndarray,
    rename: Callable[[str], str],
    scale: Callable[[str, np.ndarray], np.ndarray] | None = None,
) -> None:
    """Add the numeric columns of one key-sequence block (rows where ``keep``) as records."""
    for key, col in cols.items():
        name = rename(key)
        if name in skip:
            continue
        for sub, rows, values in numeric_columns(name, col):
            mask = keep if rows is None else keep[rows]
            at = (pos if rows is None else pos[rows])[mask]
            vals = values[mask] if not mask.all() else values
            if scale is not None:
                vals = scale(name, vals)
            out.add_many(split, metric_name(sub), offs[at], steps[at], vals)


def numeric_columns(
    key: str, col: tuple[Any, ...]
) -> list[tuple[str, np.ndarray | None, np.ndarray]]:
    """Float columns of one JSON column as ``(name, rows or None for all, values)``.

    A number per row gives one column; per-param-group dicts (``lr``) give ``key`` (the first
    group) plus ``key/<group>`` for the rows that have that group. Text values are dropped.
    """
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


class TextLineParser(LineParser):
    """Text logs line by line, with the state MMSeg text needs: the pending per-class table."""

    def __init__(self) -> None:
        super().__init__()
        self.table = TableCollector()
        self.class_names_seen = False

    def parse_lines(self, data: bytes, offset: int, out: RecordBuilder) -> None:
        pos = 0
        line_no = self.lines_before
        lines = data.split(b"\n")
        if not lines[-1]:
            lines.pop()
        for raw in lines:
            line_no += 1
            self.line(strip_ansi(last_segment(raw.rstrip(b"\r"))), offset + pos, line_no, out)
            pos += len(raw) + 1

    @abstractmethod
    def line(self, raw: bytes, off: int, line_no: int, out: RecordBuilder) -> None:
        """One line (CR, ANSI colour and progress-bar redraws removed)."""

    def train_step(self, step: int, off: int, line_no: int, out: RecordBuilder) -> None:
        """Note a train step (a step going back is a relaunch appended to the file)."""
        if self.last_train_step is not None and step < self.last_train_step:
            out.restart(off, step, line_no)
        self.last_train_step = step

    def emit_table(
        self, out: RecordBuilder, step: int, off: int, wall: float, values_too: bool = True
    ) -> None:
        """The pending per-class table (percent) as fractions at ``step``; its class names."""
        columns, rows = self.table.take()
        for name, values in rows if values_too else ():
            for column, value in zip(columns, values, strict=False):
                out.add(
                    off, step, "val", table_metric(column, name), round(value / 100.0, 12), wall
                )
        if rows and not self.class_names_seen:
            self.class_names_seen = True
            out.meta["class_names"] = [name for name, _ in rows]
