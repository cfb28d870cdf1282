"""Trend statistics of one series (steps, values): range table, robust slope, noise, best, progress.

Everything here is pure: arrays in, floats or small frozen dataclasses out. The O(n²) statistics
(Theil–Sen, Mann–Kendall) are meant for eval series or per-eval-interval means of a train series
(see ``metrics.stats.intervals``); ``trend`` buckets anything longer than ``max_points`` into means.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pymannkendall as mk
from scipy import stats

from metrics.errors import InputError
from metrics.stats.series import Mode, Values, bucket_means, finite, window

MAD_TO_SD = 1.4826  # 1/Φ⁻¹(3/4): a normal sample's MAD times this estimates its sd.


@dataclass(frozen=True)
class RangeStats:
    """TensorBoard's range table for one series over a window (finite points only)."""

    n: int
    start_step: int
    end_step: int
    start_value: float
    end_value: float
    min: float
    max: float
    mean: float
    change: float  # end − start
    pct_change: float  # 100·(end − start)/start; NaN when start == 0
    min_step: int  # first step holding the minimum (TensorBoard keeps the first)
    max_step: int


def range_stats(
    steps: npt.ArrayLike,
    values: npt.ArrayLike,
    start: int | None = None,
    end: int | None = None,
) -> RangeStats:
    """The range table of the points with start <= step <= end (TensorBoard's columns)."""
    s, v = window(steps, values, start, end)
    keep = np.isfinite(v)
    if not keep.all():
        s, v = s[keep], v[keep]
    if not len(s):
        raise InputError(f"no finite value in the window [{start}, {end}]")
    i_min, i_max = int(np.argmin(v)), int(np.argmax(v))
    first, last = float(v[0]), float(v[-1])
    return RangeStats(
        n=len(s),
        start_step=int(s[0]),
        end_step=int(s[-1]),
        start_value=first,
        end_value=last,
        min=float(v[i_min]),
        max=float(v[i_max]),
        mean=float(np.mean(v)),
        change=last - first,
        pct_change=100.0 * (last - first) / first if first != 0 else math.nan,
        min_step=int(s[i_min]),
        max_step=int(s[i_max]),
    )


def noise_level(values: npt.ArrayLike) -> float:
    """The run's own eval-to-eval noise sd: 1.4826·MAD of successive differences / √2.

    Differencing removes a slow trend, the MAD ignores the few big early jumps, and /√2 turns
    the sd of a difference of two evals into the sd of one. NaN for fewer than 3 finite values.
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) < 3:
        return math.nan
    d = np.diff(v)
    d -= _median_inplace(d.copy())
    return float(MAD_TO_SD * _median_inplace(np.abs(d, out=d)) / math.sqrt(2.0))


def _median_inplace(x: Values) -> float:
    """np.median without its copy (``x`` is reordered)."""
    k = len(x) // 2
    if len(x) % 2:
        x.partition(k)
        return float(x[k])
    x.partition((k - 1, k))
    return float((x[k - 1] + x[k]) / 2)


@dataclass(frozen=True)
class Best:
    """The best value of a series, where it was reached, and how far the last value is from it."""

    value: float
    step: int
    index: int  # index among the finite values
    evals_since: int  # finite evals after the (first) best one
    last: float
    drop: float  # how much worse the last value is than the best (≥ 0)


def best(steps: npt.ArrayLike, values: npt.ArrayLike, mode: Mode = "max") -> Best:
    """The best (first reached, on ties) finite value of a series for ``mode`` (min or max)."""
    s, v = finite(steps, values)
    if not len(s):
        raise InputError("no finite value to take the best of")
    i = int(np.argmax(v) if mode == "max" else np.argmin(v))
    value, last = float(v[i]), float(v[-1])
    return Best(
        value=value,
        step=int(s[i]),
        index=i,
        evals_since=len(v) - 1 - i,
        last=last,
        drop=(value - last) if mode == "max" else (last - value),
    )


def recent_gain(values: npt.ArrayLike, k: int, mode: Mode = "max") -> float:
    """Improvement of the last ``k`` evals over all before them: best(last k) − best(rest).

    Signed so that > 0 is better for ``mode``; NaN unless there are more than k finite values.
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if k < 1 or len(v) <= k:
        return math.nan
    old, new = v[:-k], v[-k:]
    return float(new.max() - old.max()) if mode == "max" else float(old.min() - new.min())


MkTrend = Literal["increasing", "decreasing", "no trend", "too few"]


