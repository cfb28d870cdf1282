"""Cut a long series down to ~2,000 points per trace, keeping each bucket's min and max.

A 1M-point loss curve is ~25 MB of figure JSON; the browser cannot draw more pixels than the
plot is wide anyway. MinMaxLTTB (tsdownsample) keeps the extremes of every bucket, so a single
spike survives. Smoothing must happen before this, at full resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from tsdownsample import MinMaxLTTBDownsampler

MAX_POINTS = 2000

_DOWNSAMPLER = MinMaxLTTBDownsampler()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class Thinned:
    """The points to draw and how many there were."""

    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    total: int

    @property
    def shown(self) -> int:
        return len(self.x)

    @property
    def thinned(self) -> bool:
        return self.shown < self.total


def thin_indices(
    x: npt.ArrayLike, y: npt.ArrayLike, n_out: int = MAX_POINTS
) -> npt.NDArray[np.int64]:
    """Indices of the finite points to keep (all of them when there are at most ``n_out``).

    ``x`` must be sorted. Non-finite ``y`` are never kept: the figures mark them apart.
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    keep = np.flatnonzero(np.isfinite(ys))
    if len(keep) <= n_out:
        return keep.astype(np.int64)
    idx = _DOWNSAMPLER.downsample(xs[keep], ys[keep], n_out=max(n_out, 4))
    return keep[np.asarray(idx, dtype=np.int64)]


def thin(x: npt.ArrayLike, y: npt.ArrayLike, n_out: int = MAX_POINTS) -> Thinned:
    """The finite points cut to about ``n_out`` with min/max-preserving buckets.

    ``total`` counts every point, non-finite ones included ("N of M points shown").
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    idx = thin_indices(xs, ys, n_out)
    return Thinned(xs[idx], ys[idx], len(xs))
