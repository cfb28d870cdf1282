"""Confusion matrix and the segmentation scores read from it (IoU, accuracy, Dice, kappa).

Convention: ``cm[i, j]`` counts the pixels whose ground truth is class ``i`` and whose prediction
is class ``j`` (rows = ground truth, columns = prediction), as in MMSegmentation and torchmetrics.
Matrices add up across images: sum them over the whole evaluation, then compute the scores once
(a mean of per-image IoUs is a different, wrong-for-us number).

Score definitions follow MMSegmentation (``mmseg/evaluation/metrics/iou_metric.py``) and PaddleSeg
(``paddleseg/utils/metrics.py``), with one rule everywhere: a per-class score whose denominator is
0 is NaN and the means skip NaN. (PaddleSeg instead counts such classes as 0 in mIoU and mDice.)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from metrics.errors import InputError

__all__ = [
    "SegScores",
    "class_accuracy",
    "confusion_matrix",
    "dice_per_class",
    "iou_per_class",
    "kappa",
    "mean_accuracy",
    "mean_dice",
    "mean_iou",
    "pixel_accuracy",
    "scores",
]

_CHUNK = 1 << 20  # pixels per bincount: bounds the temporaries to ~10 MB whatever the batch size
_MAX_SHOWN = 10  # distinct bad label values named in an error message

Floats = NDArray[np.float64]


class _BadLabels(Exception):
    """Internal: a chunk holds labels out of range (the full count is taken afterwards)."""


def confusion_matrix(
    pred: Any, gt: Any, num_classes: int, ignore_index: int | None = 255
) -> NDArray[np.int64]:
    """Count (ground truth, prediction) pairs: rows = ground truth, columns = prediction.

    ``pred`` and ``gt`` are integer label maps of the same shape (one image or a batch); pixels
    where ``gt == ignore_index`` are left out. Work is done in chunks, so memory stays small.
    """
    p, g = _check_arrays(pred, gt, num_classes)
    k = num_classes
    counts = np.zeros(k * k, np.int64)
    try:
        for pc, gc in _flat_chunks(p, g):
            counts += _chunk_counts(pc, gc, k, ignore_index)
    except _BadLabels:
        raise _bad_labels_error(p, g, k, ignore_index) from None
    return counts.reshape(k, k)


#: The most classes a confusion matrix is built for (4096² counts are 128 MiB).
MAX_CLASSES = 4096


def _check_arrays(pred: Any, gt: Any, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Validate dtypes, shapes and ``num_classes``; return the two arrays."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, int | np.integer):
        raise InputError(f"expected `num_classes` to be an int, got {type(num_classes).__name__}")
    if num_classes < 1:
        raise InputError(f"expected `num_classes` >= 1, got {num_classes}")
    if num_classes > MAX_CLASSES:
        raise InputError(
            f"expected `num_classes` <= {MAX_CLASSES} (its confusion matrix holds "
            f"num_classes² counts), got {num_classes}"
        )
    p, g = np.asarray(pred), np.asarray(gt)
    for name, a in (("pred", p), ("gt", g)):
        _check_dtype(name, a, p.ndim == g.ndim + 1)
    if p.shape != g.shape:
        hint = ""
        if p.ndim == g.ndim + 1:
            hint = (
                "; `pred` has one more axis than `gt`: if it holds per-class scores, "
                "take the argmax over the class axis first"
            )
        raise InputError(
            f"expected `gt` of shape {_shape_words(p.ndim)} like `pred` {p.shape}, "
            f"got {g.shape}{hint}"
        )
    return p, g


def _check_dtype(name: str, a: np.ndarray, extra_axis: bool) -> None:
    """Refuse anything but integer (or bool) labels, naming the likely mistake."""
    if a.dtype.kind in "iub":
        return
    if a.dtype.kind in "fc":
        how = "pred.argmax(axis=1)" if extra_axis else "argmax over the class axis"
        raise InputError(
            f"expected integer class labels in `{name}`, got a {a.dtype} array: logits or "
            f"probabilities passed by mistake? Take the predicted class with {how} "
            f"(or cast whole-number labels with .astype(np.int64))"
        )
    raise InputError(f"expected integer class labels in `{name}`, got dtype {a.dtype}")


def _shape_words(ndim: int) -> str:
    return {1: "(P,)", 2: "(H, W)", 3: "(N, H, W)", 4: "(N, 1, H, W)"}.get(ndim, "(...)")


def _flat_chunks(p: np.ndarray, g: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield matching 1-D pieces of at most ``_CHUNK`` pixels, never copying a whole array."""
    if p.ndim <= 1 or (p.flags.c_contiguous and g.flags.c_contiguous):
        pf, gf = p.reshape(-1), g.reshape(-1)
        for start in range(0, pf.size, _CHUNK):
            yield pf[start : start + _CHUNK], gf[start : start + _CHUNK]
        return
    for i in range(p.shape[0]):
        yield from _flat_chunks(p[i], g[i])


def _chunk_counts(p: np.ndarray, g: np.ndarray, k: int, ignore: int | None) -> NDArray[np.int64]:
    """Flattened confusion counts of one chunk; raise ``_BadLabels`` on labels out of range."""
    if p.size == 0:
        return np.zeros(k * k, np.int64)
    ignored = (g == ignore) if ignore is not None else None
    if g.min() < 0 or g.max() >= k:
        bad = (g < 0) | (g >= k)
        if ignored is not None:
            bad &= ~ignored
        if bad.any():
            raise _BadLabels
    if (p.min() < 0 or p.max() >= k) and _pred_out_of_range(p, ignored, k).any():
        raise _BadLabels
    idx = g.astype(np.intp)
    idx *= k
    np.add(idx, p, out=idx, casting="unsafe")  # wrap-around only where overwritten below
    if ignored is not None:
        np.copyto(idx, k * k, where=ignored)  # ignored pixels go to a spare last bin
    return np.bincount(idx, minlength=k * k + 1)[: k * k].astype(np.int64, copy=False)


