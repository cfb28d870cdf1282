"""The tidy table every reader produces: one row per logged number.

Columns: ``run`` (str), ``step`` (int), ``split`` (``train`` | ``val``), ``metric`` (str),
``value`` (float; NaN and ±inf kept), ``wall_time`` (float seconds since the epoch, or NaN).
IoU and accuracy values are fractions whatever the framework printed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from metrics.errors import SchemaError

COLUMNS: tuple[str, ...] = ("run", "step", "split", "metric", "value", "wall_time")
SPLITS: tuple[str, ...] = ("train", "val")

# Canonical metric names, where the framework has the equivalent.
LOSS = "loss"
LR = "lr"
MIOU = "miou"
MACC = "macc"
AACC = "aacc"
IOU_PREFIX = "iou/"
ACC_PREFIX = "acc/"


def iou_metric(class_name: str) -> str:
    """The canonical metric name of one class's IoU."""
    return f"{IOU_PREFIX}{class_name}"


def acc_metric(class_name: str) -> str:
    """The canonical metric name of one class's accuracy."""
    return f"{ACC_PREFIX}{class_name}"


def categorical(values: object, categories: Sequence[str] | None = None) -> Any:
    """A categorical column (typed once here for the strings the table repeats)."""
    return pd.Categorical(values, categories=categories)  # type: ignore[arg-type,call-overload]


_DTYPES: dict[tuple[str, ...], pd.CategoricalDtype] = {}
_DTYPES_MAX = 1024


def categorical_dtype(categories: Sequence[str]) -> pd.CategoricalDtype:
    """The (unordered) categorical dtype of ``categories``, built once per distinct list: making
    one validates its categories (~0.2 ms), and runs share their splits and metric names."""
    key = tuple(categories)
    dtype = _DTYPES.get(key)
    if dtype is None:
        if len(_DTYPES) >= _DTYPES_MAX:
            _DTYPES.clear()
        dtype = _DTYPES[key] = pd.CategoricalDtype(pd.Index(list(key)))
    return dtype


def codes_categorical(codes: np.ndarray | Sequence[int], categories: Sequence[str]) -> Any:
    """A categorical column from integer codes, without building one string per row."""
    return pd.Categorical.from_codes(codes, dtype=categorical_dtype(categories))


def constant_categorical(value: str, n: int) -> Any:
    """A categorical column holding ``value`` ``n`` times."""
    return codes_categorical(np.zeros(n, np.int8), [value])


def frame_of(columns: Mapping[str, Any]) -> pd.DataFrame:
    """A frame of the given columns, sharing their memory, one block each.

    ``pd.DataFrame(dict)`` copies and stacks same-dtype columns into one 2-D block, which costs
    close to a second for a million-line log; with ``copy=False`` it does neither (and takes a
    third of the time of concatenating uncopied Series, which this did before).
    """
    return pd.DataFrame(dict(columns), copy=False)  # copy=False: no copy, no consolidation


def empty_table() -> pd.DataFrame:
    """A tidy table with no rows and the contract's dtypes."""
    return make_table(
        run="",
        step=np.empty(0, np.int64),
        split=np.empty(0, object),
        metric=np.empty(0, object),
        value=np.empty(0, np.float64),
        wall_time=np.empty(0, np.float64),
    )


def make_table(
    *,
    run: str | Sequence[str] | np.ndarray,
    step: np.ndarray | Sequence[int],
    split: np.ndarray | Sequence[str] | pd.Categorical,
    metric: np.ndarray | Sequence[str] | pd.Categorical,
    value: np.ndarray | Sequence[float],
    wall_time: np.ndarray | Sequence[float],
) -> pd.DataFrame:
    """Build a tidy table with the contract's dtypes (categoricals for the repeated strings)."""
    steps = np.asarray(step, dtype=np.int64)
    n = len(steps)
    runs = constant_categorical(run, n) if isinstance(run, str) else categorical(run)
    return frame_of(
        {
            "run": runs,
            "step": steps,
            "split": categorical(split, SPLITS),
            "metric": metric if isinstance(metric, pd.Categorical) else categorical(metric),
            "value": np.asarray(value, dtype=np.float64),
            "wall_time": np.asarray(wall_time, dtype=np.float64),
        }
    )


