"""The Lightning CSVLogger run (version_0/metrics.csv; LOG_FORMATS.md section 5)."""

from __future__ import annotations

import csv
import io
import math

import numpy as np

from .common import Out, RunTruth, rng_for
from .curves import fractions, simulate_evals
from .datasets import CAMVID, dataset


def lightning_csv(rows: list[dict[str, object]]) -> str:
    """``csv.DictWriter`` (CRLF) with the sorted header of Lightning >= 2.2, empty = not logged."""
    keys = sorted({k for r in rows for k in r})
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys)
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def f32(x: float) -> float:
    """A value logged from a float32 tensor (``.item()``)."""
    return float(np.float32(x))


def run_lightning_slow(out: Out) -> None:
    name = "lightning/unet_r34_camvid_slow"
    rng = rng_for(name)
    ds = dataset(rng, CAMVID, None, (0.9, 0.78, 0.22, 0.92, 0.75, 0.7, 0.35, 0.3, 0.78, 0.4, 0.38))
    epochs, per_epoch, log_every = 40, 46, 50
    val_steps = [(e + 1) * per_epoch - 1 for e in range(epochs)]
    prog = 0.08 + 0.62 * fractions([s + 1 for s in val_steps], epochs * per_epoch) ** 1.1
    evals = simulate_evals(rng, ds, val_steps, prog, class_sd=0.012, common_sd=0.004, decimals=None)
    rows: list[dict[str, object]] = []
    losses: list[float] = []
    for step in range(epochs * per_epoch):
        epoch = step // per_epoch
        loss = 2.2 * math.exp(-step / 2400) + 0.35 + rng.normal(0, 0.04)
        losses.append(loss)
        if (step + 1) % log_every == 0:
            rows.append(
                {"epoch": epoch, "lr-Adam": 0.0001, "step": step, "train_loss_step": f32(loss)}
            )
        if (step + 1) % per_epoch == 0:
            ev = evals[epoch]
            vrow: dict[str, object] = {"epoch": epoch, "step": step}
            vrow["val_loss"] = f32(1.9 * math.exp(-step / 2600) + 0.42 + rng.normal(0, 0.02))
            vrow["val_mIoU"] = f32(ev.miou)
            vrow.update({f"val_iou_{c}": f32(ev.iou[i]) for i, c in enumerate(CAMVID)})
            rows.append(vrow)
            rows.append(
                {
                    "epoch": epoch,
                    "step": step,
                    "train_loss_epoch": f32(float(np.mean(losses[-per_epoch:]))),
                }
            )
    text = lightning_csv(rows)
    f_ = out.write(f"{name}/version_0/metrics.csv", text)
    h = out.write(
        f"{name}/version_0/hparams.yaml", "encoder: resnet34\nlr: 0.0001\nnum_classes: 11\n"
    )
    out.run(f"{name}/version_0", RunTruth(
        "lightning", [f_, h], "ok", [], [(e.step, f32(e.miou)) for e in evals],
        epochs * per_epoch - 1,
        "HARD NEGATIVE. Lightning 2.2+ CSVLogger (CRLF, sorted header, sparse rows): a constant "
        "lr of 1e-4 makes the run converge slowly: val_mIoU is still rising almost linearly at "
        "the last epoch (0.09 -> ~0.48 over 40 epochs). Must not be called stalled. Columns: "
        "train_loss_step (every 50 steps), train_loss_epoch, val_loss, val_mIoU, `val_iou_<class>`,"
        " lr-Adam; val rows repeat the step of the epoch's last batch.",
    ))  # fmt: skip
