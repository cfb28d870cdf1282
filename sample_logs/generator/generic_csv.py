"""The generic CSV run: a custom training loop's wide file (columns in README.md)."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np

from .common import UTC, Clock, Out, RunTruth, rng_for
from .curves import fractions, saturating, simulate_evals
from .datasets import HISTO, dataset


def run_csv_overfit(out: Out) -> None:
    name = "csv/deeplabv3_histo_overfit"
    rng = rng_for(name)
    ds = dataset(
        rng, HISTO, (0.38, 0.27, 0.2, 0.1, 0.05), (0.86, 0.78, 0.7, 0.55, 0.6), (0, 0, 0, 0.1, 0.15)
    )
    epochs, per_epoch = 60, 25
    steps = [(e + 1) * per_epoch for e in range(epochs)]
    f = fractions(steps, epochs * per_epoch)
    prog = np.where(
        f <= 0.4, saturating(f / 0.4, 0.35, 0.3), 1.0 - 0.2 * (np.clip(f - 0.4, 0, None) / 0.6)
    )
    evals = simulate_evals(rng, ds, steps, prog, class_sd=0.01, common_sd=0.004)
    cols = ["step", "epoch", "wall_time", "train_loss", "lr", "val_loss", "val_miou"]
    cols += [f"val_iou_{c}" for c in HISTO]
    lines = [",".join(cols)]
    clock = Clock(datetime(2024, 1, 17, 19, 30, 0, tzinfo=UTC))
    for e, ev in enumerate(evals):
        for s in range(e * per_epoch + 5, (e + 1) * per_epoch + 1, 5):
            w = clock.tick(5 * 0.9)
            loss = (1.5 * math.exp(-s / 300) + 0.03 + 0.06 * math.exp(-s / 900)) * math.exp(
                rng.normal(0, 0.05)
            )
            row = [str(s), str(e), f"{w:.3f}", f"{loss:.5f}", "0.0003", "", ""] + [""] * len(HISTO)
            if s == ev.step:
                w = clock.tick(11.0)
                vloss = (
                    0.55
                    + 0.5 * math.exp(-s / 250)
                    + 0.00012 * max(0, s - 500)
                    + rng.normal(0, 0.01)
                )
                row[2], row[5], row[6] = f"{w:.3f}", f"{vloss:.5f}", f"{ev.miou:.4f}"
                row[7:] = [f"{v:.4f}" for v in ev.iou]
            lines.append(",".join(row))
    f_ = out.write(f"{name}/metrics.csv", "\n".join(lines) + "\n")
    out.run(name, RunTruth(
        "generic_csv", [f_], "overfitting", ["overfitting"], [(e.step, e.miou) for e in evals],
        epochs * per_epoch,
        "A custom PyTorch loop's wide CSV (step, epoch, wall_time, train_loss, lr, val_loss, "
        "val_miou, `val_iou_<class>`; LF; val columns filled on the last row of each epoch). Train "
        "loss keeps falling; val_miou peaks at epoch 21 (0.703) and then declines to ~0.66 "
        "while val_loss climbs.",
        optional_findings=["miou_plateau"],
    ))  # fmt: skip
