"""MMSegmentation 0.x runs (mmcv runner: <ts>.log + <ts>.log.json; LOG_FORMATS.md section 2)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from .common import UTC, Clock, Out, RunTruth, rng_for, tdelta
from .curves import Eval, fractions, poly_lr, saturating, simulate_evals, train_loss, uniform_eval
from .datasets import DEFECTS, UAVID, Dataset, dataset
from .mmseg_common import MMTrain, class_table, mm_train, pct_str, pretty_table
from .mmseg_config import MM0_ENV, mm0_config


def mm0_prefix(clock: Clock) -> str:
    d = clock.dt()
    return f"{d:%Y-%m-%d %H:%M:%S},{d.microsecond // 1000:03d} - mmseg - INFO - "


def round5(x: float) -> float:
    """mmcv's ``_round_float`` for the JSON log."""
    return round(x, 5) if math.isfinite(x) else x


@dataclass
class MM0Run:
    name: str
    cfg: str
    ds: Dataset
    max_iters: int
    interval: int  # eval + checkpoint interval
    iters_per_epoch: int
    val_images: int
    config: str


def mm0_header(buf: list[str], clock: Clock, run: MM0Run) -> None:
    p = mm0_prefix
    buf.append(p(clock) + "Multi-processing start method is `None`\n")
    buf.append(p(clock) + "OpenCV num_threads is `32\n")
    clock.tick(0.075)
    buf.append(
        p(clock) + "Environment info:\n" + "-" * 60 + "\n" + MM0_ENV + "\n" + "-" * 60 + "\n\n"
    )
    buf.append(p(clock) + "Distributed training: False\n")
    clock.tick(0.298)
    buf.append(p(clock) + "Config:\n" + run.config + "\n")
    buf.append(p(clock) + "Set random seed to 0, deterministic: False\n")
    clock.tick(1.82)
    buf.append(
        p(clock) + "initialize FCNHead with init_cfg {'type': 'Normal', 'std': 0.01, "
        "'override': {'name': 'conv_seg'}}\n"
    )
    clock.tick(0.4)
    buf.append(p(clock) + f"Loaded {run.iters_per_epoch * 4} images\n")
    clock.tick(4.6)
    buf.append(p(clock) + f"Loaded {run.val_images} images\n")
    buf.append(
        p(clock) + "Start running, host: seg@gpu-server-02, work_dir: "
        f"/home/seg/mmsegmentation/work_dirs/{run.cfg}\n"
    )
    buf.append(p(clock) + f"workflow: [('train', 1)], max: {run.max_iters} iters\n")
    buf.append(
        p(clock) + f"Checkpoints will be saved to /home/seg/mmsegmentation/work_dirs/{run.cfg} "
        "by HardDiskBackend.\n"
    )


def mm0_meta(run: MM0Run) -> str:
    palette = [
        [int(v) for v in (37 * i % 256, 91 * i % 256, 151 * i % 256)] for i in range(run.ds.n)
    ]
    meta = {
        "env_info": MM0_ENV,
        "seed": 0,
        "exp_name": f"{run.cfg}.py",
        "mmseg_version": "0.30.0+",
        "config": run.config,
        "CLASSES": list(run.ds.classes),
        "PALETTE": palette,
    }
    return json.dumps(meta) + "\n"


def mm0_write(out: Out, run: MM0Run, ts: str, clock: Clock, tr: MMTrain,
              evals: Sequence[Eval]) -> list[str]:  # fmt: skip
    """Write ``<ts>.log`` and ``<ts>.log.json`` of one MMSeg 0.x run."""
    text: list[str] = []
    js: list[str] = [mm0_meta(run)]
    mm0_header(text, clock, run)
    by_step = {e.step: e for e in evals}
    p = mm0_prefix
    for i, it in enumerate(tr.its):
        it = int(it)
        clock.tick(float(tr.time[i]) * 50)
        parts = tr.parts(i)
        lr = float(tr.lr[i])
        epoch = it // run.iters_per_epoch + 1
        if it % run.interval == 0:
            text.append(p(clock) + f"Saving checkpoint at {it} iterations\n")
            clock.tick(1.5)
        if it % 1000 == 0:
            text.append(p(clock) + f"Exp name: {run.cfg}.py\n")
        eta = tdelta(float(np.mean(tr.time[: i + 1])) * (run.max_iters - it))
        fields = [
            f"lr: {lr:.3e}", f"eta: {eta}", f"time: {tr.time[i]:.3f}",
            f"data_time: {tr.data_time[i]:.3f}", f"memory: {tr.memory[i]}",
        ]  # fmt: skip
        fields += [f"{k}: {v:.4f}" for k, v in parts.items()]
        fields.append(f"loss: {tr.loss[i]:.4f}")
        text.append(p(clock) + f"Iter [{it}/{run.max_iters}]\t" + ", ".join(fields) + "\n")
        rec: dict[str, object] = {
            "mode": "train", "epoch": epoch, "iter": it, "lr": round5(lr),
            "memory": int(tr.memory[i]), "data_time": round5(float(tr.data_time[i])),
        }  # fmt: skip
        rec.update({k: round5(v) for k, v in parts.items()})
        rec.update({"loss": round5(float(tr.loss[i])), "time": round5(float(tr.time[i]))})
        js.append(json.dumps(rec) + "\n")
        ev = by_step.get(it)
        if ev is None:
            continue
        clock.tick(run.val_images * 0.06)
        text.append(p(clock) + "per class results:\n")
        text.append(p(clock) + "\n" + class_table(run.ds, ev) + "\n")
        text.append(p(clock) + "Summary:\n")
        summary = pretty_table(
            ("aAcc", "mIoU", "mAcc"), [(pct_str(ev.aacc), pct_str(ev.miou), pct_str(ev.macc))]
        )
        text.append(p(clock) + "\n" + summary + "\n")
        if it % 1000 == 0:
            text.append(p(clock) + f"Exp name: {run.cfg}.py\n")
        vals = {"aAcc": ev.aacc, "mIoU": ev.miou, "mAcc": ev.macc}
        vals.update({f"IoU.{c}": float(ev.iou[k]) for k, c in enumerate(run.ds.classes)})
        vals.update({f"Acc.{c}": float(ev.acc[k]) for k, c in enumerate(run.ds.classes)})
        body = ", ".join(f"{k}: {v:.4f}" for k, v in vals.items())
        text.append(p(clock) + f"Iter(val) [{run.val_images}]\t{body}\n")
        vrec: dict[str, object] = {
            "mode": "val",
            "epoch": epoch,
            "iter": run.val_images,
            "lr": round5(lr),
        }
        vrec.update({k: round5(v) for k, v in vals.items()})
        js.append(json.dumps(vrec) + "\n")
    base = f"{run.name}/{ts}.log"
    return [out.write(base, "".join(text)), out.write(base + ".json", "".join(js))]


