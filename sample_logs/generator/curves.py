"""Simulated curves: per-class IoU around class-specific ramps (mIoU = their nanmean), the
progress shapes that drive them, and the training-side loss and lr series."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .common import logged
from .datasets import Dataset


@dataclass
class Eval:
    """One validation: per-class IoU/accuracy (fractions, rounded as printed) and summaries."""

    step: int
    iou: np.ndarray
    acc: np.ndarray
    miou: float
    macc: float
    aacc: float
    kappa: float
    fwiou: float
    loss: float = math.nan  # validation loss, where a framework logs one


def _round(x: np.ndarray | float, decimals: int | None) -> np.ndarray | float:
    """As printed: rounded to ``decimals``, or a float32 value where a framework logs floats."""
    return logged(x) if decimals is None else np.round(x, decimals)


def summarise(
    step: int, ds: Dataset, iou: np.ndarray, acc: np.ndarray, decimals: int | None
) -> Eval:
    """Round the per-class values as the framework prints them, then derive the summaries."""
    iou = np.asarray(_round(iou, decimals), dtype=float)
    acc = np.asarray(_round(acc, decimals), dtype=float)
    present = ~np.isnan(acc)
    w = ds.freq * present
    aacc = float(np.nansum(w * np.nan_to_num(acc)) / w.sum())
    pe = float(np.sum(w**2) / w.sum() ** 2)
    return Eval(
        step=step,
        iou=iou,
        acc=acc,
        miou=float(_round(np.nanmean(iou), decimals)),
        macc=float(_round(np.nanmean(acc), decimals)),
        aacc=float(_round(aacc, decimals)),
        kappa=float(_round((aacc - pe) / (1 - pe), decimals)) if pe < 1 else 0.0,
        fwiou=float(_round(np.nansum(w * np.nan_to_num(iou)) / w.sum(), decimals)),
    )


def simulate_evals(
    rng: np.random.Generator,
    ds: Dataset,
    steps: Sequence[int],
    progress: Sequence[float],
    *,
    class_sd: float = 0.012,
    common_sd: float = 0.003,
    decimals: int | None = 4,
    dead: tuple[int, ...] = (),
) -> list[Eval]:
    """Per-class IoU = cap x ramp(progress) + shared and per-class noise; dead classes are 0."""
    p = np.asarray(progress, dtype=float)[:, None]
    ramp = np.clip((p - ds.onset) / (1.0 - ds.onset), 0.0, 1.0)
    ramp = ramp ** (1.0 if ds.gamma is None else ds.gamma)
    common = rng.normal(0.0, common_sd, (len(p), 1))
    noise = rng.normal(0.0, class_sd, (len(p), ds.n))
    floor = np.zeros(ds.n) if ds.floor is None else ds.floor
    mean = floor + (ds.cap - floor) * ramp
    scale = np.where(mean > 0, 2 * np.sqrt(mean * (1 - mean)), 0.0)  # binomial-like spread
    iou = np.clip(mean + (common + noise) * scale, 0.0, 0.998)
    recall_gap = rng.uniform(0.15, 0.55, ds.n)
    acc = np.where(iou > 0, np.clip(iou + (1 - iou) * recall_gap * np.minimum(1, 4 * iou), 0, 1), 0)
    iou[:, list(dead)] = 0.0
    acc[:, list(dead)] = 0.0
    iou[:, list(ds.absent)] = np.nan
    acc[:, list(ds.absent)] = np.nan
    return [summarise(s, ds, iou[i], acc[i], decimals) for i, s in enumerate(steps)]


def uniform_eval(step: int, ds: Dataset, cls: int, rng: np.random.Generator, decimals: int | None,
                 leak: float = 0.0) -> Eval:  # fmt: skip
    """The model predicts class ``cls`` everywhere (a few stray pixels of others with ``leak``)."""
    iou = np.zeros(ds.n)
    acc = np.zeros(ds.n)
    iou[cls] = ds.freq[cls] * (1 - leak * rng.uniform(0, 1))
    acc[cls] = 1.0 - leak * rng.uniform(0, 1)
    if leak:
        k = int(rng.integers(1, ds.n))
        iou[k] = leak * rng.uniform(0, 0.3)
        acc[k] = iou[k] * 2
    iou[list(ds.absent)] = np.nan
    acc[list(ds.absent)] = np.nan
    return summarise(step, ds, iou, acc, decimals)


# progress shapes, as a function of the fraction f of training done (0..1)


def saturating(f: np.ndarray, tau: float, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """Rises quickly then slows: 1 - exp(-f/tau), scaled to reach ``hi`` at f = 1."""
    g = (1 - np.exp(-f / tau)) / (1 - np.exp(-1 / tau))
    return lo + (hi - lo) * g


def fractions(steps: Sequence[int], total: int) -> np.ndarray:
    return np.asarray(steps, dtype=float) / total


def poly_lr(it: np.ndarray | int, base: float, total: int, power: float = 0.9,
            end: float = 0.0) -> np.ndarray:  # fmt: skip
    """PaddleSeg/MMSeg polynomial decay."""
    t = np.minimum(np.asarray(it, dtype=float), total)
    return logged((base - end) * (1 - t / total) ** power + end)


def train_loss(
    rng: np.random.Generator,
    it: np.ndarray,
    start: float,
    floor: float,
    tau: float,
    noise: float = 0.06,
) -> np.ndarray:
    """A decaying loss with multiplicative noise (mean over a logging window)."""
    base = floor + (start - floor) * np.exp(-it / tau)
    return logged(base * np.exp(rng.normal(0, noise, len(it))))


def explode(loss: np.ndarray, it: np.ndarray, start: int, nan_from: int) -> np.ndarray:
    """From ``start`` the loss grows exponentially; from ``nan_from`` it is NaN."""
    out = loss.copy()
    grow = (it >= start) & (it < nan_from)
    span = max(nan_from - start, 1)
    out[grow] = logged(loss[grow] * np.exp(7.5 * ((it[grow] - start) / span) ** 1.5))
    out[it >= nan_from] = np.nan
    return out
