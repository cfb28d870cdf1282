"""Column names of user-written logs (Lightning CSV, generic CSV/JSON lines) → tidy metrics.

Automatic rules, applied to each column name:

* ``_step`` / ``_epoch`` suffixes (Lightning's ``on_step=True, on_epoch=True``) are stripped
  from the preferred variant — ``_step`` for train, ``_epoch`` for val — and kept on the
  other (``train_loss_epoch`` → ``loss_epoch``).
* The split comes from a prefix ``val``/``valid``/``validation``/``eval``/``test`` (→ val) or
  ``train``/``training`` (→ train), separated by ``_ / - . :``, or from such a suffix
  (``loss/train``, ``miou_val``). Without one: segmentation-quality metrics (``miou``,
  ``macc``, ``aacc``, ``fwiou``, ``iou/<c>``, ``acc/<c>``) → val, since they are computed on
  held-out data; everything else → train.
* Known spellings map to the canonical names: ``loss``/``total_loss`` → ``loss``;
  ``miou``/``mean_iou``/``iou``/``jaccard``/``jaccard_index``/``dataset_iou`` → ``miou``;
  ``macc``/``mean_accuracy`` → ``macc``; ``acc``/``accuracy``/``overall_accuracy``/
  ``pixel_accuracy`` → ``aacc``; ``lr``/``learning_rate``/``lr-<Optimizer>`` → ``lr``;
  ``iou_<c>``/``iou/<c>`` → ``iou/<c>``; ``acc_<c>``/``accuracy_<c>`` → ``acc/<c>``.
  Anything else keeps its column name as it is.
* Values are taken as logged (torchmetrics logs fractions).

User options (``read_log(..., options=...)``) override the rules::

    {
        "columns": {"my_col": "miou", "v_road": "val/iou/road", "junk": None},
        "step": "global_step",         # default: step, global_step, iteration or iter
        "wall_time": "timestamp",      # seconds since the epoch; default: a "wall_time" column
        "percent": ["miou", "iou/*"],  # columns or metrics (glob) in percent: divided by 100
    }

A ``columns`` target may start with ``train/`` or ``val/`` to set the split; otherwise the split
follows the column's own prefix, as above. ``None`` drops a column.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from metrics.errors import ColumnMappingError
from metrics.readers.base import RecordBuilder
from metrics.schema import AACC, LOSS, LR, MACC, MIOU, acc_metric, iou_metric

#: Step-like column names, in order of preference (matched case-insensitively).
STEP_NAMES: tuple[str, ...] = ("step", "global_step", "iteration", "iter")
WALL_TIME_NAME = "wall_time"
#: Steps beyond this are not steps (and would overflow the int64 step column).
MAX_STEP = 2**62
OPTION_KEYS: tuple[str, ...] = ("columns", "step", "wall_time", "percent")

_VAL_WORDS = "val|valid|validation|eval|evaluate|evaluation|test|testing"
_TRAIN_WORDS = "train|training"
_PREFIX_RE = re.compile(rf"^(?:({_VAL_WORDS})|({_TRAIN_WORDS}))[_/\-.:](?=.)", re.IGNORECASE)
_SUFFIX_RE = re.compile(rf"(?<=.)[_/\-.:](?:({_VAL_WORDS})|({_TRAIN_WORDS}))$", re.IGNORECASE)
_PHASE_RE = re.compile(r"(?<=.)_(step|epoch)$", re.IGNORECASE)
_SEP_RE = re.compile(r"[\s\-.]+")
_LR_OPT_RE = re.compile(r"^lr-[A-Za-z][A-Za-z0-9_]*$")
_CLASS_RE = re.compile(r"^(iou|acc|accuracy)[_/\-.](.+)$", re.IGNORECASE)

_SPELLINGS: dict[str, str] = {
    LOSS: "loss total_loss loss_total",
    LR: "lr learning_rate learningrate",
    MIOU: "miou m_iou mean_iou meaniou iou iou_mean jaccard jaccard_index jaccardindex "
    "multiclassjaccardindex mean_jaccard dataset_iou",
    MACC: "macc m_acc mean_acc mean_accuracy",
    AACC: "aacc acc accuracy overall_acc overall_accuracy pixel_acc pixel_accuracy pacc "
    "multiclassaccuracy",
    "fwiou": "fwiou fw_iou fwavacc",
}
_CANONICAL = {spelling: m for m, spellings in _SPELLINGS.items() for spelling in spellings.split()}
_QUALITY = frozenset((MIOU, MACC, AACC, "fwiou"))


@dataclass(frozen=True)
class Target:
    """Where a column's values go: the split, the metric name, and whether it is in percent."""

    split: str
    metric: str
    percent: bool = False


def split_of(name: str) -> tuple[str | None, str]:
    """The split a name's prefix or suffix says (or None) and the name without it."""
    m = _PREFIX_RE.match(name)
    if m is None:
        m = _SUFFIX_RE.search(name)
        if m is None:
            return None, name
        rest = name[: m.start()]
    else:
        rest = name[m.end() :]
    return ("val" if m.group(1) else "train"), rest


def canonical_metric(base: str) -> str | None:
    """The canonical metric of a split-less name (``mIoU`` → ``miou``), or None if unknown."""
    if _LR_OPT_RE.match(base):
        return LR
    key = _SEP_RE.sub("_", base.strip()).lower()
    if key in _CANONICAL:
        return _CANONICAL[key]
    m = _CLASS_RE.match(base)
    if m:
        kind, cls = m.group(1).lower(), m.group(2)
        return iou_metric(cls) if kind == "iou" else acc_metric(cls)
    return None


