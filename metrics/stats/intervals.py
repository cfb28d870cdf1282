"""Train series summarised per eval interval and paired with the evals: loss vs mIoU, gap.

Eval interval j holds the train records with step in (eval_steps[j−1], eval_steps[j]] (the
first one is open on the left); records after the last eval belong to no interval. This is
also how a 1M-point loss series is cut down to one point per eval before O(n²) statistics.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from metrics.stats.series import Values, as_series, finite


def interval_means(
    train_steps: npt.ArrayLike, train_values: npt.ArrayLike, eval_steps: npt.ArrayLike
) -> tuple[Values, npt.NDArray[np.int64]]:
    """Mean of the finite train values in each eval interval, and their count (NaN when 0)."""
    s, v = finite(train_steps, train_values)  # sorted by step
    e = np.sort(np.asarray(eval_steps, dtype=np.int64))
    ends = np.searchsorted(s, e, side="right")
    starts = np.concatenate([[0], ends[:-1]])
    counts = (ends - starts).astype(np.int64)
    means = np.full(len(e), np.nan)
    full = counts > 0
    if full.any():
        # each sum runs to the next non-empty start, the last one to the last eval's end
        means[full] = np.add.reduceat(v[: ends[-1]], starts[full]) / counts[full]
    return means, counts


def loss_vs_metric(
    train_steps: npt.ArrayLike,
    train_loss: npt.ArrayLike,
    eval_steps: npt.ArrayLike,
    eval_values: npt.ArrayLike,
) -> pd.DataFrame:
    """One row per eval: ``step``, ``value`` (the eval metric), ``train_mean``, ``train_n``."""
    es, ev = as_series(eval_steps, eval_values)
    means, counts = interval_means(train_steps, train_loss, es)
    return pd.DataFrame({"step": es, "value": ev, "train_mean": means, "train_n": counts})


@dataclass(frozen=True)
class Correlation:
    """Spearman's rank correlation over the pairs where both sides are finite."""

    rho: float
    p: float
    n: int


def spearman(x: npt.ArrayLike, y: npt.ArrayLike) -> Correlation:
    """Spearman's rho of x and y (e.g. interval-mean loss and mIoU); NaN below 3 pairs."""
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    both = np.isfinite(a) & np.isfinite(b)
    n = int(both.sum())
    if n < 3 or np.ptp(a[both]) == 0 or np.ptp(b[both]) == 0:
        return Correlation(math.nan, math.nan, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from scipy import stats  # only when a correlation is asked for (start-up)

        res = stats.spearmanr(a[both], b[both])
    return Correlation(float(res.statistic), float(res.pvalue), n)


def train_val_gap(
    train_steps: npt.ArrayLike,
    train_loss: npt.ArrayLike,
    val_steps: npt.ArrayLike,
    val_loss: npt.ArrayLike,
) -> pd.DataFrame:
    """Per val eval: ``step``, ``train_loss`` (interval mean), ``val_loss``, ``gap`` = val−train."""
    frame = loss_vs_metric(train_steps, train_loss, val_steps, val_loss)
    frame = frame.rename(columns={"value": "val_loss", "train_mean": "train_loss"})
    frame["gap"] = frame["val_loss"] - frame["train_loss"]
    return frame[["step", "train_loss", "val_loss", "gap", "train_n"]]
