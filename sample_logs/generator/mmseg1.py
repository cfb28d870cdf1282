"""MMSegmentation 1.x runs (mmengine: <ts>/<ts>.log + <ts>/vis_data/scalars.json; section 3)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from .common import UTC, Clock, Out, RunTruth, logged, rng_for, tdelta
from .curves import Eval, fractions, poly_lr, saturating, simulate_evals, train_loss
from .datasets import (
    CITYSCAPES,
    CITYSCAPES_CAP,
    CITYSCAPES_FREQ,
    CITYSCAPES_ONSET,
    LOVEDA,
    Dataset,
    dataset,
)
from .mmseg_common import MMTrain, class_table, mm_train, pct
from .mmseg_config import MM1_ENV, mm1_config


def mm1_prefix(clock: Clock, level: str = "INFO") -> str:
    return f"{clock.dt():%Y/%m/%d %H:%M:%S} - mmengine - {level} - "


@dataclass
class MM1Run:
    name: str
    cfg: str
    ds: Dataset
    max_iters: int
    val_interval: int
    val_batches: int
    config: str
    save_best: bool = False


def mm1_header(buf: list[str], clock: Clock, run: MM1Run, resume_from: int | None) -> None:
    p = mm1_prefix
    buf.append(p(clock) + "\n" + MM1_ENV + "\n")
    buf.append(p(clock) + "Config:\n" + run.config + "\n")
    clock.tick(2.31)
    buf.append(p(clock, "WARNING") + "The prefix is not set in metric class IoUMetric.\n")
    buf.append(p(clock) + "load model from: open-mmlab://resnet50_v1c\n")
    work = f"/mnt/data/seg/mmsegmentation/work_dirs/{run.cfg}"
    if resume_from is not None:
        buf.append(p(clock) + f"Load checkpoint from {work}/iter_{resume_from}.pth\n")
        clock.tick(0.9)
        buf.append(p(clock) + f"resumed epoch: 0, iter: {resume_from}\n")
    buf.append(p(clock) + f"Checkpoints will be saved to {work}.\n")


def mm1_write(out: Out, run: MM1Run, ts: str, clock: Clock, tr: MMTrain, evals: Sequence[Eval],
              resume_from: int | None = None, stop_at: int | None = None) -> list[str]:  # fmt: skip
    """Write ``<ts>/<ts>.log``, ``<ts>/vis_data/scalars.json`` and its ``<ts>.json`` twin."""
    text: list[str] = []
    js: list[str] = []
    mm1_header(text, clock, run, resume_from)
    by_step = {e.step: e for e in evals}
    p = mm1_prefix
    width = len(str(run.max_iters))
    best, best_it = -1.0, 0
    start = resume_from or 0
    for i, it in enumerate(tr.its):
        it = int(it)
        if it <= start or (stop_at is not None and it > stop_at):
            continue
        clock.tick(float(tr.time[i]) * 50)
        if it % 1000 == 0:
            text.append(p(clock) + f"Exp name: {run.cfg}_{ts}\n")
        parts = tr.parts(i)
        eta = tdelta(float(np.mean(tr.time[: i + 1])) * (run.max_iters - it))
        fields = [
            f"lr: {tr.lr[i]:.4e}", f"eta: {eta}", f"time: {tr.time[i]:.4f}",
            f"data_time: {tr.data_time[i]:.4f}", f"memory: {tr.memory[i]}",
            f"loss: {tr.loss[i]:.4f}",
        ]  # fmt: skip
        fields += [f"{k}: {v:.4f}" for k, v in parts.items()]
        text.append(
            p(clock) + f"Iter(train) [{it:>{width}}/{run.max_iters}]  " + "  ".join(fields) + "\n"
        )
        rec: dict[str, object] = {
            "lr": float(tr.lr[i]), "data_time": float(tr.data_time[i]), "loss": float(tr.loss[i]),
        }  # fmt: skip
        rec.update(parts)
        rec.update({"time": float(tr.time[i]), "iter": it, "memory": int(tr.memory[i]), "step": it})
        js.append(json.dumps(rec) + "\n")
        ev = by_step.get(it)
        if ev is None:
            continue
        text.append(p(clock) + f"Saving checkpoint at {it} iterations\n")
        vw = len(str(run.val_batches))
        for b in range(50, run.val_batches, 50):
            clock.tick(50 * 0.061)
            eta_v = tdelta((run.val_batches - b) * 0.061)
            text.append(
                p(clock) + f"Iter(val) [{b:>{vw}}/{run.val_batches}]    eta: {eta_v}  "
                f"time: {0.061 + 0.003 * math.sin(b):.4f}  data_time: 0.0019  memory: 1876  \n"
            )
        clock.tick(3.0)
        text.append(p(clock) + "per class results:\n")
        text.append(p(clock) + "\n" + class_table(run.ds, ev) + "\n")
        dtv = logged(0.0021 + 0.0002 * math.sin(it / 7.0) ** 2)  # full floats, as mmengine logs
        tv = logged(0.0612 + 0.0011 * math.cos(it / 5.0) ** 2)
        text.append(
            p(clock) + f"Iter(val) [{run.val_batches}/{run.val_batches}]    "
            f"aAcc: {pct(ev.aacc):.4f}  mIoU: {pct(ev.miou):.4f}  mAcc: {pct(ev.macc):.4f}  "
            f"data_time: {dtv:.4f}  time: {tv:.4f}\n"
        )
        vrec = {"aAcc": pct(ev.aacc), "mIoU": pct(ev.miou), "mAcc": pct(ev.macc),
                "data_time": dtv, "time": tv, "step": it}  # fmt: skip
        js.append(json.dumps(vrec) + "\n")
        if run.save_best and ev.miou > best:
            if best >= 0:
                text.append(
                    p(clock) + f"The previous best checkpoint /mnt/data/seg/mmsegmentation/"
                    f"work_dirs/{run.cfg}/best_mIoU_iter_{best_it}.pth is removed\n"
                )
            best, best_it = ev.miou, it
            text.append(
                p(clock) + f"The best checkpoint with {pct(best):.4f} mIoU at {it} iter is saved "
                f"to best_mIoU_iter_{it}.pth.\n"
            )
    base = f"{run.name}/{ts}"
    scalars = "".join(js)
    return [
        out.write(f"{base}/{ts}.log", "".join(text)),
        out.write(f"{base}/vis_data/scalars.json", scalars),
        out.write(f"{base}/vis_data/{ts}.json", scalars),
    ]


def run_mm1_stalled(out: Out) -> None:
    name = "mmseg1x/deeplabv3_r50_cityscapes_stalled"
    rng = rng_for(name)
    ds = dataset(rng, CITYSCAPES, CITYSCAPES_FREQ, CITYSCAPES_CAP, CITYSCAPES_ONSET)
    cfg = "deeplabv3_r50-d8_4xb2-20k_cityscapes-512x1024"
    max_iters, val_interval, floor_from = 20000, 1000, 12000
    sched = ("    dict(type='PolyLR', eta_min=0.0001, power=0.9, begin=0, end=12000, "
             "by_epoch=False)")  # fmt: skip
    run = MM1Run(name, cfg, ds, max_iters, val_interval, 125,
                 mm1_config(cfg, ds, "CityscapesDataset", max_iters, val_interval, 0.01, sched),
                 save_best=True)  # fmt: skip
    steps = list(range(val_interval, max_iters + 1, val_interval))
    f = fractions(steps, max_iters)
    prog = saturating(np.minimum(f / 0.5, 1.0), 0.22, 0.3, 0.86) + 0.012 * np.clip(f - 0.5, 0, None)
    evals = simulate_evals(rng, ds, steps, prog, class_sd=0.009, common_sd=0.0025)
    its = np.arange(50, max_iters + 1, 50)
    lr = np.where(its < floor_from, poly_lr(its, 0.01, floor_from, end=1e-4), 1e-4)
    loss = train_loss(rng, its, 1.7, 0.36, 2500.0, noise=0.07)
    tr = mm_train(rng, its, lr, loss, 0.521, 9634)
    clock = Clock(datetime(2024, 2, 8, 13, 5, 44, tzinfo=UTC))
    files = mm1_write(out, run, "20240208_130544", clock, tr, evals)
    out.run(name, RunTruth(
        "mmseg1x", files, "converged", ["converged", "lr_exhausted"],
        [(e.step, e.miou) for e in evals], max_iters,
        "PolyLR ends at iter 12000 (of 20000) at its floor eta_min=1e-4 and stays there; mIoU "
        "(percent in this format) reaches ~0.63 by iter 7000-8000 and then only wobbles within "
        "noise (0.624-0.639) for the remaining 12 evals. Per-class IoU only in the text table. The "
        "`vis_data/<ts>.json` file is mmengine's identical copy of `scalars.json`.",
    ))  # fmt: skip


def run_mm1_resumed(out: Out) -> None:
    name = "mmseg1x/segformer_mit-b0_loveda_resumed"
    rng = rng_for(name)
    ds = dataset(
        rng,
        LOVEDA,
        (0.34, 0.11, 0.07, 0.08, 0.05, 0.12, 0.23),
        (0.52, 0.58, 0.55, 0.72, 0.31, 0.44, 0.61),
        (0.0, 0.0, 0.05, 0.0, 0.2, 0.0, 0.0),
        gamma=[0.6] * 7,
    )
    cfg = "segformer_mit-b0_8xb2-8k_loveda-512x512"
    max_iters, val_interval, resume_at, crash_at = 8000, 800, 4000, 4350
    sched = (
        "    dict(type='LinearLR', start_factor=1e-06, by_epoch=False, begin=0, end=500),\n"
        "    dict(type='PolyLR', eta_min=0.0, power=1.0, begin=500, end=8000, by_epoch=False)"
    )
    run = MM1Run(
        name,
        cfg,
        ds,
        max_iters,
        val_interval,
        42,
        mm1_config(cfg, ds, "LoveDADataset", max_iters, val_interval, 6e-05, sched),
    )
    steps = list(range(val_interval, max_iters + 1, val_interval))
    evals = simulate_evals(rng, ds, steps, saturating(fractions(steps, max_iters), 0.9, 0.3),
                           class_sd=0.01, common_sd=0.003)  # fmt: skip
    its = np.arange(50, max_iters + 1, 50)
    lr = np.where(its < 500, 6e-5 * its / 500, poly_lr(its - 500, 6e-5, 7500, power=1.0))
    tr1 = mm_train(rng, its, lr, train_loss(rng, its, 1.4, 0.42, 1800.0), 0.261, 3520)
    tr2 = mm_train(rng, its, lr, train_loss(rng, its, 1.4, 0.42, 1800.0), 0.258, 3520)
    clock = Clock(datetime(2024, 3, 5, 10, 15, 30, tzinfo=UTC))
    first = [e for e in evals if e.step <= crash_at]
    files = mm1_write(out, run, "20240305_101530", clock, tr1, first, stop_at=crash_at)
    clock = Clock(datetime(2024, 3, 5, 11, 2, 17, tzinfo=UTC))
    files += mm1_write(out, run, "20240305_110217", clock, tr2, evals, resume_from=resume_at)
    out.run(name, RunTruth(
        "mmseg1x", files, "ok", [], [(e.step, e.miou) for e in evals], max_iters,
        "RESUMED. One work_dir, two timestamped runs: 20240305_101530 trains to iter 4350 and "
        "is killed (no error line), 20240305_110217 is `--resume` from iter_4000.pth and logs "
        "iter 4050 again; its records supersede the first run's 4050-4350. Evals every 800 "
        "iters (42 val batches), healthy curve; each run folder has `scalars.json` and its "
        "`<ts>.json` twin.",
    ))  # fmt: skip


def run_mm1_broken_eval(out: Out) -> None:
    name = "mmseg1x/pspnet_r18_digits_broken_eval"
    rng = rng_for(name)
    ds = dataset(rng, ("background", "digits"), (0.9, 0.1), (0.999, 0.8), (0.0, 0.0),
                 absent=(1,), floor=(0.999, 0.0), gamma=(1.0, 1.0))  # fmt: skip
    cfg = "pspnet_r18-d8_4xb2-2k_digits-64x64"
    max_iters, val_interval = 2000, 200
    sched = "    dict(type='PolyLR', eta_min=0.0001, power=0.9, begin=0, end=2000, by_epoch=False)"
    run = MM1Run(name, cfg, ds, max_iters, val_interval, 50,
                 mm1_config(cfg, ds, "BaseSegDataset", max_iters, val_interval, 0.01, sched),
                 save_best=False)  # fmt: skip
    steps = list(range(val_interval, max_iters + 1, val_interval))
    evals = simulate_evals(rng, ds, steps, np.ones(len(steps)), class_sd=0.0, common_sd=0.0)
    its = np.arange(50, max_iters + 1, 50)
    lr = poly_lr(its, 0.01, max_iters, end=1e-4)
    tr = mm_train(rng, its, lr, train_loss(rng, its, 0.7, 0.05, 300.0), 0.112, 1210)
    clock = Clock(datetime(2023, 2, 15, 2, 48, 2, tzinfo=UTC))
    files = mm1_write(out, run, "20230215_024802", clock, tr, evals)
    out.run(name, RunTruth(
        "mmseg1x", files, "broken_eval", ["broken_eval"], [(e.step, e.miou) for e in evals],
        max_iters,
        "BROKEN EVALUATION. Two classes, but the validation masks hold only background (the "
        "digits were saved with the wrong value): class `digits` is `nan` in every per-class "
        "table and mIoU is 100 % from background alone (as in a real m2nist run). The finding "
        "is the evaluation itself, labels first — not a plateau.",
    ))  # fmt: skip
