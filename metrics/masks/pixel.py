"""Errors between two images (image-to-image models): MSE and PSNR.

Layout: a batch is ``(N, C, H, W)``, one image ``(C, H, W)`` (or ``(H, W)`` for ``"mean"``).
Everything is computed in float64, so uint8 inputs cannot overflow. The module exists to stop a
silently wrong number: when one array looks like 0–255 and the other like 0–1, it refuses (or
rescales when asked) instead of returning an MSE that is off by a factor of ~65,000.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from metrics.errors import InputError

__all__ = ["mse", "psnr"]

Reduction = Literal["mean", "none", "per_channel"]
_UNIT, _BYTE = "0–1", "0–255"
_SPREAD_SLACK = 1.5  # values may spread this much beyond data_range before we refuse


def mse(
    pred: Any,
    target: Any,
    data_range: float | None = None,
    reduction: Reduction = "mean",
    *,
    rescale: bool = False,
    check_range: bool = True,
) -> float | NDArray[np.float64]:
    """Mean squared error over pixels and channels.

    ``reduction``: ``"mean"`` one number for everything; ``"none"`` one per image of an
    ``(N, C, H, W)`` batch; ``"per_channel"`` one per channel. On a 0–1 vs 0–255 mismatch:
    refuse, or with ``rescale=True`` bring ``pred`` to ``target``'s range (to ``data_range``'s
    when given: 1 → 0–1, 255 → 0–255). ``check_range=False`` trusts the caller.
    """
    p, t = _prepare(pred, target, data_range, rescale, check_range)
    sq = np.square(p - t)
    if reduction == "mean":
        return float(sq.mean()) if sq.size else float("nan")
    return _reduce(sq, reduction)


def psnr(
    pred: Any,
    target: Any,
    data_range: float | None = None,
    reduction: Literal["mean", "none"] = "mean",
    *,
    rescale: bool = False,
    check_range: bool = True,
) -> float | NDArray[np.float64]:
    """Peak signal-to-noise ratio ``10 log10(data_range² / MSE)`` in dB, per image.

    ``"mean"`` averages the per-image PSNR of an ``(N, C, H, W)`` batch (as restoration
    benchmarks report it); ``"none"`` returns them. ``data_range`` defaults to 1 for a 0–1
    target and 255 for a 0–255 one. Identical images give +inf.
    """
    p, t = _prepare(pred, target, data_range, rescale, check_range)
    peak = data_range if data_range is not None else _default_peak(t)
    err = _reduce(np.square(p - t), "none") if p.ndim == 4 else np.array([np.square(p - t).mean()])
    with np.errstate(divide="ignore"):
        db = 10.0 * np.log10(peak * peak / err)
    if reduction == "none":
        return db
    if reduction != "mean":
        raise InputError(f"expected reduction 'mean' or 'none' for psnr, got {reduction!r}")
    return float(db.mean())


def _prepare(
    pred: Any, target: Any, data_range: float | None, rescale: bool, check_range: bool
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Validate the pair and return both as float64, ``pred`` rescaled if asked."""
    p, t = np.asarray(pred), np.asarray(target)
    for name, a in (("pred", p), ("target", t)):
        if a.dtype.kind not in "iufb":
            raise InputError(f"expected a numeric image in `{name}`, got dtype {a.dtype}")
    if p.shape != t.shape:
        raise InputError(
            f"expected `target` of shape {_shape_words(p.ndim)} like `pred` {p.shape}, "
            f"got {t.shape} (batch, channels, height and width must all match)"
        )
    if data_range is not None and not (np.isfinite(data_range) and data_range > 0):
        raise InputError(f"expected a positive finite `data_range`, got {data_range}")
    pf, tf = p.astype(np.float64), t.astype(np.float64)
    if check_range:
        pf = _reconcile(pf, tf, data_range, rescale)
        if data_range is not None:
            for name, a in (("pred", pf), ("target", tf)):
                _check_spread(name, a, data_range)
    return pf, tf


