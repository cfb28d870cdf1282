"""A series (steps, values): validation, windows by step, equal-count bucket means, medians."""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from metrics.errors import InputError

Mode = Literal["min", "max"]
Steps = npt.NDArray[np.int64]
Values = npt.NDArray[np.float64]


def as_series(steps: npt.ArrayLike, values: npt.ArrayLike) -> tuple[Steps, Values]:
    """Validate a (steps, values) pair: 1-D, one length, integral steps; sorted by step (stable)."""
    s = np.asarray(steps)
    v = np.asarray(values, dtype=np.float64)
    if s.ndim != 1 or v.ndim != 1 or len(s) != len(v):
        raise InputError(
            f"expected 1-D `steps` and `values` of one length, got shapes {s.shape} and {v.shape}"
        )
    if s.dtype.kind == "f":
        if not np.all(np.isfinite(s)) or np.any(s != np.round(s)):
            raise InputError("expected integer training steps, got non-integral floats")
    elif s.dtype.kind not in "iub" and len(s):
        raise InputError(f"expected integer training steps, got dtype {s.dtype}")
    si = s.astype(np.int64)
    if len(si) > 1 and np.any(np.diff(si) < 0):
        order = np.argsort(si, kind="stable")
        si, v = si[order], v[order]
    return si, v


def median(values: npt.NDArray[np.float64]) -> float:
    """``np.median`` of a 1-D array without NaN, the same number at a fraction of its overhead
    on the few dozen points a diagnosis takes medians of: the middle value of a sorted copy, or
    the two middle values' sum halved. NaN for no values."""
    return sorted_median(np.sort(values))


def sorted_median(ordered: npt.NDArray[np.float64]) -> float:
    """The median of values already in ascending order (see ``median``)."""
    n = len(ordered)
    if not n:
        return float("nan")
    k = n // 2
    return float(ordered[k]) if n % 2 else float((ordered[k - 1] + ordered[k]) / 2)


def finite(steps: npt.ArrayLike, values: npt.ArrayLike) -> tuple[Steps, Values]:
    """The validated series without its NaN/±inf values."""
    s, v = as_series(steps, values)
    keep = np.isfinite(v)
    return s[keep], v[keep]


def window(
    steps: npt.ArrayLike,
    values: npt.ArrayLike,
    start: int | None = None,
    end: int | None = None,
) -> tuple[Steps, Values]:
    """The points with ``start <= step <= end`` (either bound may be None = open)."""
    s, v = as_series(steps, values)
    keep = np.ones(len(s), dtype=bool)
    if start is not None:
        keep &= s >= start
    if end is not None:
        keep &= s <= end
    return s[keep], v[keep]


def bucket_means(
    steps: npt.ArrayLike, values: npt.ArrayLike, n_buckets: int
) -> tuple[Values, Values]:
    """Equal-count buckets of consecutive finite points → (mean step, mean value) per bucket."""
    s, v = finite(steps, values)
    k = max(1, min(n_buckets, len(s)))
    edges = np.linspace(0, len(s), k + 1).astype(np.int64)[:-1]
    counts = np.diff(np.append(edges, len(s)))
    return (
        np.add.reduceat(s.astype(np.float64), edges) / counts,
        np.add.reduceat(v, edges) / counts,
    )


def from_table(
    table: pd.DataFrame, metric: str, split: str, run: str | None = None
) -> tuple[Steps, Values]:
    """One metric's (steps, values) from a tidy table, sorted by step (one run, or ``run``)."""
    rows = table[(table["metric"] == metric) & (table["split"] == split)]
    if run is not None:
        rows = rows[rows["run"] == run]
    runs = pd.unique(rows["run"].astype(object))
    if len(runs) > 1:
        raise InputError(f"{metric!r} ({split}) comes from {len(runs)} runs; pick one with `run`")
    return as_series(rows["step"].to_numpy(), rows["value"].to_numpy())
