"""The PaddleSeg runs: launches of train lines and evals, one file per run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from .common import UTC, Clock, Out, RunTruth, rng_for
from .curves import (
    Eval,
    explode,
    fractions,
    poly_lr,
    saturating,
    simulate_evals,
    train_loss,
    uniform_eval,
)
from .datasets import CITYSCAPES, CITYSCAPES_CAP, CITYSCAPES_FREQ, CITYSCAPES_ONSET, OPTIC, dataset
from .paddleseg_text import (
    PADDLE_WARNINGS,
    PaddleRun,
    paddle_best_line,
    paddle_config,
    paddle_eval_block,
    paddle_flops_tail,
    paddle_header,
    paddle_prefix,
    paddle_pretrained_lines,
    paddle_train_line,
)


@dataclass
class PaddleSeries:
    """What one launch logs: train points and evals (already simulated)."""

    its: np.ndarray
    loss: np.ndarray
    lr: np.ndarray
    evals: dict[int, Eval]


def paddle_launch(
    buf: list[str],
    clock: Clock,
    run: PaddleRun,
    series: PaddleSeries,
    rng: np.random.Generator,
    *,
    start_it: int = 0,
    stop_it: int | None = None,
    do_eval: bool = True,
) -> None:
    """Train lines from ``start_it`` (exclusive) to ``stop_it``, eval blocks where due."""
    best, best_iter, warned = -1.0, -1, False
    for it, loss, lr in zip(series.its, series.loss, series.lr, strict=True):
        if it <= start_it or (stop_it is not None and it > stop_it):
            continue
        bc = float(rng.normal(run.batch_cost, run.batch_cost * 0.03))
        rc = float(rng.exponential(0.0004)) + 0.00005
        clock.tick(bc * run.log_iters)
        buf.append(paddle_train_line(run, clock, int(it), float(loss), float(lr), bc, rc))
        ev = series.evals.get(int(it)) if do_eval else None
        if ev is None:
            continue
        buf.append(paddle_eval_block(run, clock, ev, rng, warn=not warned))
        warned = True
        if ev.miou > best:
            best, best_iter = ev.miou, int(it)
        buf.append(paddle_best_line(clock, best, best_iter))


def paddle_series(rng: np.random.Generator, run: PaddleRun, evals: Sequence[Eval],
                  loss: tuple[float, float, float], lr: float) -> PaddleSeries:  # fmt: skip
    its = np.arange(run.log_iters, run.iters + 1, run.log_iters)
    return PaddleSeries(
        its=its,
        loss=train_loss(rng, its, *loss),
        lr=poly_lr(its, lr, run.iters),
        evals={e.step: e for e in evals},
    )


def run_paddle_healthy(out: Out) -> None:
    name = "paddleseg/deeplabv3p_cityscapes_healthy"
    rng = rng_for(name)
    ds = dataset(rng, CITYSCAPES, CITYSCAPES_FREQ, CITYSCAPES_CAP, CITYSCAPES_ONSET)
    run = PaddleRun("2.3.0", 10000, 2, 372, 0.512, 500, 0.21, gpus=4)
    steps = list(range(1000, 10001, 1000))
    evals = simulate_evals(rng, ds, steps, saturating(fractions(steps, 10000), 0.35, 0.25))
    series = paddle_series(rng, run, evals, (2.6, 0.23, 1500.0), 0.01)
    clock = Clock(datetime(2022, 9, 14, 9, 12, 5, tzinfo=UTC))
    buf: list[str] = []
    paddle_header(buf, clock, run, paddle_config("DeepLabV3P", "Cityscapes", 10000, 2, 0.01), 8731)
    paddle_pretrained_lines(buf, clock)
    paddle_launch(buf, clock, run, series, rng)
    paddle_flops_tail(buf, clock)
    f = out.write(f"{name}/train.log", "".join(buf))
    out.run(name, RunTruth(
        "paddleseg", [f], "ok", [], [(e.step, e.miou) for e in evals], 10000,
        "PaddleSeg 2.3 stdout of rank 0 (4 GPUs, so the eval progress bar is one line); "
        "mIoU rises and saturates but still gains clearly over the last evals; lr poly to 0.",
    ))  # fmt: skip


def run_paddle_v20_noisy(out: Out) -> None:
    name = "paddleseg/bisenetv2_opticdisc_v20_noisy"
    rng = rng_for(name)
    ds = dataset(
        rng, OPTIC, (0.985, 0.015), (0.997, 0.86), (0.0, 0.0), floor=(0.985, 0.0), gamma=(0.15, 1.0)
    )
    run = PaddleRun("2.0.0", 2000, 4, 67, 0.186, 76, 0.036)
    steps = list(range(100, 2001, 100))
    prog = saturating(fractions(steps, 2000), 2.0, 0.3)
    evals = simulate_evals(rng, ds, steps, prog, class_sd=0.03, common_sd=0.012)
    series = paddle_series(rng, run, evals, (0.9, 0.09, 250.0), 0.01)
    clock = Clock(datetime(2021, 3, 2, 20, 41, 7, tzinfo=UTC))
    buf: list[str] = []
    config = (
        paddle_config("BiSeNetV2", "OpticDiscSeg", 2000, 4, 0.01)
        .replace("data/cityscapes", "data/optic_disc_seg")
        .replace("num_classes: 19", "num_classes: 2")
    )
    paddle_header(buf, clock, run, config, 3305)
    buf.append(PADDLE_WARNINGS)
    paddle_launch(buf, clock, run, series, rng)
    f = out.write(f"{name}/train.log", "".join(buf))
    out.run(name, RunTruth(
        "paddleseg", [f], "ok", [], [(e.step, e.miou) for e in evals], 2000,
        "HARD NEGATIVE. PaddleSeg 2.0 `key=value` lines, single GPU (progress bar with \\r and "
        "\\b), 2 classes on a 76-image val set: eval-to-eval noise is large (drops of 0.02-0.04)"
        " but the trend keeps rising to the end. Must not be called stalled.",
    ))  # fmt: skip


PADDLE_OOM = """Traceback (most recent call last):
  File "tools/train.py", line 222, in <module>
    main(args)
  File "tools/train.py", line 217, in main
    to_static_training=cfg.to_static_training)
  File "/home/aistudio/PaddleSeg/paddleseg/core/train.py", line 232, in train
    loss.backward()
  File "<decorator-gen-1>", line 2, in backward
  File "/opt/conda/envs/paddle/lib/python3.7/site-packages/paddle/fluid/wrapped_decorator.py", line 26, in __impl__
    return wrapped_func(*args, **kwargs)