def _reconcile(
    p: NDArray[np.float64], t: NDArray[np.float64], data_range: float | None, rescale: bool
) -> NDArray[np.float64]:
    """Refuse (or fix, when ``rescale``) a 0–1 array paired with a 0–255 one."""
    sp, st = _scale(p), _scale(t)
    if sp is None or st is None or sp == st or not _informative(p, t, sp):
        return p
    if not rescale:
        raise InputError(
            f"`pred` looks like a {sp} image (values {_span(p)}) but `target` looks like "
            f"{st} (values {_span(t)}): their MSE would be meaningless. Bring them to one "
            f"range (e.g. pred {'* 255' if sp == _UNIT else '/ 255'}), pass rescale=True to do "
            f"that here, or check_range=False if the ranges are intended."
        )
    want = st if data_range is None else (_UNIT if data_range <= 1 else _BYTE)
    if want == sp:
        raise InputError(
            f"rescale=True with data_range={data_range} would rescale `target` ({st}), "
            f"not `pred`; bring `target` to {sp} yourself"
        )
    return p * 255.0 if want == _BYTE else p / 255.0


def _informative(p: NDArray[np.float64], t: NDArray[np.float64], sp: str) -> bool:
    """An all-zero 0–1 array reads the same in either range: no mismatch to report."""
    unit = p if sp == _UNIT else t
    return bool(np.any(unit[np.isfinite(unit)] != 0))


def _scale(a: NDArray[np.float64]) -> str | None:
    """``"0–1"``, ``"0–255"`` or None (unknown: signed, HDR, empty) from the finite values."""
    finite = a[np.isfinite(a)]
    if finite.size == 0:
        return None
    lo, hi = float(finite.min()), float(finite.max())
    if lo < -0.05:
        return None
    if hi <= 1.05:
        return _UNIT
    if 2.0 < hi <= 255.0 * 1.05:
        return _BYTE
    return None


def _check_spread(name: str, a: NDArray[np.float64], data_range: float) -> None:
    finite = a[np.isfinite(a)]
    if finite.size and float(finite.max() - finite.min()) > data_range * _SPREAD_SLACK:
        raise InputError(
            f"`{name}` spans values {_span(a)}, far wider than data_range={data_range}: "
            f"is data_range right (1 for 0–1 images, 255 for 0–255)?"
        )


def _default_peak(t: NDArray[np.float64]) -> float:
    scale = _scale(t)
    if scale is None:
        raise InputError(
            f"cannot tell the range of `target` (values {_span(t)}): pass data_range "
            f"(1 for 0–1 images, 255 for 0–255)"
        )
    return 1.0 if scale == _UNIT else 255.0


def _reduce(sq: NDArray[np.float64], reduction: str) -> NDArray[np.float64]:
    if reduction == "none":
        if sq.ndim != 4:
            raise InputError(
                f"expected an (N, C, H, W) batch for reduction='none', got shape {sq.shape}"
            )
        return np.asarray(sq.mean(axis=(1, 2, 3)), np.float64)
    if reduction == "per_channel":
        if sq.ndim not in (3, 4):
            raise InputError(
                f"expected (N, C, H, W) or (C, H, W) for reduction='per_channel', "
                f"got shape {sq.shape}"
            )
        axes = (0, 2, 3) if sq.ndim == 4 else (1, 2)
        return np.asarray(sq.mean(axis=axes), np.float64)
    raise InputError(f"expected reduction 'mean', 'none' or 'per_channel', got {reduction!r}")


def _span(a: NDArray[np.float64]) -> str:
    finite = a[np.isfinite(a)]
    if finite.size == 0:
        return "none finite"
    return f"{float(finite.min()):g} to {float(finite.max()):g}"


def _shape_words(ndim: int) -> str:
    return {2: "(H, W)", 3: "(C, H, W)", 4: "(N, C, H, W)"}.get(ndim, "(...)")