def default_split(metric: str) -> str:
    """The split of a metric whose name says none: val for segmentation quality, else train."""
    quality = metric in _QUALITY or metric.startswith(("iou/", "acc/"))
    return "val" if quality else "train"


def auto_target(name: str) -> tuple[str, str]:
    """The (split, metric) the automatic rules give a column name."""
    core, phase = name, ""
    m = _PHASE_RE.search(name)
    if m and split_of(name[: m.start()])[1]:
        core, phase = name[: m.start()], m.group(1).lower()
    split, base = split_of(core)
    metric = canonical_metric(base)
    if metric is None:
        return split or "train", name
    if split is None:
        split = default_split(metric)
    preferred = "step" if split == "train" else "epoch"
    if phase and phase != preferred:
        metric = f"{metric}_{phase}"
    return split, metric


def _user_target(name: str, target: str) -> tuple[str, str]:
    for forced in ("train", "val"):
        if target.startswith(forced + "/") and len(target) > len(forced) + 1:
            return forced, target[len(forced) + 1 :]
    split, _ = split_of(name)
    return split or default_split(target), target


@dataclass
class ColumnMapping:
    """How the columns of one user-written log map to tidy metrics (see the module docstring)."""

    columns: Mapping[str, str | None] = field(default_factory=dict)
    step: str | None = None
    wall_time: str | None = None
    percent: tuple[str, ...] = ()
    _cache: dict[str, Target | None] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None) -> ColumnMapping:
        """A mapping from reader options; ``ColumnMappingError`` if they are malformed."""
        opts = dict(options or {})
        unknown = sorted(set(opts) - set(OPTION_KEYS))
        if unknown:
            raise ColumnMappingError(
                f"unknown column-mapping option(s) {unknown}; expected {list(OPTION_KEYS)}"
            )
        columns = opts.get("columns") or {}
        if not isinstance(columns, Mapping) or not all(
            isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in columns.items()
        ):
            raise ColumnMappingError(
                "option 'columns' must map column names to metric names (or None to drop)"
            )
        for key in ("step", "wall_time"):
            if opts.get(key) is not None and not isinstance(opts[key], str):
                raise ColumnMappingError(f"option {key!r} must be a column name")
        percent = opts.get("percent") or ()
        if not isinstance(percent, (list, tuple)) or not all(isinstance(p, str) for p in percent):
            raise ColumnMappingError("option 'percent' must be a list of column or metric names")
        return cls(dict(columns), opts.get("step"), opts.get("wall_time"), tuple(percent))

    def find_step(self, names: Iterable[str]) -> str | None:
        """The step column among ``names``: the user's, else the first step-like one."""
        present = list(names)
        if self.step is not None:
            return self.step if self.step in present else None
        lowered = {n.strip().lower(): n for n in reversed(present)}
        for candidate in STEP_NAMES:
            if candidate in lowered:
                return lowered[candidate]
        return None

    def find_wall_time(self, names: Iterable[str]) -> str | None:
        """The wall-time column among ``names``, if any."""
        wanted = self.wall_time or WALL_TIME_NAME
        return wanted if wanted in names else None

    def target(self, name: str) -> Target | None:
        """Where column ``name`` goes (None: dropped); cached per name."""
        if name in self._cache:
            return self._cache[name]
        result: Target | None
        if name in self.columns:
            user = self.columns[name]
            result = None if user is None else self._make(name, *_user_target(name, user))
        else:
            result = self._make(name, *auto_target(name))
        self._cache[name] = result
        return result

    def _make(self, name: str, split: str, metric: str) -> Target:
        pct = any(fnmatchcase(name, p) or fnmatchcase(metric, p) for p in self.percent)
        return Target(split, metric, pct)


def describe_columns(names: Sequence[str], limit: int = 30) -> str:
    """A short listing of column names for error messages."""
    shown = ", ".join(repr(n) for n in names[:limit])
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return (shown + more) or "none"


class RowEmitter:
    """Adds one row of named numbers (a CSV row, a JSON object) at a step as records.

    ``epoch`` is repeated on every sparse row (Lightning); it is recorded once per step.
    """

    def __init__(self, mapping: ColumnMapping) -> None:
        self.mapping = mapping
        self._epoch_step: int | None = None

    def emit(
        self,
        out: RecordBuilder,
        offset: int,
        step: int,
        items: Iterable[tuple[str, float]],
        wall_time: float = math.nan,
    ) -> None:
        """Add the records of one row."""
        for name, value in items:
            target = self.mapping.target(name)
            if target is None:
                continue
            if target.metric == "epoch":
                if step == self._epoch_step:
                    continue
                self._epoch_step = step
            v = value / 100.0 if target.percent else value
            out.add(offset, step, target.split, target.metric, v, wall_time)


def as_number(value: object) -> float | None:
    """A JSON number (not a boolean, not an int too large for a float) as a float, else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            return None
    return None


def as_step(value: object) -> int | None:
    """A step from a cell or JSON value (``12``, ``"12"``, ``12.0``), or None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if abs(value) < MAX_STEP else None
    try:
        number = float(value) if isinstance(value, (str, float)) else math.nan
    except ValueError:
        return None
    if not math.isfinite(number) or number != int(number) or abs(number) >= MAX_STEP:
        return None
    return int(number)
