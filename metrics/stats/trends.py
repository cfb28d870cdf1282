"""Trend statistics of one series (steps, values): range table, robust slope, noise, best, progress.

Everything here is pure: arrays in, floats or small frozen dataclasses out. The O(n²) statistics
(Theil–Sen, Mann–Kendall) are meant for eval series or per-eval-interval means of a train series
(see ``metrics.stats.intervals``); ``trend`` buckets anything longer than ``max_points`` into means.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np
import numpy.typing as npt

from metrics.errors import InputError
from metrics.stats.kendall import mann_kendall, median_slope, theil_sen
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


def noise_level(values: npt.ArrayLike, steps: npt.ArrayLike | None = None) -> float:
    """The run's own eval-to-eval scatter (an sd), with the trend taken out.

    Each inner point is compared with the straight line through its two neighbours: on a smooth
    curve that residual is only the curve's bend, on noise it has sd σ·√(1 + a² + b²) (a, b the
    neighbours' interpolation weights, ½ and ½ for equal spacing). 1.4826·MAD of the scaled
    residuals estimates σ; the MAD ignores the few large bends of a fast early rise, so a
    saturating curve does not pass its own slope off as noise (successive differences did:
    2–4× σ late in a run). ``steps`` give the spacing (equal when omitted). NaN for fewer than
    3 finite values.
    """
    v = np.asarray(values, dtype=np.float64)
    x = np.arange(len(v), dtype=np.float64) if steps is None else np.asarray(steps, np.float64)
    keep = np.isfinite(v)
    v, x = v[keep], x[keep]
    if len(v) < 3:
        return math.nan
    gap_l, gap_r = x[1:-1] - x[:-2], x[2:] - x[1:-1]
    span = gap_l + gap_r
    span[span == 0] = 1.0
    a, b = gap_r / span, gap_l / span  # weights of the left and right neighbour
    resid = (v[1:-1] - a * v[:-2] - b * v[2:]) / np.sqrt(1.0 + a * a + b * b)
    resid -= _median_inplace(resid.copy())
    return float(MAD_TO_SD * _median_inplace(np.abs(resid, out=resid)))


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
    """Theil–Sen slope + Sen's CI and the Hamed–Rao autocorrelation-corrected Mann–Kendall test.

    Loss and mIoU curves are autocorrelated, which makes the plain MK test far too eager; the
    Hamed–Rao variance correction accounts for it (``metrics.stats.kendall``). When the
    correction is undefined (e.g. a perfectly linear series) the uncorrected test is used
    (``mk_method``). Longer series than ``max_points`` are reduced to that many equal-count
    bucket means first.
    """
    s, v = finite(steps, values)
    n = len(s)
    x: Values = s.astype(np.float64)
    if n > max_points:
        x, v = bucket_means(s, v, max_points)
    if len(v) < 3 or np.ptp(x) == 0:
        nan = math.nan
        return Trend(n, len(v), nan, nan, nan, nan, nan, nan, "too few", "none")
    ts = theil_sen(v, x, confidence)
    p, z, label, method = _mann_kendall(v, alpha)
    return Trend(
        n=n,
        n_used=len(v),
        slope=ts.slope,
        slope_low=ts.low,
        slope_high=ts.high,
        intercept=ts.intercept,
        mk_p=p,
        mk_z=z,
        mk_trend=label,
        mk_method=method,
    )


def _mann_kendall(
    v: Values, alpha: float
) -> tuple[float, float, MkTrend, Literal["hamed_rao", "original"]]:
    res = mann_kendall(v, alpha, hamed_rao=True)
    method: Literal["hamed_rao", "original"] = "hamed_rao"
    if not (math.isfinite(res.p) and res.var_s > 0):
        res = mann_kendall(v, alpha)
        method = "original"
    label: MkTrend = res.trend if res.trend in ("increasing", "decreasing") else "no trend"  # type: ignore[assignment]
    return float(res.p), float(res.z), label, method


ProgressStatus = Literal["improving", "plateau", "worsening", "too few"]

#: Theil–Sen's efficiency against least squares on normal noise is about 0.91; its gain varies
#: about 1/√0.91 ≈ 1.05× more, rounded up to cover the noise estimate's own error.
_THEIL_SEN_SLACK = 1.1
#: The noise a plateau verdict uses is that of the run's last half, but of at least this many evals.
RECENT_NOISE_EVALS = 16


@dataclass(frozen=True)
class Span:
    """The trend over the last ``evals`` evaluations: its gain against what noise allows."""

    evals: int
    start_step: int
    end_step: int
    gain: float  # Theil–Sen slope × step span, signed so > 0 is better for the mode
    threshold: float  # the gain that noise alone exceeds with probability α / (number of spans)

    @property
    def significant(self) -> bool:
        return self.gain > self.threshold


@dataclass(frozen=True)
class Progress:
    """Is the metric still moving beyond the run's own noise over its last evals?

    ``spans`` are the trends judged (the most recent ``window`` evals first, then the last third
    of the run when that is longer); ``gain``/``threshold``/``window`` repeat the span that
    decided: the first significant one, else the most recent.
    """

    status: ProgressStatus
    gain: float
    threshold: float
    noise: float
    window: int
    best: Best
    recent_gain: float  # best(window) − best(before it), signed so > 0 is better
    spans: tuple[Span, ...] = ()


def gain_sd(k: int) -> float:
    """The sd of a fitted trend's gain across ``k`` equally spaced evals, in units of σ.

    Least squares: var(slope) = σ²/Σ(x − x̄)², gain = slope·(k − 1)Δ, Σ(x − x̄)² = Δ²k(k² − 1)/12.
    """
    return math.sqrt(12.0 * (k - 1) / (k * (k + 1))) if k >= 2 else math.inf


def progress(
    steps: npt.ArrayLike,
    values: npt.ArrayLike,
    mode: Mode = "max",
    *,
    window: int = 5,
    z: float = 1.645,
) -> Progress:
    """Plateau verdict: does any recent span of evals gain more than the run's noise allows?

    Two spans are judged: the last ``window`` evals (a plateau shows there first) and the last
    third of the run (at least ``window`` evals), which has the power to see a slow rise that a
    short window cannot tell from noise. Each gain (Theil–Sen slope × step span) is compared with
    z'·gain_sd(k)·σ, σ the detrended noise of the run's last half (evals early in a run often
    scatter more) and z' the one-sided level of z
    shared between the spans (Bonferroni), so noise alone calls a flat run "improving" with
    probability at most Φ(−z). "plateau" means no span gains beyond noise; "worsening" that the
    recent span loses beyond it.
    """
    s, v = finite(steps, values)
    top = best(s, v, mode)
    if len(v) < 4:
        return Progress("too few", math.nan, math.nan, math.nan, len(v), top, math.nan)
    sign = 1.0 if mode == "max" else -1.0
    recent = max(RECENT_NOISE_EVALS, len(v) // 2)  # scatter is often larger early in a run
    sigma = noise_level(v[-recent:], s[-recent:])
    sizes = [min(window, len(v))]
    third = math.ceil(len(v) / 3)
    if third > sizes[0]:
        sizes.append(min(third, len(v)))
    level = NormalDist().cdf(-z) / len(sizes)
    z_span = NormalDist().inv_cdf(1.0 - level)
    spans = []
    for k in sizes:
        xs, ys = s[-k:].astype(np.float64), v[-k:]
        gain = sign * median_slope(ys, xs) * float(xs[-1] - xs[0])
        even = float(xs[-1] - xs[0]) / (k - 1)  # the sd below assumes equal spacing
        spread = _spacing_factor(xs, even)
        threshold = z_span * _THEIL_SEN_SLACK * gain_sd(k) * spread * sigma
        spans.append(Span(k, int(s[-k]), int(s[-1]), gain, threshold))
    decisive = next((sp for sp in spans if sp.significant), spans[0])
    if decisive is not spans[0] and _rise_stopped(spans[0], decisive, sigma, z_span):
        decisive = spans[0]  # the long rise ended inside the recent window: a fresh plateau
    status: ProgressStatus = "plateau"
    if decisive.significant:
        status = "improving"
    elif spans[0].gain < -spans[0].threshold:
        status = "worsening"
    return Progress(
        status,
        decisive.gain,
        decisive.threshold,
        sigma,
        decisive.evals,
        top,
        recent_gain(v, sizes[0], mode),
        tuple(spans),
    )


def _rise_stopped(recent: Span, long: Span, sigma: float, z: float) -> bool:
    """Whether the recent evals gained clearly less than the longer span's trend predicts.

    The recent gain is compared with the long span's slope over the recent steps; their
    difference has sd ≤ √(sd_recent² + sd_predicted²) (the spans overlap, which only narrows
    it), so this says "the rise stopped" at the same level as the span tests.
    """
    long_steps = long.end_step - long.start_step
    if long_steps <= 0:
        return False
    share = (recent.end_step - recent.start_step) / long_steps
    expected = long.gain * share
    sd = math.hypot(gain_sd(recent.evals), gain_sd(long.evals) * share) * sigma
    return expected - recent.gain > z * _THEIL_SEN_SLACK * sd


def _spacing_factor(x: Values, even: float) -> float:
    """How much an uneven spacing widens the gain's sd compared with equal spacing (≥ 1)."""
    k = len(x)
    if even <= 0 or k < 3:
        return 1.0
    sxx = float(np.sum((x - x.mean()) ** 2))
    ideal = even * even * k * (k * k - 1) / 12.0
    return max(1.0, math.sqrt(ideal / sxx)) if sxx > 0 else 1.0
