"""The TensorBoard run: an event file with MMSeg 0.x TensorboardLoggerHook tags
(LOG_FORMATS.md section 7)."""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from datetime import datetime

import numpy as np

from .common import UTC, Clock, Out, RunTruth, rng_for
from .curves import (
    explode,
    fractions,
    poly_lr,
    saturating,
    simulate_evals,
    train_loss,
    uniform_eval,
)
from .datasets import VOC, dataset


def tb_events(scalars: Iterable[tuple[float, int, str, float]], start_wall: float) -> bytes:
    """TFRecord-framed ``Event`` protos, built with the ``tensorboard`` package.

    ``EventFileWriter`` itself stamps its first event with ``time.time()`` and names the file
    after the host and pid, so it is not reproducible; its ``RecordWriter`` (the framing and
    CRCs) is used directly instead, with the same first event and fixed wall times.
    """
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.record_writer import RecordWriter

    buf = io.BytesIO()
    writer = RecordWriter(buf)
    first = event_pb2.Event(
        wall_time=start_wall,
        file_version="brain.Event:2",
        source_metadata=event_pb2.SourceMetadata(
            writer="tensorboard.summary.writer.event_file_writer"
        ),
    )
    writer.write(first.SerializeToString())
    for wall, step, tag, value in scalars:
        summary = summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)]
        )
        writer.write(
            event_pb2.Event(wall_time=wall, step=step, summary=summary).SerializeToString()
        )
    return buf.getvalue()


def run_tb_diverging(out: Out) -> None:
    name = "tensorboard/fcn_r50_voc_diverging"
    rng = rng_for(name)
    freq = np.r_[0.70, rng.dirichlet(np.full(20, 2.0)) * 0.30]
    ds = dataset(
        rng, VOC, freq, np.r_[0.9, rng.uniform(0.45, 0.8, 20)], np.r_[0.0, rng.uniform(0, 0.3, 20)]
    )
    max_iters, interval = 8000, 1000
    steps = list(range(interval, max_iters + 1, interval))
    good = simulate_evals(
        rng, ds, steps, saturating(fractions(steps, 20000), 0.3, 0.25), decimals=4
    )
    evals = [e if e.step <= 5000 else uniform_eval(e.step, ds, 0, rng, 4) for e in good]
    its = np.arange(50, max_iters + 1, 50)
    loss = explode(train_loss(rng, its, 2.1, 0.45, 1500.0), its, 5150, 5600)
    lr = poly_lr(its, 0.05, max_iters, end=1e-4)
    clock = Clock(datetime(2022, 6, 1, 8, 0, 0, tzinfo=UTC))
    start = clock.t
    scalars: list[tuple[float, int, str, float]] = []
    by_step = {e.step: e for e in evals}
    for i, it in enumerate(its):
        it = int(it)
        w = clock.tick(50 * 0.38)
        dec = float(loss[i]) / 1.4
        acc = 100 * (1 - min(0.65, 0.45 * dec**0.8)) if math.isfinite(dec) else 30.0
        scalars += [
            (w, it, "learning_rate", float(lr[i])), (w, it, "momentum", 0.9),
            (w, it, "train/decode.loss_ce", dec),
            (w, it, "train/decode.acc_seg", acc),
            (w, it, "train/aux.loss_ce", float(loss[i]) - dec),
            (w, it, "train/loss", float(loss[i])),
            (w, it, "train/time", 0.38), (w, it, "train/data_time", 0.006),
        ]  # fmt: skip
        ev = by_step.get(it)
        if ev is not None:
            w = clock.tick(90.0)
            scalars += [
                (w, it, "val/aAcc", ev.aacc),
                (w, it, "val/mIoU", ev.miou),
                (w, it, "val/mAcc", ev.macc),
            ]
            scalars += [(w, it, f"val/IoU.{c}", float(ev.iou[k])) for k, c in enumerate(VOC)]
            scalars += [(w, it, f"val/Acc.{c}", float(ev.acc[k])) for k, c in enumerate(VOC)]
    data = tb_events(scalars, start)
    f_ = out.write(f"{name}/events.out.tfevents.1654070400.gpu-node-3.21847.0", data)
    out.run(name, RunTruth(
        "tensorboard", [f_], "diverging", ["loss_explosion", "loss_nonfinite", "miou_collapse"],
        [(e.step, float(np.float32(e.miou))) for e in evals], max_iters,
        "TensorBoard event file with MMSeg 0.x `TensorboardLoggerHook` tags (train/loss, "
        "train/decode.loss_ce, learning_rate, val/mIoU, `val/IoU.<class>` ..., fractions, float32"
        " simple_value, val at the train iteration). lr 0.05: the loss explodes from iter ~5150 "
        "and is NaN from 5600; evals at 6000-8000 predict `background` everywhere (mIoU = 0.70/21"
        " = 0.0333).",
        optional_findings=["uniform_prediction", "majority_class", "miou_plateau", "dead_class"],
    ))  # fmt: skip
