"""Kendall-family trend statistics in numpy: the Theil–Sen slope with Sen's confidence interval,
and the Mann–Kendall test, plain and with the Hamed–Rao correction for autocorrelation.

They are what ``scipy.stats.theilslopes`` and ``pymannkendall`` compute (tests hold them to
those references); written here because importing scipy.stats costs every ``segwatch check``
about a second of start-up, for statistics over a few dozen points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from metrics.stats.series import median, sorted_median

Floats = npt.NDArray[np.float64]
_NORMAL = NormalDist()


@dataclass(frozen=True)
class TheilSen:
    """The median pairwise slope, its intercept and Sen's (1968) confidence interval."""

    slope: float
    intercept: float
    low: float
    high: float


def theil_sen(y: npt.ArrayLike, x: npt.ArrayLike, confidence: float = 0.95) -> TheilSen:
    """Theil–Sen fit of ``y`` against ``x`` (as ``scipy.stats.theilslopes``, method 'separate')."""
    yv, xv = np.asarray(y, np.float64), np.asarray(x, np.float64)
    slopes = np.sort(_pair_slopes(yv, xv))
    if not len(slopes):
        return TheilSen(math.nan, math.nan, math.nan, math.nan)
    slope = sorted_median(slopes)
    ys, xs = np.sort(yv), np.sort(xv)
    intercept = sorted_median(ys) - slope * sorted_median(xs)
    alpha = 1.0 - confidence if confidence > 0.5 else confidence
    z = _NORMAL.inv_cdf(alpha / 2.0)
    n = len(yv)
    sigsq = (n * (n - 1) * (2 * n + 5) - _tie_term(xs) - _tie_term(ys)) / 18.0
    if sigsq < 0 or not math.isfinite(sigsq):
        return TheilSen(slope, intercept, math.nan, math.nan)
    sigma = math.sqrt(sigsq)
    nt = len(slopes)
    upper = min(round((nt - z * sigma) / 2.0), nt - 1)
    lower = max(round((nt + z * sigma) / 2.0) - 1, 0)
    return TheilSen(slope, intercept, float(slopes[lower]), float(slopes[upper]))


def median_slope(y: npt.ArrayLike, x: npt.ArrayLike) -> float:
    """The Theil–Sen slope alone (``theil_sen(y, x).slope``), for callers that read nothing
    else: no interval, no intercept."""
    return median(_pair_slopes(np.asarray(y, np.float64), np.asarray(x, np.float64)))


def _pair_slopes(y: Floats, x: Floats) -> Floats:
    """(y_j − y_i) / (x_j − x_i) over the pairs with x_j > x_i."""
    dx = x[:, None] - x
    keep = dx > 0
    slopes: Floats = (y[:, None] - y)[keep] / dx[keep]
    return slopes


def _tie_term(ordered: Floats) -> float:
    """Σ k(k−1)(2k+5) over the groups of k equal values (k > 1) of values in ascending order."""
    tied = ordered[1:] == ordered[:-1]
    if not tied.any():
        return 0.0
    edges = np.flatnonzero(np.concatenate(([True], ~tied, [True])))
    counts = np.diff(edges)
    k = counts[counts > 1].astype(np.float64)
    return float(np.sum(k * (k - 1) * (2 * k + 5)))


@dataclass(frozen=True)
class MannKendall:
    """The Mann–Kendall trend test of a series against its order."""

    s: float
    var_s: float
    z: float
    p: float  # two-sided
    trend: str  # "increasing", "decreasing" or "no trend" at the test's level


def mann_kendall(v: npt.ArrayLike, alpha: float = 0.05, hamed_rao: bool = False) -> MannKendall:
    """The Mann–Kendall test; with ``hamed_rao``, its variance corrected for the series' own
    autocorrelation (Hamed & Rao 1998, all lags, as ``pymannkendall``), which keeps an
    autocorrelated curve from looking significant by its memory alone. Where the correction
    is undefined (a series that is its own trend), ``var_s`` is NaN."""
    x = np.asarray(v, np.float64)
    x = x[np.isfinite(x)]
    n = len(x)
    if n < 2:
        return MannKendall(0.0, 0.0, 0.0, 1.0, "no trend")
    later = np.arange(n)[:, None] < np.arange(n)  # the pairs i < j
    s = float(np.sum(np.sign(x - x[:, None]), where=later))  # sign(x_j − x_i): an exact count
    var_s = (n * (n - 1) * (2 * n + 5) - _tie_term(np.sort(x))) / 18.0
    if hamed_rao and n >= 3:
        var_s *= _hamed_rao_factor(x, alpha)
    z = 0.0
    if var_s > 0 and s > 0:
        z = (s - 1) / math.sqrt(var_s)
    elif var_s > 0 and s < 0:
        z = (s + 1) / math.sqrt(var_s)
    p = 2 * (1 - _NORMAL.cdf(abs(z)))
    significant = abs(z) > _NORMAL.inv_cdf(1 - alpha / 2)
    trend = "no trend" if not significant else ("increasing" if z > 0 else "decreasing")
    return MannKendall(s, var_s, z, p, trend)


def _hamed_rao_factor(x: Floats, alpha: float) -> float:
    """n/n*: 1 + 2/(n(n−1)(n−2)) Σ (n−i)(n−i−1)(n−i−2)·ρ_i over the lags whose
    autocorrelation of the detrended ranks lies outside ±z/√n."""
    n = len(x)
    slope = median_slope(x, np.arange(n, dtype=np.float64))
    detrended = x - np.arange(1, n + 1) * slope
    ranks = _average_ranks(detrended)
    acf = _acf(ranks)
    if not np.all(np.isfinite(acf)):
        return math.nan  # a constant detrended series: the correction is undefined
    bound = _NORMAL.inv_cdf(1 - alpha / 2) / math.sqrt(n)
    lags = np.arange(1, n)
    rho = acf[1:]
    outside = (rho > bound) | (rho < -bound)
    terms = (n - lags) * (n - lags - 1) * (n - lags - 2) * rho
    return float(1 + 2 / (n * (n - 1) * (n - 2)) * np.sum(terms[outside]))


def _average_ranks(v: Floats) -> Floats:
    """Ranks from 1, ties sharing their average rank (``scipy.stats.rankdata``'s default)."""
    order = np.argsort(v, kind="mergesort")
    sorted_v = v[order]
    starts = np.flatnonzero(np.concatenate(([True], sorted_v[1:] != sorted_v[:-1])))
    ends = np.append(starts[1:], len(v))
    ranks = np.empty(len(v), np.float64)
    ranks[order] = np.repeat((starts + 1 + ends) / 2.0, ends - starts)  # a group's mean rank
    return ranks


def _acf(v: Floats) -> Floats:
    """Autocorrelation at every lag 0..n−1, each normalised by the lag-0 sum (statsmodels')."""
    y = v - v.mean()
    full = np.correlate(y, y, mode="full")[len(y) - 1 :]
    return full / full[0] if full[0] else np.full(len(y), np.nan)
