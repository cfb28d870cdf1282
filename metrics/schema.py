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


def codes_categorical(codes: np.ndarray | Sequence[int], categories: Sequence[str]) -> Any:
    """A categorical column from integer codes, without building one string per row."""
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(categories)))


def constant_categorical(value: str, n: int) -> Any:
    """A categorical column holding ``value`` ``n`` times."""
    return codes_categorical(np.zeros(n, np.int8), [value])


def frame_of(columns: Mapping[str, Any]) -> pd.DataFrame:
    """A frame of the given columns, sharing their memory, one block each.

    ``pd.DataFrame(dict)`` copies and stacks same-dtype columns into one 2-D block, which costs
    close to a second for a million-line log; concatenating uncopied Series does not.
    """
    series = [pd.Series(col, name=name, copy=False) for name, col in columns.items()]
    return pd.concat(series, axis=1)


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


def sort_table(table: pd.DataFrame) -> pd.DataFrame:
    """A canonical row order (run, step, split, metric) for comparing tables."""
    keyed = table.astype({"run": str, "split": str, "metric": str})
    return keyed.sort_values(
        ["run", "step", "split", "metric", "value"], kind="stable"
    ).reset_index(drop=True)