def run_mm0_overfit(out: Out) -> None:
    name = "mmseg0x/pspnet_r50_uavid_overfit"
    rng = rng_for(name)
    ds = dataset(
        rng, UAVID, (0.22, 0.25, 0.14, 0.2, 0.15, 0.012, 0.02, 0.0),
        (0.62, 0.86, 0.78, 0.77, 0.6, 0.62, 0.55, 0.0), (0.0, 0.0, 0.0, 0.0, 0.0, 0.15, 0.1, 0.0),
        absent=(7,),
    )  # fmt: skip
    cfg = "pspnet_r50-d8_512x512_16k_uavid"
    max_iters, interval = 16000, 1000
    run = MM0Run(
        name,
        cfg,
        ds,
        max_iters,
        interval,
        50,
        70,
        mm0_config(
            cfg, "PSPHead", ds, "UAVidDataset", "data/uavid_small", 0.01, 1e-4, max_iters, interval
        ),
    )
    steps = list(range(interval, max_iters + 1, interval))
    f = fractions(steps, max_iters)
    prog = np.where(
        f <= 0.45,
        saturating(f / 0.45, 0.45, 0.35),
        1.0 - 0.2 * (np.clip(f - 0.45, 0, None) / 0.55) ** 1.2,
    )
    evals = simulate_evals(rng, ds, steps, prog, class_sd=0.008, common_sd=0.003)
    its = np.arange(50, max_iters + 1, 50)
    loss = train_loss(rng, its, 1.9, 0.045, 3500.0, noise=0.05)
    tr = mm_train(rng, its, poly_lr(its, 0.01, max_iters, end=1e-4), loss, 0.412, 9311)
    clock = Clock(datetime(2023, 3, 15, 10, 11, 12, 345000, tzinfo=UTC))
    files = mm0_write(out, run, "20230315_101112", clock, tr, evals)
    out.run(name, RunTruth(
        "mmseg0x", files, "overfitting", ["overfitting", "class_never_evaluated"],
        [(e.step, e.miou) for e in evals],
        max_iters,
        "Small drone dataset (70 val images): train loss keeps falling to ~0.05 while val mIoU "
        "tops out at ~0.68 over iters 6000-11000 (best 0.681 at 10000) and then falls steadily "
        "to 0.646 at 16000 (about 10x the eval noise). Class `human` has no val pixels and is "
        "never predicted: IoU/Acc NaN at every eval (mIoU is the nanmean over the other 7). "
        "Class names with spaces (`IoU.background clutter`).",
        optional_findings=["miou_plateau"],
    ))  # fmt: skip


def run_mm0_majority(out: Out) -> None:
    name = "mmseg0x/unet_s5_defects_majority"
    rng = rng_for(name)
    ds = dataset(rng, DEFECTS, (0.9571, 0.018, 0.0149, 0.01))
    cfg = "fcn_unet_s5-d16_256x256_4k_defects"
    max_iters, interval = 4000, 400
    run = MM0Run(name, cfg, ds, max_iters, interval, 125, 120, mm0_config(
        cfg, "FCNHead", ds, "DefectsDataset", "data/steel_defects", 0.01, 1e-4, max_iters,
        interval).replace("ResNetV1c", "UNet"))  # fmt: skip
    steps = list(range(interval, max_iters + 1, interval))
    evals = [
        uniform_eval(s, ds, 0, rng, 4, leak=0.0004 * (i % 3 == 2)) for i, s in enumerate(steps)
    ]
    its = np.arange(50, max_iters + 1, 50)
    loss = train_loss(rng, its, 0.9, 0.155, 300.0, noise=0.04)
    tr = mm_train(rng, its, poly_lr(its, 0.01, max_iters, end=1e-4), loss, 0.118, 2087)
    clock = Clock(datetime(2022, 12, 5, 16, 22, 41, 118000, tzinfo=UTC))
    files = mm0_write(out, run, "20221205_162241", clock, tr, evals)
    out.run(name, RunTruth(
        "mmseg0x", files, "converged", ["majority_class", "converged"],
        [(e.step, e.miou) for e in evals], max_iters,
        "Defect segmentation where 95.7% of pixels are background: the model predicts "
        "background everywhere at every eval (a stray pixel or two of a defect class now and "
        "then). aAcc 0.957 looks great, mIoU stays at ~0.239 = 0.957/4; the loss drops fast "
        "to the class-prior level (~0.16) and stays there.",
        optional_findings=["dead_class"],
    ))  # fmt: skip