def _pred_out_of_range(p: np.ndarray, ignored: np.ndarray | None, k: int) -> np.ndarray:
    bad = (p < 0) | (p >= k)
    if ignored is not None:
        bad &= ~ignored
    return bad


def _bad_labels_error(p: np.ndarray, g: np.ndarray, k: int, ignore: int | None) -> InputError:
    """Scan everything again to say which labels are out of range and on how many pixels."""
    g_count = p_count = 0
    g_vals: set[int] = set()
    p_vals: set[int] = set()
    for pc, gc in _flat_chunks(p, g):
        ignored = (gc == ignore) if ignore is not None else None
        g_bad = (gc < 0) | (gc >= k)
        if ignored is not None:
            g_bad &= ~ignored
        p_bad = _pred_out_of_range(pc, ignored, k)
        g_count += int(np.count_nonzero(g_bad))
        p_count += int(np.count_nonzero(p_bad))
        g_vals.update(np.unique(gc[g_bad]).tolist())
        p_vals.update(np.unique(pc[p_bad]).tolist())
    rng = f"outside [0, {k})"
    parts = []
    if g_count:
        other = f" other than ignore_index={ignore}" if ignore is not None else ""
        parts.append(f"`gt` has {g_count:,} pixels with labels {rng}{other}: {_values(g_vals)}")
    if p_count:
        where = " where gt is not ignored" if ignore is not None else ""
        parts.append(f"`pred` has {p_count:,} pixels{where} with labels {rng}: {_values(p_vals)}")
    return InputError(
        "; ".join(parts) + f" (expected labels in [0, {k}): is num_classes={k} right?)"
    )


def _values(vals: set[int]) -> str:
    shown = sorted(vals)[:_MAX_SHOWN]
    more = f" and {len(vals) - len(shown)} more" if len(vals) > len(shown) else ""
    return f"values {shown}{more}"


# ---- scores from the matrix ------------------------------------------------------------------


def _as_cm(cm: Any) -> Floats:
    m = np.asarray(cm)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise InputError(f"expected a square confusion matrix (K, K), got shape {m.shape}")
    if m.dtype.kind not in "iuf":
        raise InputError(f"expected a numeric confusion matrix, got dtype {m.dtype}")
    return m.astype(np.float64)


def _ratio(num: Floats, den: Floats) -> Floats:
    """num / den, NaN where den == 0 (and no warning)."""
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _nanmean(x: Floats) -> float:
    finite = x[~np.isnan(x)]
    return float(finite.mean()) if finite.size else float("nan")


def iou_per_class(cm: Any) -> Floats:
    """TP / (TP + FP + FN) per class; NaN for a class absent from both prediction and truth."""
    m = _as_cm(cm)
    tp = np.diag(m)
    return _ratio(tp, m.sum(axis=0) + m.sum(axis=1) - tp)


def mean_iou(cm: Any) -> float:
    """Mean IoU over the classes that count (NaN classes skipped), from the summed matrix."""
    return _nanmean(iou_per_class(cm))


def class_accuracy(cm: Any) -> Floats:
    """TP / ground-truth pixels per class (MMSeg ``Acc``); NaN for a class with no truth."""
    m = _as_cm(cm)
    return _ratio(np.diag(m), m.sum(axis=1))


def mean_accuracy(cm: Any) -> float:
    """Mean class accuracy (MMSeg ``mAcc``): NaN-skipping mean of ``class_accuracy``."""
    return _nanmean(class_accuracy(cm))


def pixel_accuracy(cm: Any) -> float:
    """Overall pixel accuracy (MMSeg ``aAcc``): sum(TP) / all counted pixels; NaN if none."""
    m = _as_cm(cm)
    total = m.sum()
    return float(np.trace(m) / total) if total else float("nan")


def dice_per_class(cm: Any) -> Floats:
    """2TP / (2TP + FP + FN) per class (PaddleSeg ``dice``); NaN for an absent class."""
    m = _as_cm(cm)
    tp = np.diag(m)
    return _ratio(2 * tp, m.sum(axis=0) + m.sum(axis=1))


def mean_dice(cm: Any) -> float:
    """Mean Dice over the classes that count (NaN classes skipped)."""
    return _nanmean(dice_per_class(cm))


def kappa(cm: Any) -> float:
    """Cohen's kappa (po - pe) / (1 - pe) as PaddleSeg computes it; NaN when pe == 1 or empty."""
    m = _as_cm(cm)
    total = m.sum()
    if not total:
        return float("nan")
    po = np.trace(m) / total
    pe = float(np.sum(m.sum(axis=0) * m.sum(axis=1))) / (total * total)
    return float((po - pe) / (1 - pe)) if pe != 1 else float("nan")


@dataclass(frozen=True, eq=False)
class SegScores:
    """Every score of one evaluation, from one summed confusion matrix (arrays are read-only)."""

    iou: Floats
    miou: float
    acc: Floats
    macc: float
    aacc: float
    dice: Floats
    mdice: float
    kappa: float


def scores(cm: Any) -> SegScores:
    """All segmentation scores of a confusion matrix (rows = ground truth)."""
    iou, acc, dice = iou_per_class(cm), class_accuracy(cm), dice_per_class(cm)
    for a in (iou, acc, dice):
        a.setflags(write=False)
    return SegScores(
        iou=iou,
        miou=_nanmean(iou),
        acc=acc,
        macc=_nanmean(acc),
        aacc=pixel_accuracy(cm),
        dice=dice,
        mdice=_nanmean(dice),
        kappa=kappa(cm),
    )
