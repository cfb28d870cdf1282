"""Least squares for the saturating curve y = a − β·u^(−c) under β ≥ 0 and a ≤ upper.

Given c the model is linear in (a, β), so the constrained (a, β) has a closed form and only c
needs a search (variable projection): a grid over c, then golden-section refinement, vectorised
over many series at once (the bootstrap refits hundreds). A single fit is then polished with
scipy's ``curve_fit`` from that start.
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
_INV_PHI = (math.sqrt(5.0) - 1.0) / 2.0


def model(u: Values, a: float, beta: float, c: float) -> Values:
    """a − β·u^(−c)."""
    return a - beta * u ** (-c)


def _linear(u: Values, y: Array, c: Array, upper: float | None) -> tuple[Array, Array, Array]:
    """Best (a, β) and the SSE for each series y[b] (B, n) and each c[b, g] (B, G).

    The optimum of a 2-variable box-constrained least squares is the free one if feasible,
    else the best of the faces β = 0 and a = upper.
    """
    p = u[None, None, :] ** (-c[..., None])  # (B, G, n)
    yy = y[:, None, :]
    pm, ym = p.mean(-1), yy.mean(-1)
    dp = p - pm[..., None]
    k = (dp * (yy - ym[..., None])).sum(-1) / (dp * dp).sum(-1)
    cands = [(ym - k * pm, -k), (np.broadcast_to(ym, k.shape), np.zeros_like(k))]
    if upper is not None:
        cands[1] = (np.minimum(cands[1][0], upper), cands[1][1])
        b3 = np.maximum(((upper - yy) * p).sum(-1) / (p * p).sum(-1), 0.0)
        cands.append((np.full_like(k, upper), b3))
    best_a, best_b, best_sse = cands[1][0], cands[1][1], np.full_like(k, np.inf)
    for i, (a, b) in enumerate(cands):
        sse = ((yy - a[..., None] + b[..., None] * p) ** 2).sum(-1)
        if i == 0:
            feasible = b >= 0 if upper is None else (b >= 0) & (a <= upper)
            sse = np.where(feasible, sse, np.inf)
        better = sse < best_sse
        best_a = np.where(better, a, best_a)
        best_b = np.where(better, b, best_b)
        best_sse = np.where(better, sse, best_sse)
    return best_a, best_b, best_sse


_FIT_CELLS = 1 << 21  # ~16 MB of float64 per temporary of ``_linear``


def fit_many(u: Values, y: Array, upper: float | None, iterations: int = 40) -> Array:
    """Least-squares (a, β, c) for each row of y (B, n): grid over c, then golden section.

    Rows are independent: they are fitted in batches of at most ``_FIT_CELLS`` grid cells
    (rows × grid × points), so a bootstrap of a 2,500-eval run stays at a few MB.
    """
    n_series = len(y)
    rows = max(1, _FIT_CELLS // max(1, len(_GRID) * len(u)))
    if n_series > rows:
        return np.concatenate(
            [fit_many(u, y[i : i + rows], upper, iterations) for i in range(0, n_series, rows)]
        )
    with np.errstate(all="ignore"):
        _, _, sse = _linear(u, y, np.broadcast_to(_GRID, (n_series, len(_GRID))), upper)
        k = np.argmin(sse, axis=1)
        lo = np.log(_GRID[np.maximum(k - 1, 0)])
        hi = np.log(_GRID[np.minimum(k + 1, len(_GRID) - 1)])
        for _ in range(iterations):
            x1, x2 = hi - _INV_PHI * (hi - lo), lo + _INV_PHI * (hi - lo)
            _, _, f = _linear(u, y, np.exp(np.stack([x1, x2], axis=1)), upper)
            left = f[:, 0] < f[:, 1]
            hi, lo = np.where(left, x2, hi), np.where(left, lo, x1)
        c = np.exp((lo + hi) / 2)
        a, beta, _ = _linear(u, y, c[:, None], upper)
    return np.column_stack([a[:, 0], beta[:, 0], c])


def _jac(u: Values, a: float, beta: float, c: float) -> Array:
    p = u ** (-c)
    return np.column_stack([np.ones_like(u), -p, beta * p * np.log(u)])


def fit_one(u: Values, v: Values, upper: float | None, polish: bool = True) -> Params:
    """Least-squares (a, β, c): variable projection, polished by ``curve_fit`` when it helps
    (``polish``; without it no scipy is imported, for callers that must start fast)."""
    start = fit_many(u, v[None, :], upper)[0]
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