@dataclass(frozen=True)
class Trend:
    """Theil–Sen slope (per step) with its CI, and the Mann–Kendall trend test."""

    n: int  # finite points given
    n_used: int  # points the statistics ran on (< n when bucketed)
    slope: float
    slope_low: float
    slope_high: float
    intercept: float
    mk_p: float
    mk_z: float
    mk_trend: MkTrend
    mk_method: Literal["hamed_rao", "original", "none"]


def trend(
    steps: npt.ArrayLike,
    values: npt.ArrayLike,
    *,
    confidence: float = 0.95,
    alpha: float = 0.05,
    max_points: int = 500,
) -> Trend:
    """Theil–Sen slope + CI (scipy) and Hamed–Rao autocorrelation-corrected Mann–Kendall test.

    Loss and mIoU curves are autocorrelated, which makes the plain MK test far too eager; the
    Hamed–Rao variance correction (pymannkendall) accounts for it. When the correction is
    undefined (e.g. a perfectly linear series) the uncorrected test is used (``mk_method``).
    Longer series than ``max_points`` are reduced to that many equal-count bucket means first.
    """
    s, v = finite(steps, values)
    n = len(s)
    x: Values = s.astype(np.float64)
    if n > max_points:
        x, v = bucket_means(s, v, max_points)
    if len(v) < 3 or np.ptp(x) == 0:
        nan = math.nan
        return Trend(n, len(v), nan, nan, nan, nan, nan, nan, "too few", "none")
    with np.errstate(invalid="ignore"):  # a CI of few tied points is NaN, not a warning
        ts = stats.theilslopes(v, x, alpha=confidence)
    p, z, label, method = _mann_kendall(v, alpha)
    return Trend(
        n=n,
        n_used=len(v),
        slope=float(ts.slope),
        slope_low=float(ts.low_slope),
        slope_high=float(ts.high_slope),
        intercept=float(ts.intercept),
        mk_p=p,
        mk_z=z,
        mk_trend=label,
        mk_method=method,
    )


def _mann_kendall(
    v: Values, alpha: float
) -> tuple[float, float, MkTrend, Literal["hamed_rao", "original"]]:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        res = mk.hamed_rao_modification_test(v, alpha=alpha)
        method: Literal["hamed_rao", "original"] = "hamed_rao"
        if not (math.isfinite(res.p) and res.var_s > 0):
            res = mk.original_test(v, alpha=alpha)
            method = "original"
    label: MkTrend = res.trend if res.trend in ("increasing", "decreasing") else "no trend"
    return float(res.p), float(res.z), label, method


ProgressStatus = Literal["improving", "plateau", "worsening", "too few"]


@dataclass(frozen=True)
class Progress:
    """Is the metric still moving beyond the run's own noise over its last evals?"""

    status: ProgressStatus
    gain: float  # Theil–Sen gain across the window, signed so > 0 is better for the mode
    threshold: float  # z·√2·noise: the gain noise alone stays under (one-sided, level of z)
    noise: float
    window: int  # evals in the window actually used
    best: Best
    recent_gain: float  # best(window) − best(before it), signed so > 0 is better


def progress(
    steps: npt.ArrayLike,
    values: npt.ArrayLike,
    mode: Mode = "max",
    *,
    window: int = 5,
    z: float = 1.645,
) -> Progress:
    """Plateau verdict: does the trend over the last ``window`` evals gain more than noise?

    gain = Theil–Sen slope over the last ``window`` evals × their step span; σ = ``noise_level``
    of the whole series. Noise alone makes a two-eval difference exceed z·√2·σ with probability
    Φ(−z) (5 % for z = 1.645); a trend line over several evals varies less than that, so a gain
    beyond the threshold is real progress, and "plateau" means it cannot be told from noise.
    """
    s, v = finite(steps, values)
    top = best(s, v, mode)
    if len(v) < 4:
        return Progress("too few", math.nan, math.nan, math.nan, len(v), top, math.nan)
    w = min(window, len(v))
    sigma = noise_level(v)
    fit = stats.theilslopes(v[-w:], s[-w:].astype(np.float64))
    gain = float(fit.slope) * float(s[-1] - s[-w]) * (1.0 if mode == "max" else -1.0)
    threshold = z * math.sqrt(2.0) * sigma
    status: ProgressStatus = "plateau"
    if gain > threshold:
        status = "improving"
    elif gain < -threshold:
        status = "worsening"
    return Progress(status, gain, threshold, sigma, w, top, recent_gain(v, w, mode))
