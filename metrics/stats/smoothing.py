"""Causal smoothing of a logged series: TensorBoard's EMA, a step-aware EMA, rolling mean/median.

Every function is causal: output ``i`` depends only on inputs ``0..i``, so appending points never
moves the past of a live curve. Non-finite points (NaN, ±inf) pass through unchanged and do not
enter any average. Nothing here decides *what* to smooth: the caller does. Sparse evaluation
series (a few val points, each already an average over the whole val set) should be shown raw;
smoothing them by default would shift peaks and hide the last result.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from metrics.errors import InputError

__all__ = ["ema", "ema_by_step", "rolling_mean", "rolling_median", "tensorboard_weight"]

Floats = NDArray[np.float64]
_MAX_EXPONENT = 40.0  # exp(40) ~ 2e17: step-EMA sums are rebased before they could overflow


def tensorboard_weight(weight: float) -> float:
    """The smoothing weight as TensorBoard sanitises it: non-finite → 0, then clamped to [0, 1]."""
    w = float(weight)
    return 0.0 if not math.isfinite(w) else min(max(w, 0.0), 1.0)


def ema(values: Any, weight: float = 0.6) -> Floats:
    """TensorBoard's debiased exponential moving average (its "Smoothing" slider).

    ``last = last * w + (1 - w) * v``; output ``last / (1 - w**n)`` with ``n`` the count of
    finite points so far. A run of equal values at the start (a whole constant series, too) is
    returned exactly, without floating-point noise (TensorBoard does so only for a wholly
    constant series; elsewhere the two agree to the last bit or so). As in TensorBoard, weight
    1 gives 0 for every finite point of a non-constant series: the one case that is not causal.
    """
    x = _as_series(values)
    w = tensorboard_weight(weight)
    out = x.copy()
    finite = np.isfinite(x)
    v = x[finite]
    if v.size == 0:
        return out
    if w == 1.0:  # TensorBoard's degenerate end: a flat 0, unless the series is constant
        out[finite] = v if np.all(v == v[0]) else 0.0
        return out
    from scipy.signal import lfilter  # here, not at import: scipy.signal costs ~1 s of start-up

    smoothed = lfilter([1.0 - w], [1.0, -w], v)  # same operations as TensorBoard's loop
    _debias(smoothed, w)
    _keep_constant_prefix(v, smoothed)
    out[finite] = smoothed
    return out


def _debias(smoothed: Floats, w: float) -> None:
    """Divide point ``n`` (1-based) by ``1 - w**n``, as TensorBoard does (not at all for w = 1).

    The divisor is taken as ``-expm1(n log1p(w - 1))``: accurate to a few ulps for every n,
    where ``1 - w**n`` cancels for w near 1 (at w = 0.99999 a 1-ulp change in ``w**n`` is a
    1e-11 relative change, and numpy's ``pow`` differs in its last bit between CPUs).
    Only the first points need it: once ``w**n < 2**-60``, the divisor is exactly 1.0.
    """
    if w == 0.0:
        return
    log_w = math.log1p(w - 1.0) if w >= 0.5 else math.log(w)  # w - 1 is exact for w >= 0.5
    n = min(smoothed.size, math.ceil(60 * math.log(2.0) / -log_w) + 1)
    smoothed[:n] /= -np.expm1(np.arange(1, n + 1, dtype=np.float64) * log_w)


def ema_by_step(values: Any, steps: Any, half_life: float) -> Floats:
    """Debiased EMA for irregularly logged points: a point's weight halves every ``half_life``
    steps of the x axis (not every point), so gaps in logging do not distort the curve.

    ``steps`` must be non-decreasing. Output ``i`` is ``sum(v_k * 2**(-(s_i - s_k)/h)) /
    sum(2**(-(s_i - s_k)/h))`` over the finite points ``k <= i``; on unit steps it equals
    ``ema(values, 2**(-1/h))``.
    """
    x = _as_series(values)
    s = _as_series(steps, "steps")
    if s.shape != x.shape:
        raise InputError(f"expected `steps` of shape {x.shape} like `values`, got {s.shape}")
    if not (math.isfinite(half_life) and half_life > 0):
        raise InputError(f"expected a positive finite `half_life` (in steps), got {half_life}")
    finite = np.isfinite(x)
    if not np.all(np.isfinite(s)) or np.any(np.diff(s) < 0):
        raise InputError("expected finite, non-decreasing `steps` (sort the series by step)")
    out = x.copy()
    v, t = x[finite], s[finite]
    if v.size == 0:
        return out
    smoothed = _decayed_mean(v, t, math.log(2.0) / half_life)
    _keep_constant_prefix(v, smoothed)
    out[finite] = smoothed
    return out


def _decayed_mean(v: Floats, t: Floats, rate: float) -> Floats:
    """sum(v_k e^(-rate (t_i - t_k))) / sum(e^(-rate (t_i - t_k))) over k <= i (``t`` sorted).

    Cumulative sums in blocks spanning at most ``_MAX_EXPONENT / rate`` steps, exponents taken
    from step differences within the block (exact for integer steps), so exp never overflows;
    earlier blocks enter as a carried sum.
    """
    out = np.empty_like(v)
    carry_num = carry_den = 0.0
    carry_t = float(t[0])
    start = 0
    while start < v.size:
        base = float(t[start])
        stop = int(np.searchsorted(t, base + _MAX_EXPONENT / rate, side="right"))
        e = np.exp((t[start:stop] - base) * rate)
        fade = math.exp((carry_t - base) * rate)
        num = np.cumsum(v[start:stop] * e) + fade * carry_num
        den = np.cumsum(e) + fade * carry_den
        out[start:stop] = num / den
        carry_t = float(t[stop - 1])
        back = math.exp((base - carry_t) * rate)
        carry_num, carry_den = float(num[-1]) * back, float(den[-1]) * back
        start = stop
    return out


def rolling_mean(values: Any, window: int) -> Floats:
    """Mean of the trailing ``window`` finite points (fewer at the start); causal."""
    return _rolling(values, window, "mean")


def rolling_median(values: Any, window: int) -> Floats:
    """Median of the trailing ``window`` finite points (fewer at the start); causal."""
    return _rolling(values, window, "median")


#: A rolling median over windows of up to 64 points and up to 2^16 (points × window) cells sorts
#: every window at once: 2–3× cheaper than pandas on a few hundred points. Longer series or wider
#: windows go to pandas' O(n log w) median.
_SORTED_MEDIAN_WINDOW, _SORTED_MEDIAN_CELLS = 64, 1 << 16


def _rolling(values: Any, window: int, how: str) -> Floats:
    x = _as_series(values)
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < 1:
        raise InputError(f"expected `window` to be an int >= 1, got {window!r}")
    out = x.copy()
    finite = np.isfinite(x)
    if finite.any():
        v, w = x[finite], int(window)
        cells = len(v) * min(w, len(v))
        if how == "median" and w <= _SORTED_MEDIAN_WINDOW and cells <= _SORTED_MEDIAN_CELLS:
            out[finite] = _sorted_rolling_median(v, w)
        else:
            roll = pd.Series(v).rolling(w, min_periods=1)
            res = roll.mean() if how == "mean" else roll.median()
            out[finite] = res.to_numpy(np.float64)
    return out


def _sorted_rolling_median(v: Floats, window: int) -> Floats:
    """The trailing median of ``v`` (finite) over ``window`` points, fewer at the start: every
    window sorted at once (padded in front with +inf, which sorts last). The same numbers as
    pandas: the middle value, or the two middle values' sum halved."""
    n, w = len(v), min(window, len(v))
    padded = np.concatenate([np.full(w - 1, np.inf), v])
    rows = padded[np.add.outer(np.arange(n), np.arange(w))]
    rows.sort(axis=1)
    count = np.minimum(np.arange(1, n + 1), w)  # the real values in each window
    flat, first = rows.ravel(), np.arange(0, n * w, w)
    low, high = flat[first + (count - 1) // 2], flat[first + count // 2]
    median: Floats = np.where(count % 2 == 1, low, (low + high) / 2)
    return median


def _keep_constant_prefix(v: Floats, smoothed: Floats) -> None:
    """Give back exactly the leading run of values equal to the first (no rounding noise)."""
    differs = np.flatnonzero(v != v[0])
    n = differs[0] if differs.size else v.size
    smoothed[:n] = v[:n]


def _as_series(values: Any, name: str = "values") -> Floats:
    a = np.asarray(values)
    if a.ndim != 1:
        raise InputError(f"expected a 1-D series in `{name}`, got shape {a.shape}")
    if a.dtype.kind not in "iufb":
        raise InputError(f"expected numbers in `{name}`, got dtype {a.dtype}")
    return a.astype(np.float64)
