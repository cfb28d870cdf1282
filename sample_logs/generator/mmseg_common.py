"""MMSegmentation pieces shared by 0.x and 1.x: train-side values and the PrettyTable."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .common import logged
from .curves import Eval
from .datasets import Dataset


@dataclass
class MMTrain:
    """MMSeg train-side values at each logged iteration (means over the logging window)."""

    its: np.ndarray
    lr: np.ndarray
    loss: np.ndarray
    time: np.ndarray
    data_time: np.ndarray
    memory: np.ndarray

    def parts(self, i: int) -> dict[str, float]:
        """``decode.*`` and ``aux.*`` (loss = decode + 0.4 aux; acc_seg in percent)."""
        total = float(self.loss[i])
        dec = total / 1.4
        acc = 100 * (1 - min(0.65, 0.45 * dec**0.8)) if math.isfinite(dec) else 36.0
        return {
            "decode.loss_ce": dec,
            "decode.acc_seg": float(np.float32(acc)),
            "aux.loss_ce": total - dec,
            "aux.acc_seg": float(np.float32(acc * 0.96)),
        }


def mm_train(rng: np.random.Generator, its: np.ndarray, lr: np.ndarray, loss: np.ndarray,
             time_s: float, memory: int) -> MMTrain:  # fmt: skip
    n = len(its)
    t = rng.normal(time_s, time_s * 0.02, n)
    t[0] *= 1.6
    dt = np.abs(rng.normal(0.007, 0.0015, n))
    mem = np.full(n, memory) + (rng.uniform(0, 1, n) < 0.05) * 412
    return MMTrain(its, lr, loss, logged(t), logged(dt), mem)


def pretty_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """PrettyTable's default ASCII output (cells centred with ``str.center``)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    border = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(cells: Sequence[str]) -> str:
        return (
            "|"
            + "|".join(" " + c.center(w) + " " for c, w in zip(cells, widths, strict=True))
            + "|"
        )

    return "\n".join([border, line(header), border, *(line(r) for r in rows), border])


def pct(x: float) -> float:
    """``np.round(x * 100, 2)`` as MMSeg prints percentages."""
    return round(x * 100, 2)


def pct_str(x: float) -> str:
    return "nan" if math.isnan(x) else str(pct(x))


def class_table(ds: Dataset, ev: Eval) -> str:
    rows = [(c, pct_str(ev.iou[i]), pct_str(ev.acc[i])) for i, c in enumerate(ds.classes)]
    return pretty_table(("Class", "IoU", "Acc"), rows)
