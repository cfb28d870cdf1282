"""A growing tidy table: columns in arrays with room to grow, so appending k records to a
table of n costs O(k) (amortised), not a rebuild of all n.

``LogTailer`` keeps one per followed file: a live refresh of a 1M-line log after 100 new lines
writes those records after the others and builds the table on views of the arrays (no copy).
A table handed out earlier stays as it was: it sees only the first n rows of the arrays, and
rows are only ever written past them (a full arrays' move leaves the old ones to old tables).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.schema import SPLITS, constant_categorical, frame_of

_HEADROOM = 8  # grow by n/8 (at least 4,096 rows): memory stays within ~1.13× the table


class GrowingTable:
    """The columns of a tidy table with room to append (see the module doc)."""

    def __init__(self, table: pd.DataFrame) -> None:
        n = len(table)
        metric = table["metric"].array
        split = table["split"].array
        if list(split.categories) != list(SPLITS):  # type: ignore[attr-defined]
            raise ValueError("unexpected split categories")
        self.metrics: list[str] = [str(c) for c in metric.categories]  # type: ignore[attr-defined]
        self._index = {m: i for i, m in enumerate(self.metrics)}
        codes = np.asarray(metric.codes)  # type: ignore[attr-defined]
        self.n = 0
        cap = n + max(n // _HEADROOM, 4096)
        self.step = np.empty(cap, np.int64)
        self.split = np.empty(cap, np.asarray(split.codes).dtype)  # type: ignore[attr-defined]
        self.metric = np.empty(cap, codes.dtype)
        self.value = np.empty(cap, np.float64)
        self.wall = np.empty(cap, np.float64)
        self._write(table, codes, np.asarray(split.codes))  # type: ignore[attr-defined]

    def append(self, new: pd.DataFrame) -> bool:
        """Append ``new``'s records; False (nothing appended) when they name a metric the table
        does not have yet, or splits it does not know: rebuild then."""
        if not len(new):
            return True
        metric = new["metric"].array
        split = new["split"].array
        lookup = [self._index.get(str(c), -1) for c in metric.categories]  # type: ignore[attr-defined]
        splits = [SPLITS.index(str(c)) if str(c) in SPLITS else -1 for c in split.categories]  # type: ignore[attr-defined]
        if -1 in lookup or -1 in splits:
            return False
        codes = np.asarray(lookup, self.metric.dtype)[np.asarray(metric.codes)]  # type: ignore[attr-defined]
        split_codes = np.asarray(splits, self.split.dtype)[np.asarray(split.codes)]  # type: ignore[attr-defined]
        self._write(new, codes, split_codes)
        return True

    def _write(
        self, table: pd.DataFrame, metric_codes: np.ndarray, split_codes: np.ndarray
    ) -> None:
        k = len(table)
        if self.n + k > len(self.step):
            self._grow(self.n + k)
        end = self.n + k
        self.step[self.n : end] = table["step"].to_numpy(np.int64)
        self.split[self.n : end] = split_codes
        self.metric[self.n : end] = metric_codes
        self.value[self.n : end] = table["value"].to_numpy(np.float64)
        self.wall[self.n : end] = table["wall_time"].to_numpy(np.float64)
        self.n = end

    def _grow(self, need: int) -> None:
        cap = need + max(need // _HEADROOM, 4096)
        for name in ("step", "split", "metric", "value", "wall"):
            old = getattr(self, name)
            arr = np.empty(cap, old.dtype)
            arr[: self.n] = old[: self.n]
            setattr(self, name, arr)  # tables handed out keep the old arrays alive

    def table(self, run: str) -> pd.DataFrame:
        """The tidy table of the records so far, on views of the arrays (no copy)."""
        n = self.n
        return frame_of(
            {
                "run": constant_categorical(run, n),
                "step": self.step[:n],
                "split": _categorical(self.split[:n], list(SPLITS)),
                "metric": _categorical(self.metric[:n], self.metrics),
                "value": self.value[:n],
                "wall_time": self.wall[:n],
            }
        )


def _categorical(codes: np.ndarray, categories: list[str]) -> pd.Categorical:
    """Codes written by this class only: known to be in range, not validated row by row."""
    dtype = pd.CategoricalDtype(pd.Index(categories))
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)