def validate_table(table: pd.DataFrame) -> pd.DataFrame:
    """Check a table against the contract; return it unchanged or raise ``SchemaError``."""
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise SchemaError(f"tidy table lacks column(s) {missing}; expected {list(COLUMNS)}")
    if not pd.api.types.is_integer_dtype(table["step"]):
        raise SchemaError(f"column 'step' must hold integers, got {table['step'].dtype}")
    for col in ("value", "wall_time"):
        if not pd.api.types.is_float_dtype(table[col]):
            raise SchemaError(f"column {col!r} must hold floats, got {table[col].dtype}")
    split = table["split"]
    if isinstance(split.dtype, pd.CategoricalDtype):
        cats = split.cat.categories
        bad = set()
        if not set(cats) <= set(SPLITS):  # only then count which categories are used
            codes = split.cat.codes.to_numpy()
            counts = np.bincount(codes[codes >= 0], minlength=len(cats))
            bad = {str(c) for c, n in zip(cats, counts, strict=True) if n} - set(SPLITS)
    else:
        bad = set(pd.unique(split.astype(object))) - set(SPLITS)
    if bad:
        raise SchemaError(f"column 'split' must be one of {SPLITS}, got {sorted(map(str, bad))}")
    if table["metric"].isna().any():
        raise SchemaError("column 'metric' has missing names")
    return table


def concat_tables(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate tidy tables, keeping categorical columns categorical."""
    tables = [t for t in tables if len(t)]
    if not tables:
        return empty_table()
    if len(tables) == 1:
        return tables[0].reset_index(drop=True)
    if all(tuple(t.columns) == COLUMNS for t in tables):
        fast = _concat_by_codes(tables)
        if fast is not None:
            return fast
    out = pd.concat(
        [t.astype({"run": object, "split": object, "metric": object}) for t in tables],
        ignore_index=True,
    )
    return out.astype(
        {
            "run": "category",
            "split": pd.CategoricalDtype(list(SPLITS)),
            "metric": "category",
        }
    )


def _concat_by_codes(tables: Sequence[pd.DataFrame]) -> pd.DataFrame | None:
    """``concat_tables`` column by column on the category codes, as the general path makes it
    (categories: the names in use, sorted; splits: ``SPLITS``) without a string per row; None
    when a table's categorical columns are not the contract's (the general path then)."""
    columns: dict[str, Any] = {}
    for name in ("run", "split", "metric"):
        cats = [t[name].array for t in tables]
        if not all(isinstance(c, pd.Categorical) for c in cats):
            return None
        used = [c.categories[np.unique(c.codes)] for c in cats]
        if any(c.codes.min() < 0 for c in cats):
            return None  # a missing value: left to the general path
        names = list(SPLITS) if name == "split" else sorted(set().union(*used))
        if name == "split" and not set().union(*used) <= set(SPLITS):
            return None
        index = {n: i for i, n in enumerate(names)}
        dtype = np.int8 if len(names) < 127 else np.int32
        codes = [np.array([index.get(n, -1) for n in c.categories], dtype)[c.codes] for c in cats]
        columns[name] = codes_categorical(np.concatenate(codes), names)
    for name in ("step", "value", "wall_time"):
        columns[name] = np.concatenate([t[name].to_numpy() for t in tables])
    return frame_of({name: columns[name] for name in COLUMNS})


def sort_table(table: pd.DataFrame) -> pd.DataFrame:
    """A canonical row order (run, step, split, metric) for comparing tables."""
    keyed = table.astype({"run": str, "split": str, "metric": str})
    return keyed.sort_values(
        ["run", "step", "split", "metric", "value"], kind="stable"
    ).reset_index(drop=True)