MemoryError: (ResourceExhausted) Out of memory error on GPU 0. Cannot allocate 256.000000MB memory on GPU 0, 31.506714GB memory has been allocated and available memory is only 218.312500MB.

Please check whether there is any other process using GPU 0.
1. If yes, please stop them, or start PaddlePaddle on another GPU.
2. If no, please decrease the batch size of your model.
 (at /paddle/paddle/fluid/memory/allocation/cuda_allocator.cc:87)
"""  # noqa: E501


def run_paddle_resumed(out: Out) -> None:
    name = "paddleseg/pp_liteseg_cityscapes_resumed"
    rng = rng_for(name)
    ds = dataset(rng, CITYSCAPES, CITYSCAPES_FREQ, CITYSCAPES_CAP, CITYSCAPES_ONSET)
    run = PaddleRun("2.8.0", 8000, 4, 372, 0.391, 500, 0.19, gpus=2)
    steps = list(range(1000, 8001, 1000))
    evals = simulate_evals(rng, ds, steps, saturating(fractions(steps, 8000), 0.4, 0.40))
    first = paddle_series(rng, run, evals, (2.4, 0.26, 1300.0), 0.01)
    second = paddle_series(rng, run, evals, (2.4, 0.26, 1300.0), 0.01)
    config = paddle_config("PPLiteSeg", "Cityscapes", 8000, 4, 0.01)
    clock = Clock(datetime(2023, 7, 3, 14, 2, 51, tzinfo=UTC))
    buf: list[str] = []
    paddle_header(buf, clock, run, config, 40211)
    paddle_pretrained_lines(buf, clock)
    paddle_launch(buf, clock, run, first, rng, stop_it=3470)
    buf.append(PADDLE_OOM)
    clock.tick(1340.0)
    paddle_header(buf, clock, run, config, 41877)
    buf.append(paddle_prefix(clock) + "Resume model from output/iter_3000\n")
    buf.append(PADDLE_WARNINGS)
    paddle_launch(buf, clock, run, second, rng, start_it=3000)
    paddle_flops_tail(buf, clock)
    f = out.write(f"{name}/workerlog.0", "".join(buf))
    out.run(name, RunTruth(
        "paddleseg", [f], "ok", [], [(e.step, e.miou) for e in evals], 8000,
        "RESUMED. `paddle.distributed.launch` workerlog.0 (PaddleSeg 2.8: Dice, Class "
        "Precision/Recall) with two launches appended: the first dies of GPU OOM at iter 3470 "
        "(traceback), the second resumes from iter_3000 and logs iter 3010 again, so train "
        "records 3010-3470 of the first launch are superseded. The 'best model' line restarts "
        "after the resume (PaddleSeg does not restore it). Healthy curve.",
    ))  # fmt: skip


def run_paddle_diverging(out: Out) -> None:
    name = "paddleseg/fcn_hrnetw18_cityscapes_diverging"
    rng = rng_for(name)
    ds = dataset(rng, CITYSCAPES, CITYSCAPES_FREQ, CITYSCAPES_CAP, CITYSCAPES_ONSET)
    run = PaddleRun("2.3.0", 4000, 2, 372, 0.433, 500, 0.17, gpus=4)
    steps = list(range(500, 4001, 500))
    good = simulate_evals(rng, ds, steps, saturating(fractions(steps, 16000), 0.35, 0.3))
    evals = [e if e.step <= 2000 else uniform_eval(e.step, ds, 0, rng, 4) for e in good]
    series = paddle_series(rng, run, evals, (2.8, 0.3, 900.0), 0.1)
    series.loss = explode(series.loss, series.its, 2120, 2330)
    clock = Clock(datetime(2022, 11, 21, 23, 40, 12, tzinfo=UTC))
    buf: list[str] = []
    config = (
        paddle_config("FCN", "Cityscapes", 4000, 2, 0.1)
        .replace("ResNet50_vd", "HRNet_W18")
        .replace("resnet50_vd_ssld_v2", "hrnet_w18_ssld")
    )
    paddle_header(buf, clock, run, config, 23119)
    paddle_pretrained_lines(buf, clock)
    paddle_launch(buf, clock, run, series, rng)
    f = out.write(f"{name}/train.log", "".join(buf))
    out.run(name, RunTruth(
        "paddleseg", [f], "diverging", ["loss_explosion", "loss_nonfinite", "miou_collapse"],
        [(e.step, e.miou) for e in evals], 4000,
        "lr 0.1 (10x the recipe): normal until iter ~2100, then the loss grows exponentially "
        "(to several hundred) and prints `loss: nan` from iter 2330 on; PaddleSeg keeps going, "
        "and every eval after that predicts `road` everywhere (mIoU 0.0200 = 0.38/19, Acc = "
        "road's pixel share).",
        optional_findings=["uniform_prediction", "miou_plateau", "dead_class", "majority_class"],
    ))  # fmt: skip


def run_paddle_no_eval(out: Out) -> None:
    name = "paddleseg/stdc1_cityscapes_no_eval"
    rng = rng_for(name)
    run = PaddleRun("2.8.0", 2000, 12, 248, 0.268, 500, 0.1)
    its = np.arange(10, 2001, 10)
    series = PaddleSeries(its, train_loss(rng, its, 3.1, 0.9, 600.0), poly_lr(its, 0.01, 2000), {})
    clock = Clock(datetime(2023, 8, 30, 6, 15, 40, tzinfo=UTC))
    buf: list[str] = []
    config = paddle_config("PPLiteSeg", "Cityscapes", 2000, 12, 0.01).replace(
        "ResNet50_vd", "STDC1"
    )
    paddle_header(buf, clock, run, config, 1207)
    paddle_pretrained_lines(buf, clock)
    paddle_launch(buf, clock, run, series, rng, do_eval=False)
    f = out.write(f"{name}/train.log", "".join(buf))
    out.run(name, RunTruth(
        "paddleseg", [f], "no_eval", [], [], 2000,
        "Trained without `--do_eval`: only [TRAIN] lines (loss falling), no validation at all.",
    ))  # fmt: skip


def cityscapes_run(out: Out, name: str, run: PaddleRun, model: str, start: datetime,
                   prog: Callable[[np.ndarray], np.ndarray], noise: tuple[float, float],
                   loss: tuple[float, float, float], truth: tuple[str, list[str], str],
                   *, flops_tail: bool = True) -> None:  # fmt: skip
    """A single-launch PaddleSeg Cityscapes run evaluated every 1000 iterations: ``prog`` maps
    the fraction of training done to class progress, ``truth`` is (status, findings, note)."""
    rng = rng_for(name)
    ds = dataset(rng, CITYSCAPES, CITYSCAPES_FREQ, CITYSCAPES_CAP, CITYSCAPES_ONSET)
    steps = list(range(1000, run.iters + 1, 1000))
    class_sd, common_sd = noise
    evals = simulate_evals(rng, ds, steps, prog(fractions(steps, run.iters)),
                           class_sd=class_sd, common_sd=common_sd)  # fmt: skip
    series = paddle_series(rng, run, evals, loss, 0.01)
    clock = Clock(start)
    buf: list[str] = []
    config = paddle_config(model, "Cityscapes", run.iters, run.batch_size, 0.01)
    paddle_header(buf, clock, run, config, 8731)
    paddle_launch(buf, clock, run, series, rng)
    if flops_tail:
        paddle_flops_tail(buf, clock)
    f = out.write(f"{name}/train.log", "".join(buf))
    status, findings, note = truth
    out.run(name, RunTruth(
        "paddleseg", [f], status, findings, [(e.step, e.miou) for e in evals], run.iters, note,
    ))  # fmt: skip


def run_paddle_converged(out: Out) -> None:
    cityscapes_run(
        out, "paddleseg/ocrnet_hrnetw18_cityscapes_converged",
        PaddleRun("2.8.0", 16000, 2, 372, 0.531, 500, 0.22, gpus=4, log_iters=20),
        "OCRNet", datetime(2023, 5, 22, 7, 30, 11, tzinfo=UTC),
        lambda f: saturating(np.minimum(f / 0.55, 1.0), 0.2, 0.25), (0.01, 0.003),
        (2.5, 0.21, 1800.0),
        ("converged", ["converged"],
         "FINISHED AND CONVERGED. PaddleSeg 2.8 stdout, 16k iterations to the planned end: mIoU "
         "saturates by iter ~9000 and the last 40 % of the schedule only wobbles within noise. "
         "Not `stalled` (that is for runs still training): the run is judged as finished."),
    )  # fmt: skip


def run_paddle_rising_noisy(out: Out) -> None:
    cityscapes_run(
        out, "paddleseg/pp_liteseg_cityscapes_rising_noisy",
        PaddleRun("2.8.0", 24000, 2, 372, 0.298, 500, 0.18, gpus=4, log_iters=50),
        "PPLiteSeg", datetime(2023, 8, 1, 22, 4, 40, tzinfo=UTC),
        lambda f: 0.25 + 0.7 * f**1.1, (0.03, 0.012), (2.7, 0.3, 3000.0),
        ("ok", ["still_improving"],
         "HARD NEGATIVE. A short schedule on a small val subset: evals scatter by ±0.02-0.04 "
         "from one to the next (single evals drop), but mIoU still rises steadily over the last "
         "third when the schedule ends. Must not be called stalled or converged: it finished "
         "while still improving (`still_improving`, with the forecast gain of a longer schedule)."),
        flops_tail=False,
    )  # fmt: skip
