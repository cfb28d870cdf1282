"""Forecast of a saturating metric (mIoU against step): fit y = a − b·t^(−c), read it ahead.

The power-law approach to an asymptote ``a`` is the usual shape of a learning curve; ``b`` ≥ 0
makes it rise, and for a fraction metric ``a`` ≤ 1 keeps every forecast at or under 1. The
band is a parametric bootstrap (refit on the fitted curve plus normal noise of the residual sd),
so it reflects the scatter of the evals, not a wrong choice of curve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from metrics.errors import InputError
from metrics.stats.curvefit import LOG_C_TOL, Array, Params, fit_many, fit_one, model
from metrics.stats.series import Values, finite

MIN_EVALS = 5


@dataclass(frozen=True)
class Forecast:
    """The fitted curve, its value at ``last_step`` and when it reaches ``target`` (with bands).

    ``ok`` is False (with a ``reason`` and NaN figures) when the evals cannot support a fit.
    ``target_step`` is inf when the fitted asymptote stays below the target.
    """

    ok: bool
    reason: str
    n: int  # finite evals at steps > 0
    last_step: int
    target: float  # NaN when none was asked for
    level: float  # of the bands, e.g. 0.9 for the 5th–95th percentiles
    a: float = math.nan
    b: float = math.nan  # in raw steps: y = a − b·step^(−c)
    c: float = math.nan
    residual_sd: float = math.nan
    value: float = math.nan
    value_low: float = math.nan
    value_high: float = math.nan
    target_step: float = math.nan
    target_step_low: float = math.nan
    target_step_high: float = math.nan
    a_at_upper: bool = False  # the asymptote sits on ``upper``: still rising, a not identified


def saturating_curve(steps: npt.ArrayLike, a: float, b: float, c: float) -> Values:
    """a − b·step^(−c): the fitted curve, for plotting or checking."""
    t = np.asarray(steps, dtype=np.float64)
    return a - b * t ** (-c)


def forecast(
    steps: npt.ArrayLike,
    values: npt.ArrayLike,
    *,
    last_step: int,
    target: float | None = None,
    upper: float | None = 1.0,
    level: float = 0.9,
    n_boot: int = 200,
    seed: int = 0,
    polish: bool = True,
    tol: float = LOG_C_TOL,
) -> Forecast:
    """Fit y = a − b·t^(−c) to the evals at steps > 0 and forecast ``last_step`` and ``target``.

    ``upper`` bounds the asymptote (1.0 for fractions, None for an unbounded metric). Refuses
    (ok=False) below ``MIN_EVALS`` evals or when the fit fails. Without ``polish`` the fit is
    the variable-projection least squares alone (no scipy import, for the diagnosis). Every fit
    locates c to ``tol`` on log c (``curvefit.LOG_C_TOL``).
    """
    s, v = finite(steps, values)
    s, v = s[s > 0], v[s > 0]
    tgt = math.nan if target is None else float(target)
    _check_args(v, tgt, upper, last_step)
    n_steps = len(np.unique(s))
    if n_steps < MIN_EVALS:
        reason = f"{n_steps} evals at distinct steps > 0; need >= {MIN_EVALS} to forecast"
        return Forecast(False, reason, len(v), last_step, tgt, level)
    scale = float(s.max())
    u = s / scale
    try:
        theta = fit_one(u, v, upper, polish, tol)
    except (RuntimeError, ValueError) as exc:
        return Forecast(False, f"the curve fit failed: {exc}", len(v), last_step, tgt, level)
    resid_sd = float(np.sqrt(np.sum((v - model(u, *theta)) ** 2) / (len(v) - 3)))
    at, hit = _readouts(np.array([theta]), last_step / scale, tgt, scale)[0].tolist()
    boots = _bootstrap(u, theta, resid_sd, upper, n_boot, seed, tol)
    readouts = _readouts(boots, last_step / scale, tgt, scale)
    (v_lo, t_lo), (v_hi, t_hi) = _band(readouts, level).tolist()
    a, beta, c = theta
    cap = math.inf if upper is None else upper
    return Forecast(
        ok=True,
        reason="",
        n=len(v),
        last_step=last_step,
        target=tgt,
        level=level,
        a=a,
        b=beta * scale**c,
        c=c,
        residual_sd=resid_sd,
        value=min(at, cap),
        value_low=min(v_lo, cap),
        value_high=min(v_hi, cap),
        target_step=hit,
        target_step_low=t_lo,
        target_step_high=t_hi,
        a_at_upper=upper is not None and a >= upper - 1e-6,
    )


def _check_args(v: Values, target: float, upper: float | None, last_step: int) -> None:
    if last_step <= 0:
        raise InputError(f"expected last_step > 0, got {last_step}")
    if upper is None:
        return
    top = max(float(v.max()) if len(v) else -math.inf, -math.inf if math.isnan(target) else target)
    if top > upper:
        raise InputError(
            f"values up to {top:g} exceed upper={upper:g}: pass fractions (not percent) "
            "or upper=None for an unbounded metric"
        )


def _band(boots: Array, level: float) -> Array:
    """Rows (low, high) of the bootstrap percentiles; inf-safe (no interpolation)."""
    if not len(boots):
        return np.full((2, 2), np.nan)
    qs = [(1 - level) / 2, (1 + level) / 2]
    out = np.full((2, 2), np.nan)
    for j in range(2):
        col = boots[:, j]
        if not np.isnan(col).all():
            out[:, j] = np.quantile(col[~np.isnan(col)], qs, method="inverted_cdf")
    return out


def _readouts(params: Array, u_last: float, target: float, scale: float) -> Array:
    """Rows of (value at u_last, step where the curve reaches target) for rows of (a, β, c).

    The step is inf when the asymptote does not exceed the target, NaN when there is no target.
    """
    a, beta, c = params[:, 0], params[:, 1], params[:, 2]
    with np.errstate(all="ignore"):
        at = a - beta * u_last ** (-c)
        hit = np.where(a > target, scale * (beta / (a - target)) ** (1.0 / c), np.inf)
    return np.column_stack([at, np.full_like(at, np.nan) if math.isnan(target) else hit])


def _bootstrap(
    u: Values, theta: Params, sd: float, upper: float | None, n: int, seed: int, tol: float
) -> Array:
    """Parametric bootstrap: refit (a, β, c) on the fitted curve plus N(0, sd²) noise, n times."""
    fitted = model(u, *theta)
    y = fitted + np.random.default_rng(seed).normal(0.0, sd, (n, len(u)))
    params = fit_many(u, y, upper, tol)
    return params[np.all(np.isfinite(params), axis=1)]
