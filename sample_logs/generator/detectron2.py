"""Detectron2 runs (OUTPUT_DIR/metrics.json; LOG_FORMATS.md section 4)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np

from .common import Out, RunTruth, logged, rng_for
from .curves import Eval, fractions, poly_lr, saturating, simulate_evals, train_loss
from .datasets import (
    CITYSCAPES,
    CITYSCAPES_CAP,
    CITYSCAPES_FREQ,
    CITYSCAPES_ONSET,
    CROPS,
    Dataset,
    dataset,
)


def d2_eval_keys(ds: Dataset, ev: Eval) -> dict[str, float]:
    """``sem_seg/*`` as ``SemSegEvaluator`` + ``flatten_results_dict`` store them (percent)."""
    res = {"sem_seg/mIoU": 100 * ev.miou, "sem_seg/fwIoU": 100 * ev.fwiou}
    res.update({f"sem_seg/IoU-{c}": 100 * float(ev.iou[i]) for i, c in enumerate(ds.classes)})
    res.update({"sem_seg/mACC": 100 * ev.macc, "sem_seg/pACC": 100 * ev.aacc})
    res.update({f"sem_seg/ACC-{c}": 100 * float(ev.acc[i]) for i, c in enumerate(ds.classes)})
    return res


def d2_write(out: Out, name: str, ds: Dataset, max_iter: int, period: int, lr: np.ndarray,
             losses: dict[str, np.ndarray], evals: dict[int, Eval], time_s: float,
             rng: np.random.Generator) -> str:  # fmt: skip
    """JSON lines every 20 iterations (0-based), periodic evals merged into the line of
    iteration k*period-1, and the final eval alone on a line with ``"iteration": max_iter``."""
    lines = []
    its = np.arange(19, max_iter, 20)
    for i, it in enumerate(its):
        it = int(it)
        t = logged(rng.normal(time_s, time_s * 0.03))
        dt = logged(abs(rng.normal(0.0031, 0.0006)))
        rec: dict[str, float] = {
            "data_time": dt, "eta_seconds": t * (max_iter - it - 1), "iteration": it,
            "lr": float(lr[i]), "rank_data_time": dt, "time": t,
        }  # fmt: skip
        if len(losses) > 1:  # SimpleTrainer stores single losses only when there are several
            rec.update({k: float(v[i]) for k, v in losses.items()})
        rec["total_loss"] = float(sum(v[i] for v in losses.values()))
        ev = evals.get(it)
        if ev is not None:
            rec.update(d2_eval_keys(ds, ev))
        lines.append(json.dumps(rec, sort_keys=True) + "\n")
    final = evals[max_iter]
    lines.append(
        json.dumps({"iteration": max_iter, **d2_eval_keys(ds, final)}, sort_keys=True) + "\n"
    )
    return out.write(f"{name}/metrics.json", "".join(lines))


def d2_steps(max_iter: int, period: int) -> list[int]:
    return [k * period - 1 for k in range(1, max_iter // period)] + [max_iter]


def d2_truth_evals(evals: Sequence[Eval], max_iter: int) -> list[tuple[int, float]]:
    """Evals at segwatch's 1-based steps: iteration + 1, the final eval-only line at max_iter."""
    return [(e.step if e.step == max_iter else e.step + 1, e.miou) for e in evals]


def warmup_lr(
    its: np.ndarray, base: float, warmup: int = 1000, factor: float = 0.001
) -> np.ndarray:
    """Detectron2's linear warmup from ``factor * base`` (then constant)."""
    alpha = np.minimum(its / warmup, 1.0)
    return logged(base * (factor * (1 - alpha) + alpha))


def run_d2_lowlr(out: Out) -> None:
    name = "detectron2/deeplabv3plus_r103_crops_lowlr"
    rng = rng_for(name)
    ds = dataset(
        rng,
        CROPS,
        (0.41, 0.14, 0.12, 0.09, 0.08, 0.0, 0.06, 0.1),
        (0.86, 0.7, 0.72, 0.63, 0.66, 0.0, 0.41, 0.83),
        (0.0, 0.0, 0.0, 0.05, 0.05, 0.0, 0.15, 0.0),
        absent=(5,),
        gamma=[1.0] * 8,
    )
    max_iter, period = 10000, 1000
    steps = d2_steps(max_iter, period)
    f = fractions(steps, max_iter)
    prog = 0.28 + 0.07 * (1 - np.exp(-f / 0.08))
    evals = simulate_evals(rng, ds, steps, prog, class_sd=0.006, common_sd=0.0025, decimals=None)
    its = np.arange(19, max_iter, 20)
    lr = warmup_lr(its, 1e-5)
    loss = train_loss(rng, its, 2.3, 1.62, 700.0, noise=0.035)
    f_ = d2_write(out, name, ds, max_iter, period, lr, {"loss_sem_seg": loss},
                  {e.step: e for e in evals}, 0.61, rng)  # fmt: skip
    out.run(name, RunTruth(
        "detectron2", [f_], "converged", ["converged", "class_never_evaluated"],
        d2_truth_evals(evals, max_iter),
        max_iter,
        "BASE_LR 1e-5 (the recipe uses 1e-2), constant after the 1000-iter warmup: the loss "
        "barely moves (2.3 -> ~1.6, flat from iter ~3000) and mIoU sits at 0.22-0.23 from the "
        "first eval to the last, wobbling within noise. Percent values; "
        "evals on iteration 999, 1999, ... and the final eval-only line at 10000. Class `cotton` "
        "is absent from the val set: bare NaN in its IoU/ACC keys. Only `total_loss` is logged "
        "(a single loss).",
        optional_findings=["lr_exhausted"],
    ))  # fmt: skip


def run_d2_dead_class(out: Out) -> None:
    name = "detectron2/mask2former_r50_cityscapes_deadclass"
    rng = rng_for(name)
    ds = dataset(rng, CITYSCAPES, CITYSCAPES_FREQ, CITYSCAPES_CAP, CITYSCAPES_ONSET)
    max_iter, period = 10000, 1000
    steps = d2_steps(max_iter, period)
    prog = saturating(fractions(steps, max_iter), 0.4, 0.3)
    dead = (CITYSCAPES.index("train"),)
    evals = simulate_evals(rng, ds, steps, prog, decimals=None, dead=dead)
    its = np.arange(19, max_iter, 20)
    lr = poly_lr(its, 1e-4, max_iter)
    losses = {
        "loss_ce": train_loss(rng, its, 1.9, 0.16, 1800.0),
        "loss_dice": train_loss(rng, its, 2.6, 0.9, 2200.0),
        "loss_mask": train_loss(rng, its, 1.3, 0.48, 2000.0),
    }
    f_ = d2_write(
        out, name, ds, max_iter, period, lr, losses, {e.step: e for e in evals}, 0.83, rng
    )
    out.run(name, RunTruth(
        "detectron2", [f_], "attention", ["dead_class"], d2_truth_evals(evals, max_iter), max_iter,
        "Healthy Mask2Former-style run (3 losses + total_loss) whose class `train` is never "
        "predicted: `sem_seg/IoU-train` and `sem_seg/ACC-train` are 0.0 at every eval while the "
        "other 18 classes improve. Percent values; last line is the eval-only line at 10000.",
    ))  # fmt: skip
