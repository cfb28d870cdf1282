"""Least squares for the saturating curve y = a − β·u^(−c) under β ≥ 0 and a ≤ upper.

Given c the model is linear in (a, β), so the constrained (a, β) has a closed form and only c
needs a search (variable projection): a grid over c, then golden-section refinement, vectorised
over many series at once (the bootstrap refits hundreds). Each (a, β) and its SSE come from a
few sums per series and c (means, centred cross-products), not from residuals: the grid is one
matrix product, and golden section evaluates one new c per step. A single series is refined by
finer grids instead (a few matrix products rather than dozens of golden-section steps, whose
cost for one series is numpy's per-call overhead). Both stop when the bracket on log c is
narrower than ``tol``. A single fit is then polished with scipy's ``curve_fit`` from that start.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import numpy.typing as npt

from metrics.stats.series import Values

Params = tuple[float, float, float]
Array = npt.NDArray[np.float64]

C_BOUNDS = (0.01, 5.0)
_GRID = np.geomspace(C_BOUNDS[0], C_BOUNDS[1], 48)
_LOG_GRID = np.log(_GRID)
_INV_PHI = (math.sqrt(5.0) - 1.0) / 2.0
#: The searches stop once the bracket of c's minimum is narrower than this on log c: the width
#: 40 golden-section steps leave of a bracket of two grid steps (1.16e-9), c to 6e-10. That is
#: already below what rounding lets the SSE tell apart on most series (``fit_many`` with a
#: coarser ``tol`` is cheaper: 26 steps for 1e-6).
LOG_C_TOL = 1.2e-9
_ZOOM = 131  # points of each finer grid of a single series: its bracket shrinks 65× per grid


def model(u: Values, a: float, beta: float, c: float) -> Values:
    """a − β·u^(−c)."""
    return a - beta * u ** (-c)


class _Rows:
    """What the fits of the series y (B, n) need of them whatever c is: mean, centred y, SSE
    about the mean (``syy``), ``upper`` (None: unbounded), and the SSE of the face β = 0 and the
    constant parts of the face a = upper, which do not depend on c either."""

    def __init__(self, y: Array, upper: float | None) -> None:
        self.n = y.shape[1]
        self.ym = y.mean(axis=1)
        self.yc = y - self.ym[:, None]
        self.syy = np.einsum("bn,bn->b", self.yc, self.yc)
        self.upper = upper
        self.a_flat = self.ym if upper is None else np.minimum(self.ym, upper)  # face β = 0
        self.flat_sse = self.syy + self.n * (self.ym - self.a_flat) ** 2  # the same for any c
        if upper is not None:
            self.n_gap = self.n * (upper - self.ym)  # n·(upper − mean y)
            self.top_sse = self.syy + self.n_gap * (upper - self.ym)  # Σ (upper − y)²
            self.over = self.ym - upper  # the free fit's a ≤ upper ⟺ k·mean(p) ≥ this


def _solve(rows: _Rows, pm: Array, sxx: Array, sxy: Array) -> tuple[Array, Array, Array]:
    """Best (a, β) and the SSE given, per series (axis 0) and c, the mean of p = u^(−c), its
    centred sum of squares ``sxx`` and its centred cross-product with y ``sxy``.

    The optimum of a 2-variable box-constrained least squares is the free one if feasible,
    else the best of the faces β = 0 and a = upper (ties: the first of free, β = 0, a = upper).
    """
    shape = (-1,) + (1,) * (pm.ndim - 1)
    n, ym, syy = rows.n, rows.ym.reshape(shape), rows.syy.reshape(shape)
    k = sxy / sxx
    a1, b1 = ym - k * pm, -k
    sse1 = syy - k * sxy
    feasible = b1 >= 0 if rows.upper is None else (b1 >= 0) & (a1 <= rows.upper)
    sse1 = np.where(feasible, sse1, np.inf)
    a2 = np.broadcast_to(rows.a_flat.reshape(shape), k.shape)
    sse2 = np.broadcast_to(rows.flat_sse.reshape(shape), k.shape)
    best_a = np.where(sse1 < np.inf, a1, a2)
    best_b = np.where(sse1 < np.inf, b1, 0.0)
    best_sse = np.where(sse1 < np.inf, sse1, np.inf)
    better = sse2 < best_sse
    best_a, best_b, best_sse = (
        np.where(better, a2, best_a),
        np.where(better, 0.0, best_b),
        np.where(better, sse2, best_sse),
    )
    if rows.upper is not None:
        d = rows.upper - ym  # upper − mean(y)
        spp = sxx + n * pm * pm  # Σ p²
        sdp = n * pm * d - sxy  # Σ (upper − y)·p
        b3 = np.maximum(sdp / spp, 0.0)
        sse3 = syy + n * d * d - 2 * b3 * sdp + b3 * b3 * spp
        better = sse3 < best_sse
        best_a = np.where(better, rows.upper, best_a)
        best_b = np.where(better, b3, best_b)
        best_sse = np.where(better, sse3, best_sse)
    return best_a, best_b, best_sse


def _sums(rows: _Rows, logu: Values, c: Array) -> tuple[Array, Array, Array]:
    """Mean of p = u^(−c), its centred sum of squares and cross-product with y, one c per series."""
    p = np.exp(np.multiply.outer(-c, logu))
    pm = p.sum(axis=1) / rows.n
    p -= pm[:, None]
    return pm, np.einsum("bn,bn->b", p, p), np.einsum("bn,bn->b", p, rows.yc)


def _sse(rows: _Rows, logu: Values, c: Array) -> Array:
    """The least SSE over (a, β) at one c per series: the smallest of the three candidates of
    ``_solve``, for the search over c (only the SSE, in as few array operations as it takes:
    at a = upper the best β ≥ 0 leaves Σ(upper − y)² − max(Σ(upper − y)·p, 0)² / Σp²)."""
    pm, sxx, sxy = _sums(rows, logu, c)
    k = sxy / sxx
    best: Array
    if rows.upper is None:
        best = np.minimum(np.where(k <= 0, rows.syy - k * sxy, np.inf), rows.flat_sse)
        return best
    free = np.where((k <= 0) & (k * pm >= rows.over), rows.syy - k * sxy, np.inf)
    top = rows.top_sse - np.maximum(rows.n_gap * pm - sxy, 0.0) ** 2 / (sxx + rows.n * pm * pm)
    best = np.minimum(np.minimum(free, rows.flat_sse), top)
    return best


_FIT_CELLS = 1 << 21  # ~16 MB of float64 per (rows × points) temporary


def fit_many(u: Values, y: Array, upper: float | None, tol: float = LOG_C_TOL) -> Array:
    """Least-squares (a, β, c) for each row of y (B, n): grid over c, then golden section until
    the bracket on log c is narrower than ``tol``.

    Rows are independent: they are fitted in batches of at most ``_FIT_CELLS`` grid cells
    (rows × grid × points), so a bootstrap of a 2,500-eval run stays at a few MB.
    """
    n_series = len(y)
    rows_per = max(1, _FIT_CELLS // max(1, len(_GRID) * len(u)))
    if n_series > rows_per:
        return np.concatenate(
            [fit_many(u, y[i : i + rows_per], upper, tol) for i in range(0, n_series, rows_per)]
        )
    with np.errstate(all="ignore"):
        rows = _Rows(np.asarray(y, dtype=np.float64), upper)
        logu = np.log(np.asarray(u, dtype=np.float64))
        lo, hi = _golden(rows, logu, *_bracket(rows, logu, _GRID, _LOG_GRID), tol)
        c = np.exp((lo + hi) / 2)
        a, beta, _ = _solve(rows, *_sums(rows, logu, c))
    return np.column_stack([a, beta, c])


def _bracket(rows: _Rows, logu: Values, grid: Array, log_grid: Array) -> tuple[Array, Array]:
    """Each series' best c of ``grid`` (ascending; ``log_grid`` its logs) and its neighbours:
    the bracket, on log c, of the minimum (one matrix product for all series and c)."""
    p = np.exp(-grid[:, None] * logu[None, :])  # (G, n): the same for every series
    pm = p.mean(axis=1)
    dp = p - pm[:, None]
    sxx = np.einsum("gn,gn->g", dp, dp)
    _, _, sse = _solve(rows, pm[None, :], sxx[None, :], rows.yc @ dp.T)
    k = np.argmin(sse, axis=1)
    return log_grid[np.maximum(k - 1, 0)], log_grid[np.minimum(k + 1, len(grid) - 1)]


def _golden(rows: _Rows, logu: Values, lo: Array, hi: Array, tol: float) -> tuple[Array, Array]:
    """Golden-section search of each series' SSE on log c in [lo, hi], one new c per step,
    until a bracket of two grid steps (the widest the grid leaves) is narrower than ``tol``:
    every bracket shrinks by 1/φ per step."""
    width = 2 * (_LOG_GRID[1] - _LOG_GRID[0])
    iterations = max(0, math.ceil(math.log(width / tol) / -math.log(_INV_PHI)))
    if not iterations:
        return lo, hi
    x1, x2 = hi - _INV_PHI * (hi - lo), lo + _INV_PHI * (hi - lo)
    f1, f2 = _sse(rows, logu, np.exp(x1)), _sse(rows, logu, np.exp(x2))
    for i in range(iterations):
        left = f1 < f2  # the minimum lies in [lo, x2]: x1 becomes the new x2
        hi, lo = np.where(left, x2, hi), np.where(left, lo, x1)
        if i == iterations - 1:
            break
        step = _INV_PHI * (hi - lo)
        new = np.where(left, hi - step, lo + step)
        f_new = _sse(rows, logu, np.exp(new))
        x1, x2 = np.where(left, new, x2), np.where(left, x1, new)
        f1, f2 = np.where(left, f_new, f2), np.where(left, f1, f_new)
    return lo, hi


def _fit_single(u: Values, v: Values, upper: float | None, tol: float = LOG_C_TOL) -> Array:
    """``fit_many`` for one series, refined by finer grids inside its bracket (each one matrix
    product) instead of golden section, to the same ``tol``: (a, β, c)."""
    with np.errstate(all="ignore"):
        rows = _Rows(np.asarray(v, dtype=np.float64)[None, :], upper)
        logu = np.log(np.asarray(u, dtype=np.float64))
        lo, hi = _bracket(rows, logu, _GRID, _LOG_GRID)
        while hi[0] - lo[0] > tol:
            log_grid = np.linspace(lo[0], hi[0], _ZOOM)
            lo, hi = _bracket(rows, logu, np.exp(log_grid), log_grid)
        c = np.exp((lo + hi) / 2)
        a, beta, _ = _solve(rows, *_sums(rows, logu, c))
    return np.array([a[0], beta[0], c[0]])


def _jac(u: Values, a: float, beta: float, c: float) -> Array:
    p = u ** (-c)
    return np.column_stack([np.ones_like(u), -p, beta * p * np.log(u)])


def fit_one(
    u: Values, v: Values, upper: float | None, polish: bool = True, tol: float = LOG_C_TOL
) -> Params:
    """Least-squares (a, β, c): variable projection (c to ``tol`` on log c), polished by
    ``curve_fit`` when it helps (``polish``; without it no scipy is imported, for callers that
    must start fast)."""
    start = _fit_single(u, v, upper, tol)
    lo = [-math.inf, 0.0, C_BOUNDS[0]]
    hi = [math.inf if upper is None else upper, math.inf, C_BOUNDS[1]]
    p0 = np.clip(start, lo, hi)
    if not np.all(np.isfinite(p0)):
        raise RuntimeError("no finite starting point for the fit")
    if not polish:
        return (float(p0[0]), float(p0[1]), float(p0[2]))
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            from scipy.optimize import OptimizeWarning, curve_fit  # only when fitting

            warnings.simplefilter("ignore", OptimizeWarning)
            popt, _ = curve_fit(model, u, v, p0=p0, bounds=(lo, hi), jac=_jac, method="trf")
    except (RuntimeError, ValueError):
        popt = p0
    sse = [float(np.sum((v - model(u, *p)) ** 2)) for p in (popt, p0)]
    a, beta, c = (popt if sse[0] <= sse[1] else p0).tolist()
    return float(a), float(beta), float(c)
