"""Write segwatch's bundled sample logs: small synthetic runs, each as its framework writes it.

Run ``python sample_logs/generate.py [OUT_DIR]`` (default: the folder of this script). Output is
byte-for-byte deterministic: fixed seeds, fixed wall times, no host names or pids from this
machine. Standard library + numpy only (plus the ``tensorboard`` package, used only for the
TFRecord framing and the ``Event`` protos of the one TensorBoard run).

Each run is one folder (the folder name is the run name). Formats follow
``shared/LOG_FORMATS.md``; the behaviours each run shows are in ``README.md`` and, as labels for
the diagnosis, in ``truth.json`` (written by this script from the very values it printed).
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

SEED = 20240611
UTC = timezone.utc
HERE = Path(__file__).resolve().parent

# ------------------------------------------------------------------------------------------
# datasets: class names, pixel frequencies (for aAcc) and a plausible final IoU per class

CITYSCAPES = (
    "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
    "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus", "train",
    "motorcycle", "bicycle",
)  # fmt: skip
CITYSCAPES_FREQ = (
    0.37, 0.06, 0.22, 0.006, 0.008, 0.012, 0.002, 0.005, 0.15, 0.01, 0.04, 0.012, 0.002,
    0.065, 0.0025, 0.002, 0.002, 0.001, 0.004,
)  # fmt: skip
CITYSCAPES_CAP = (
    0.975, 0.81, 0.905, 0.46, 0.52, 0.58, 0.63, 0.72, 0.915, 0.61, 0.935, 0.78, 0.57, 0.935,
    0.6, 0.74, 0.6, 0.53, 0.74,
)  # fmt: skip
CITYSCAPES_ONSET = (
    0.0, 0.0, 0.0, 0.3, 0.2, 0.05, 0.25, 0.08, 0.0, 0.06, 0.0, 0.02, 0.3, 0.0, 0.42, 0.4,
    0.5, 0.45, 0.1,
)  # fmt: skip

UAVID = (
    "background clutter", "building", "road", "tree", "low vegetation", "moving car",
    "static car", "human",
)  # fmt: skip
LOVEDA = ("background", "building", "road", "water", "barren", "forest", "agricultural")
DEFECTS = ("background", "scratch", "dent", "crack")
CROPS = ("background", "wheat", "corn", "soybean", "rice", "cotton", "weed", "water")
CAMVID = (
    "sky", "building", "pole", "road", "pavement", "tree", "signsymbol", "fence", "car",
    "pedestrian", "bicyclist",
)  # fmt: skip
VOC = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
    "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
    "sheep", "sofa", "train", "tvmonitor",
)  # fmt: skip
SIDEWALK = (
    "unlabeled", "flat-road", "flat-sidewalk", "flat-crosswalk", "flat-cyclinglane",
    "flat-parkingdriveway", "flat-railtrack", "flat-curb", "human-person", "human-rider",
    "vehicle-car", "vehicle-truck", "vehicle-bus", "vehicle-tramtrain", "vehicle-motorcycle",
    "vehicle-bicycle", "vehicle-caravan", "vehicle-cartrailer", "construction-building",
    "construction-door", "construction-wall", "construction-fenceguardrail",
    "construction-bridge", "construction-tunnel", "construction-stairs", "object-pole",
    "object-trafficsign", "object-trafficlight", "nature-vegetation", "nature-terrain", "sky",
    "void-ground", "void-dynamic", "void-static", "void-unclear",
)  # fmt: skip
HISTO = ("background", "tumor", "stroma", "inflammatory", "necrosis")
OPTIC = ("background", "optic_disc")


def rng_for(name: str) -> np.random.Generator:
    """A generator seeded from the run name (crc32, not the salted built-in hash)."""
    return np.random.default_rng([SEED, zlib.crc32(name.encode())])


@dataclass(frozen=True)
class Dataset:
    """Class names plus what the simulation needs per class."""

    classes: tuple[str, ...]
    freq: np.ndarray  # pixel share in the val set (sums to 1 over present classes)
    cap: np.ndarray  # IoU the class reaches when the run's progress is 1
    onset: np.ndarray  # progress before which the class is never predicted (IoU exactly 0)
    absent: tuple[int, ...] = ()  # classes with no val pixels that are never predicted: NaN
    floor: np.ndarray | None = None  # IoU before the class's onset (0 unless given)
    gamma: np.ndarray | None = None  # <1: the class saturates early (big, easy classes)

    @property
    def n(self) -> int:
        return len(self.classes)


def dataset(
    rng: np.random.Generator,
    classes: Sequence[str],
    freq: Sequence[float] | None = None,
    cap: Sequence[float] | None = None,
    onset: Sequence[float] | None = None,
    absent: tuple[int, ...] = (),
    floor: Sequence[float] | None = None,
    gamma: Sequence[float] | None = None,
) -> Dataset:
    """A dataset; unspecified per-class figures are drawn (background-heavy frequencies)."""
    n = len(classes)
    f = np.asarray(freq if freq is not None else rng.dirichlet(np.r_[8.0, np.full(n - 1, 1.0)]))
    c = np.asarray(cap if cap is not None else rng.uniform(0.45, 0.9, n))
    o = np.asarray(onset if onset is not None else np.clip(rng.uniform(-0.2, 0.3, n), 0, None))
    f = np.where(np.isin(np.arange(n), absent), 0.0, f)
    fl = np.zeros(n) if floor is None else np.asarray(floor, dtype=float)
    f = f / f.sum()
    g = np.select([f > 0.05, f > 0.01], [0.15, 0.5], 1.0) if gamma is None else np.asarray(gamma)
    return Dataset(tuple(classes), f, c, o, absent, fl, g)


# ------------------------------------------------------------------------------------------
# evaluation results: per-class IoU around class-specific curves, mIoU = nanmean of them


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
    return x if decimals is None else np.round(x, decimals)


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
        kappa=float(_round((aacc - pe) / (1 - pe), decimals)),
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


# ------------------------------------------------------------------------------------------
# training-side series


def poly_lr(it: np.ndarray | int, base: float, total: int, power: float = 0.9,
            end: float = 0.0) -> np.ndarray:  # fmt: skip
    """PaddleSeg/MMSeg polynomial decay."""
    t = np.minimum(np.asarray(it, dtype=float), total)
    return (base - end) * (1 - t / total) ** power + end


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
    return base * np.exp(rng.normal(0, noise, len(it)))


def explode(loss: np.ndarray, it: np.ndarray, start: int, nan_from: int) -> np.ndarray:
    """From ``start`` the loss grows exponentially; from ``nan_from`` it is NaN."""
    out = loss.copy()
    grow = (it >= start) & (it < nan_from)
    span = max(nan_from - start, 1)
    out[grow] = loss[grow] * np.exp(7.5 * ((it[grow] - start) / span) ** 1.5)
    out[it >= nan_from] = np.nan
    return out


class Clock:
    """Fixed wall times: starts at ``start`` (UTC) and moves on by what the run spends."""

    def __init__(self, start: datetime) -> None:
        self.t = start.timestamp()

    def tick(self, seconds: float) -> float:
        self.t += seconds
        return self.t

    def dt(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)


def hms(seconds: float) -> str:
    """PaddleSeg's ETA: HH:MM:SS with hours allowed past 24."""
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def tdelta(seconds: float) -> str:
    """``str(datetime.timedelta)`` as mmcv/mmengine/detectron2 print an ETA."""
    return str(timedelta(seconds=int(seconds)))


# ------------------------------------------------------------------------------------------
# output collection


@dataclass
class RunTruth:
    """Labels of one run for the diagnosis, as ``truth.json`` stores them."""

    format: str
    files: list[str]
    status: str
    findings: list[str]
    evals: list[tuple[int, float]]  # (step, mIoU fraction) as the files say, after restarts
    last_step: int
    note: str
    optional_findings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        best = best_of(self.evals)
        readers = {f: reader_for(f) for f in self.files}
        return {
            "format": self.format,
            "files": {f: r for f, r in readers.items() if r is not None},
            "other_files": [f for f, r in readers.items() if r is None],
            "status": self.status,
            "findings": self.findings,
            "optional_findings": self.optional_findings,
            "best_miou": None if best is None else round(best[1], 6),
            "best_step": None if best is None else best[0],
            "last_step": self.last_step,
            "n_evals": len(self.evals),
            "note": self.note,
        }


def reader_for(path: str) -> str | None:
    """The segwatch format (``read_log(format=...)``) of a file; None: not a log to read."""
    name = path.rsplit("/", 1)[-1]
    family = path.split("/", 1)[0]
    if family == "mmseg1x":
        if name == "scalars.json":
            return "mmseg1-json"
        return "mmseg1-text" if name.endswith(".log") else None  # vis_data/<ts>.json: a twin
    by_family = {
        "paddleseg": "paddleseg",
        "detectron2": "detectron2",
        "hf": "hf-trainer",
        "tensorboard": "tensorboard",
        "csv": "csv",
    }
    if family == "mmseg0x":
        return "mmseg0-json" if name.endswith(".log.json") else "mmseg0-text"
    if family == "lightning":
        return "lightning-csv" if name == "metrics.csv" else None
    return by_family[family]


def best_of(evals: Sequence[tuple[int, float]]) -> tuple[int, float] | None:
    """The first eval with the highest finite mIoU."""
    finite = [(s, v) for s, v in evals if math.isfinite(v)]
    if not finite:
        return None
    top = max(v for _, v in finite)
    return next((s, v) for s, v in finite if v == top)


class Out:
    """Collects files (path relative to the output folder → bytes) and run labels."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.runs: dict[str, RunTruth] = {}

    def write(self, rel: str, data: str | bytes) -> str:
        self.files[rel] = data.encode("utf-8") if isinstance(data, str) else data
        return rel

    def run(self, rel: str, truth: RunTruth) -> None:
        self.runs[rel] = truth


# ------------------------------------------------------------------------------------------
# PaddleSeg (stdout of tools/train.py; LOG_FORMATS.md section 1)

PADDLE_ENV = """------------Environment Information-------------
platform: Linux-5.4.0-139-generic-x86_64-with-debian-bullseye-sid
Python: 3.7.13 (default, Mar 29 2022, 02:18:16) [GCC 7.5.0]
Paddle compiled with cuda: True
NVCC: Build cuda_11.2.r11.2/compiler.29618528_0
cudnn: 8.2
GPUs used: {gpus}
CUDA_VISIBLE_DEVICES: {devices}
GPU: {gpu_list}
GCC: gcc (Ubuntu 7.5.0-3ubuntu1~18.04) 7.5.0
PaddlePaddle: {paddle}
OpenCV: 4.6.0
------------------------------------------------"""

PADDLE_WARNINGS = (
    "/opt/conda/envs/paddle/lib/python3.7/site-packages/paddle/nn/layer/norm.py:653: "
    "UserWarning: When training, we now always track global mean and variance.\n"
    '  "When training, we now always track global mean and variance.")\n'
)
PADDLE_EVAL_WARNINGS = (
    "/opt/conda/envs/paddle/lib/python3.7/site-packages/paddle/fluid/dygraph/math_op_patch.py:276:"
    " UserWarning: The dtype of left and right variables are not the same, left dtype is"
    " paddle.int32, but right dtype is paddle.bool, the right dtype will convert to paddle.int32\n"
    "  format(lhs_dtype, rhs_dtype, lhs_dtype))\n"
)


@dataclass
class PaddleRun:
    """How one PaddleSeg launch prints (``version`` picks the v2.0 / v2.1-2.4 / v2.5+ shapes)."""

    version: str  # "2.0.0", "2.3.0", "2.8.0"
    iters: int
    batch_size: int
    iters_per_epoch: int
    batch_cost: float
    val_images: int
    val_step_time: float
    gpus: int = 1
    log_iters: int = 10

    @property
    def eq(self) -> bool:
        return self.version.startswith("2.0")

    def kv(self, key: str, value: str) -> str:
        return f"{key}={value}" if self.eq else f"{key}: {value}"


def paddle_prefix(clock: Clock) -> str:
    return clock.dt().strftime("%Y-%m-%d %H:%M:%S") + " [INFO]\t"


def glog_prefix(clock: Clock, pid: int, level: str = "W") -> str:
    d = clock.dt()
    return f"{level}{d:%m%d %H:%M:%S}.{d.microsecond:06d} {pid} "


def paddle_header(buf: list[str], clock: Clock, run: PaddleRun, config: str, pid: int) -> None:
    """Environment + config blocks and the start-up noise of ``tools/train.py``."""
    gpu_list = [f"GPU {i}: Tesla V100-SXM2-32GB" for i in range(run.gpus)]
    env = PADDLE_ENV.format(
        gpus=run.gpus,
        devices=",".join(str(i) for i in range(run.gpus)),
        gpu_list=gpu_list,
        paddle="2.0.0" if run.eq else ("2.3.2" if run.version < "2.5" else "2.4.2"),
    )
    buf.append(paddle_prefix(clock) + "\n" + env + "\n")
    buf.append(paddle_prefix(clock) + "\n---------------Config Information---------------\n")
    buf.append(config.rstrip("\n") + "\n------------------------------------------------\n")
    clock.tick(1.734)
    buf.append(
        glog_prefix(clock, pid) + "gpu_context.cc:244] Please NOTE: device: 0, GPU Compute "
        "Capability: 7.0, Driver API Version: 11.4, Runtime API Version: 11.2\n"
    )
    buf.append(glog_prefix(clock, pid) + "gpu_context.cc:272] device: 0, cuDNN Version: 8.2.\n")
    clock.tick(2.113)


def paddle_train_line(run: PaddleRun, clock: Clock, it: int, loss: float, lr: float,
                      bc: float, rc: float) -> str:  # fmt: skip
    epoch = (it - 1) // run.iters_per_epoch + 1
    eta = hms((run.iters - it) * bc)
    kv = run.kv
    fields = [
        kv("epoch", str(epoch)),
        kv("iter", f"{it}/{run.iters}"),
        kv("loss", f"{loss:.4f}"),
        kv("lr", f"{lr:.6f}"),
        kv("batch_cost", f"{bc:.4f}"),
        kv("reader_cost", f"{rc:.5f}"),
        kv("ips", f"{run.batch_size / bc:.4f}"),
    ]
    return paddle_prefix(clock) + "[TRAIN] " + ", ".join(fields) + f" samples/sec | ETA {eta}\n"


def progbar_text(rng: np.random.Generator, target: int, step_time: float, verbose: int) -> str:
    """PaddleSeg's ``Progbar`` on stderr: verbose 1 redraws with \\b and \\r, 2 prints one line."""
    times = np.cumsum(rng.normal(step_time, step_time * 0.08, target).clip(step_time * 0.5))
    times[0] += step_time * 0.5  # the first batch also starts the workers
    costs = np.diff(np.r_[0.0, times])
    readers = rng.exponential(step_time * 0.02, target)
    readers[0] = step_time * 0.3

    def info_values(current: int) -> str:
        out = ""
        for name, arr in (("batch_cost", costs), ("reader cost", readers)):
            avg = float(np.mean(arr[:current]))
            out += f" - {name}:" + (f" {avg:.4f}" if abs(avg) > 1e-3 else f" {avg:.4e}")
        return out

    if verbose == 2:
        return f"{target}/{target} - {times[-1]:.0f}s" + info_values(target) + "\n"
    out, total_width, last_update = [], 0, 0.0
    digits = int(np.log10(target)) + 1
    for current in range(1, target + 1):
        now = float(times[current - 1])
        final = current >= target
        if now - last_update < 0.05 and not final:
            continue
        prev = total_width
        out.append("\b" * prev + "\r")
        prog_width = int(30 * current / target)
        bar = f"{current:{digits}d}/{target} ["
        if prog_width > 0:
            bar += "=" * (prog_width - 1) + ("=" if final else ">")
        bar += "." * (30 - prog_width) + "]"
        total_width = len(bar)
        per_unit = now / current
        if final:
            info = f" - {now:.0f}s" + (
                f" {per_unit * 1e3:.0f}ms/step" if per_unit < 1 else f" {per_unit:.0f}s/step"
            )
        else:
            info = f" - ETA: {per_unit * (target - current):.0f}s"
        info += info_values(current)
        total_width += len(info)
        if prev > total_width:
            info += " " * (prev - total_width)
        out.append(bar + info + ("\n" if final else ""))
        last_update = now
    return "".join(out)


def np_array_text(values: np.ndarray) -> str:
    """``str(np.round(arr, 4))`` under PaddleSeg's ``np.set_printoptions(suppress=True)``."""
    with np.printoptions(suppress=True):
        return str(np.round(values, 4))


def paddle_eval_block(run: PaddleRun, clock: Clock, ev: Eval, rng: np.random.Generator,
                      warn: bool) -> str:  # fmt: skip
    """``Start evaluating`` … progress bar … ``[EVAL]`` summary and per-class arrays."""
    buf = []
    iters = math.ceil(run.val_images / run.gpus)
    kv = run.kv
    buf.append(
        paddle_prefix(clock)
        + f"Start evaluating ({kv('total_samples', str(run.val_images))}, "
        + f"{kv('total_iters', str(iters))})...\n"
    )
    if warn:
        buf.append(PADDLE_EVAL_WARNINGS)
    buf.append(progbar_text(rng, iters, run.val_step_time, 1 if run.gpus == 1 else 2))
    clock.tick(iters * run.val_step_time + 0.8)
    pre = paddle_prefix(clock)
    if run.eq:
        head = f"[EVAL] #Images={run.val_images} mIoU={ev.miou:.4f} Acc={ev.aacc:.4f} "
        head += f"Kappa={ev.kappa:.4f} "
    else:
        head = f"[EVAL] #Images: {run.val_images} mIoU: {ev.miou:.4f} Acc: {ev.aacc:.4f} "
        head += f"Kappa: {ev.kappa:.4f} "
        if run.version >= "2.4":
            dice = float(np.mean(2 * ev.iou / (1 + ev.iou)))
            head += f"Dice: {dice:.4f}"
    buf.append(pre + head + "\n")
    buf.append(pre + "[EVAL] Class IoU: \n" + np_array_text(ev.iou) + "\n")
    if run.version >= "2.5":
        buf.append(pre + "[EVAL] Class Precision: \n" + np_array_text(ev.acc) + "\n")
        with np.errstate(divide="ignore"):  # 1/IoU = 1/precision + 1/recall - 1
            recall = np.where(ev.iou > 0, 1 / (1 / ev.iou - 1 / ev.acc + 1), 0.0)
        buf.append(pre + "[EVAL] Class Recall: \n" + np_array_text(recall) + "\n")
    else:
        buf.append(pre + "[EVAL] Class Acc: \n" + np_array_text(ev.acc) + "\n")
    return "".join(buf)


def paddle_best_line(clock: Clock, best: float, best_iter: int) -> str:
    return (
        paddle_prefix(clock)
        + f"[EVAL] The model with the best validation mIoU ({best:.4f}) was saved at iter "
        + f"{best_iter}.\n"
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


def paddle_flops_tail(buf: list[str], clock: Clock) -> None:
    clock.tick(3.2)
    buf.append("<class 'paddle.nn.layer.conv.Conv2D'>'s flops has been counted\n")
    buf.append("<class 'paddle.nn.layer.norm.BatchNorm2D'>'s flops has been counted\n")
    buf.append("<class 'paddle.nn.layer.activation.ReLU'>'s flops has been counted\n")
    buf.append(
        "Cannot find suitable count function for <class 'paddle.nn.layer.pooling.MaxPool2D'>."
        " Treat it as zero FLOPs.\n"
    )
    buf.append(paddle_prefix(clock) + "Total Flops: 1016528711680     Total Params: 26793160\n")


def paddle_config(model: str, dataset_type: str, iters: int, batch: int, lr: float,
                  extra: str = "") -> str:  # fmt: skip
    return f"""batch_size: {batch}
iters: {iters}
loss:
  coef:
  - 1
  types:
  - ignore_index: 255
    type: CrossEntropyLoss
lr_scheduler:
  end_lr: 0
  learning_rate: {lr}
  power: 0.9
  type: PolynomialDecay
model:
  backbone:
    output_stride: 8
    pretrained: https://bj.bcebos.com/paddleseg/dygraph/resnet50_vd_ssld_v2.tar.gz
    type: ResNet50_vd
  num_classes: 19
  pretrained: null
  type: {model}
{extra}optimizer:
  momentum: 0.9
  type: sgd
  weight_decay: 4.0e-05
train_dataset:
  dataset_root: data/cityscapes
  mode: train
  transforms:
  - max_scale_factor: 2.0
    min_scale_factor: 0.5
    scale_step_size: 0.25
    type: ResizeStepScaling
  - crop_size:
    - 1024
    - 512
    type: RandomPaddingCrop
  - type: RandomHorizontalFlip
  - type: Normalize
  type: {dataset_type}
val_dataset:
  dataset_root: data/cityscapes
  mode: val
  transforms:
  - type: Normalize
  type: {dataset_type}
"""


def paddle_pretrained_lines(buf: list[str], clock: Clock) -> None:
    buf.append(
        paddle_prefix(clock) + "Loading pretrained model from "
        "https://bj.bcebos.com/paddleseg/dygraph/resnet50_vd_ssld_v2.tar.gz\n"
    )
    clock.tick(0.912)
    buf.append(paddle_prefix(clock) + "There are 275/275 variables loaded into ResNet_vd.\n")
    buf.append(PADDLE_WARNINGS)


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
        "paddleseg", [f], "diverging", ["loss_explosion", "loss_nonfinite"],
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


# ------------------------------------------------------------------------------------------
# MMSegmentation: shared pieces (train-side values, PrettyTable, config dump)


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
    return MMTrain(its, lr, loss, t, dt, mem)


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


MM_CONFIG = """norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    pretrained='open-mmlab://resnet50_v1c',
    backbone=dict(
        type='ResNetV1c',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        type='{head}',
        in_channels=2048,
        in_index=3,
        channels=512,
        dropout_ratio=0.1,
        num_classes={num_classes},
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=1024,
        in_index=2,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes={num_classes},
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
dataset_type = '{dataset_type}'
data_root = '{data_root}'
crop_size = (512, 512)
optimizer = dict(type='SGD', lr={lr}, momentum=0.9, weight_decay=0.0005)
lr_config = dict(policy='poly', power=0.9, min_lr={min_lr}, by_epoch=False)
runner = dict(type='IterBasedRunner', max_iters={max_iters})
checkpoint_config = dict(by_epoch=False, interval={interval})
evaluation = dict(interval={interval}, metric='mIoU', pre_eval=True)
log_config = dict(
    interval=50, hooks=[dict(type='TextLoggerHook', by_epoch=False)])
work_dir = './work_dirs/{cfg}'
gpu_ids = [0]
auto_resume = False
"""

MM0_ENV = """sys.platform: linux
Python: 3.8.13 (default, Mar 28 2022, 11:38:47) [GCC 7.5.0]
CUDA available: True
GPU 0: NVIDIA GeForce RTX 3090
CUDA_HOME: /usr/local/cuda
NVCC: Cuda compilation tools, release 11.3, V11.3.109
GCC: gcc (Ubuntu 9.4.0-1ubuntu1~20.04.1) 9.4.0
PyTorch: 1.11.0+cu113
PyTorch compiling details: PyTorch built with:
  - GCC 7.3
  - C++ Version: 201402
  - CUDA Runtime 11.3
  - CuDNN 8.2

TorchVision: 0.12.0+cu113
OpenCV: 4.6.0
MMCV: 1.7.1
MMCV Compiler: GCC 9.3
MMCV CUDA Compiler: 11.3
MMSegmentation: 0.30.0+"""


# ------------------------------------------------------------------------------------------
# MMSegmentation 0.x (mmcv runner: <ts>.log + <ts>.log.json; LOG_FORMATS.md section 2)


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


def mm0_config(run_cfg: str, head: str, ds: Dataset, dataset_type: str, data_root: str,
               lr: float, min_lr: float, max_iters: int, interval: int) -> str:  # fmt: skip
    return MM_CONFIG.format(
        head=head, num_classes=ds.n, dataset_type=dataset_type, data_root=data_root, lr=lr,
        min_lr=min_lr, max_iters=max_iters, interval=interval, cfg=run_cfg,
    )  # fmt: skip


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
        "mmseg0x", files, "overfitting", ["overfitting"], [(e.step, e.miou) for e in evals],
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
        "mmseg0x", files, "stalled", ["majority_class", "miou_plateau"],
        [(e.step, e.miou) for e in evals], max_iters,
        "Defect segmentation where 95.7% of pixels are background: the model predicts "
        "background everywhere at every eval (a stray pixel or two of a defect class now and "
        "then). aAcc 0.957 looks great, mIoU stays at ~0.239 = 0.957/4; the loss drops fast "
        "to the class-prior level (~0.16) and stays there.",
        optional_findings=["dead_class"],
    ))  # fmt: skip


# ------------------------------------------------------------------------------------------
# MMSegmentation 1.x (mmengine: <ts>/<ts>.log + <ts>/vis_data/scalars.json; section 3)

MM1_ENV = """------------------------------------------------------------
System environment:
    sys.platform: linux
    Python: 3.10.13 (main, Sep 11 2023, 13:44:35) [GCC 11.2.0]
    CUDA available: True
    numpy_random_seed: 1372519606
    GPU 0,1,2,3: NVIDIA A100-SXM4-40GB
    CUDA_HOME: /usr/local/cuda
    NVCC: Cuda compilation tools, release 11.8, V11.8.89
    GCC: gcc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0
    PyTorch: 2.1.2
    PyTorch compiling details: PyTorch built with:
  - GCC 9.3
  - C++ Version: 201703
  - CUDA Runtime 11.8
  - CuDNN 8.7

    TorchVision: 0.16.2
    OpenCV: 4.9.0
    MMEngine: 0.10.3

Runtime environment:
    cudnn_benchmark: True
    mp_cfg: {'mp_start_method': 'fork', 'opencv_num_threads': 0}
    dist_cfg: {'backend': 'nccl'}
    seed: 1372519606
    Distributed launcher: pytorch
    Distributed training: True
    GPU number: 4
------------------------------------------------------------
"""


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
        dtv = 0.0021 + 0.0002 * math.sin(it / 7.0) ** 2  # full floats, as mmengine logs them
        tv = 0.0612 + 0.0011 * math.cos(it / 5.0) ** 2
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


def mm1_config(cfg: str, ds: Dataset, dataset_type: str, max_iters: int, val_interval: int,
               lr: float, sched: str) -> str:  # fmt: skip
    head = MM_CONFIG.split("dataset_type =")[0].format(
        head="ASPPHead", num_classes=ds.n, dataset_type="", data_root="", lr=lr, min_lr=0,
        max_iters=0, interval=0, cfg=cfg,
    )  # fmt: skip
    return (
        head
        + f"""dataset_type = '{dataset_type}'
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr={lr}, momentum=0.9, weight_decay=0.0005),
    clip_grad=None)
param_scheduler = [
{sched}
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters={max_iters}, val_interval={val_interval})
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval={val_interval}),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
vis_backends = [dict(type='LocalVisBackend')]
work_dir = './work_dirs/{cfg}'
"""
    )


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
        "mmseg1x", files, "stalled", ["miou_plateau", "lr_exhausted"],
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


# ------------------------------------------------------------------------------------------
# Detectron2 (OUTPUT_DIR/metrics.json; LOG_FORMATS.md section 4)


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
        t = float(rng.normal(time_s, time_s * 0.03))
        dt = float(abs(rng.normal(0.0031, 0.0006)))
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
    return base * (factor * (1 - alpha) + alpha)


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
        "detectron2", [f_], "stalled", ["miou_plateau"], d2_truth_evals(evals, max_iter),
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
        "detectron2", [f_], "ok", ["dead_class"], d2_truth_evals(evals, max_iter), max_iter,
        "Healthy Mask2Former-style run (3 losses + total_loss) whose class `train` is never "
        "predicted: `sem_seg/IoU-train` and `sem_seg/ACC-train` are 0.0 at every eval while the "
        "other 18 classes improve. Percent values; last line is the eval-only line at 10000.",
    ))  # fmt: skip


# ------------------------------------------------------------------------------------------
# Hugging Face Trainer (output_dir/trainer_state.json; LOG_FORMATS.md section 6)


def run_hf_flat_loss(out: Out) -> None:
    name = "hf/segformer-b0_sidewalk_flatloss"
    rng = rng_for(name)
    n = len(SIDEWALK)
    freq = rng.dirichlet(np.full(n, 0.7))
    absent = (0, 13, 16, 23)  # unlabeled (ignore_index 0), tramtrain, caravan, tunnel
    cap = rng.uniform(0.25, 0.9, n)
    onset = np.clip(rng.uniform(-0.3, 0.5, n), 0, None)
    ds = dataset(rng, SIDEWALK, freq, cap, onset, absent=absent)
    max_steps, logging, eval_steps, per_epoch = 4000, 20, 200, 100
    steps = list(range(eval_steps, max_steps + 1, eval_steps))
    prog = 0.35 + 0.6 * fractions(steps, max_steps) ** 0.85
    evals = simulate_evals(rng, ds, steps, prog, class_sd=0.015, common_sd=0.004, decimals=None)
    history: list[dict[str, object]] = []
    lr0 = 6e-05
    by_step = {e.step: e for e in evals}
    for step in range(logging, max_steps + 1, logging):
        lr = lr0 * (1 - step / max_steps)
        loss = 0.452 * math.exp(rng.normal(0, 0.07))
        history.append({
            "epoch": round(step / per_epoch, 2), "grad_norm": float(rng.gamma(6.0, 0.35)),
            "learning_rate": lr, "loss": round(loss, 4), "step": step,
        })  # fmt: skip
        ev = by_step.get(step)
        if ev is None:
            continue
        runtime = float(rng.normal(21.4, 0.6))
        entry: dict[str, object] = {"epoch": round(step / per_epoch, 2)}
        for i, c in enumerate(SIDEWALK):
            entry[f"eval_accuracy_{c}"] = float(ev.acc[i])
            entry[f"eval_iou_{c}"] = float(ev.iou[i])
        entry.update({
            "eval_loss": float(0.61 - 0.12 * step / max_steps + rng.normal(0, 0.01)),
            "eval_mean_accuracy": ev.macc, "eval_mean_iou": ev.miou,
            "eval_overall_accuracy": ev.aacc, "eval_runtime": round(runtime, 4),
            "eval_samples_per_second": round(200 / runtime, 3),
            "eval_steps_per_second": round(100 / runtime, 3), "step": step,
        })  # fmt: skip
        history.append(entry)
    history.append({
        "epoch": 40.0, "step": max_steps, "total_flos": 2.830512046571520e17,
        "train_loss": 0.4519773864746094, "train_runtime": 4187.2215,
        "train_samples_per_second": 7.642, "train_steps_per_second": 0.955,
    })  # fmt: skip
    best = best_of([(e.step, e.miou) for e in evals])
    assert best is not None
    state = {
        "best_global_step": best[0], "best_metric": best[1],
        "best_model_checkpoint": f"segformer-b0-finetuned-sidewalk/checkpoint-{best[0]}",
        "epoch": 40.0, "eval_steps": eval_steps, "global_step": max_steps,
        "is_hyper_param_search": False, "is_local_process_zero": True,
        "is_world_process_zero": True, "log_history": history, "logging_steps": logging,
        "max_steps": max_steps, "num_input_tokens_seen": 0, "num_train_epochs": 40,
        "save_steps": eval_steps,
        "stateful_callbacks": {"TrainerControl": {"args": {
            "should_epoch_stop": False, "should_evaluate": False, "should_log": False,
            "should_save": True, "should_training_stop": True}, "attributes": {}}},
        "total_flos": 2.830512046571520e17, "train_batch_size": 8, "trial_name": None,
        "trial_params": None,
    }  # fmt: skip
    f_ = out.write(f"{name}/trainer_state.json", json.dumps(state, indent=2, sort_keys=True) + "\n")
    out.run(name, RunTruth(
        "hf", [f_], "ok", ["loss_flat_miou_rising"], [(e.step, e.miou) for e in evals], max_steps,
        "HARD NEGATIVE. SegFormer-b0 fine-tuned from a Cityscapes checkpoint: the logged train "
        "loss is flat (~0.45 +- noise, no trend) from the first log while eval_mean_iou keeps "
        "rising clearly to the end. Must not be called stalled (info finding only). 35 labels "
        "as `eval_iou_<label>`; 4 of them (unlabeled = ignore_index, tramtrain, caravan, tunnel) "
        "are NaN at every eval, and eval_mean_iou is the nanmean of the rest.",
    ))  # fmt: skip


# ------------------------------------------------------------------------------------------
# Lightning CSVLogger (version_0/metrics.csv; LOG_FORMATS.md section 5)


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


# ------------------------------------------------------------------------------------------
# TensorBoard event file (MMSeg 0.x TensorboardLoggerHook tags; LOG_FORMATS.md section 7)


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
        "tensorboard", [f_], "diverging", ["loss_explosion", "loss_nonfinite"],
        [(e.step, float(np.float32(e.miou))) for e in evals], max_iters,
        "TensorBoard event file with MMSeg 0.x `TensorboardLoggerHook` tags (train/loss, "
        "train/decode.loss_ce, learning_rate, val/mIoU, `val/IoU.<class>` ..., fractions, float32"
        " simple_value, val at the train iteration). lr 0.05: the loss explodes from iter ~5150 "
        "and is NaN from 5600; evals at 6000-8000 predict `background` everywhere (mIoU = 0.70/21"
        " = 0.0333).",
        optional_findings=["uniform_prediction", "majority_class", "miou_plateau", "dead_class"],
    ))  # fmt: skip


# ------------------------------------------------------------------------------------------
# generic CSV written by a custom training loop (wide columns, see README.md)


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


# ------------------------------------------------------------------------------------------
# labels and README

STATUS_ORDER = ("diverging", "overfitting", "stalled", "ok", "no_eval")
FINDINGS = {
    "miou_plateau": "val mIoU has stopped improving: the gain over the last evals is within noise",
    "lr_exhausted": "the learning rate is at (or decayed to) a negligible floor",
    "loss_nonfinite": "the train loss became NaN/inf",
    "loss_explosion": "the train loss grew by orders of magnitude",
    "overfitting": "train loss keeps falling while val mIoU peaked and then dropped beyond noise",
    "dead_class": "a class has IoU 0 at every eval while others learn",
    "majority_class": "aAcc high but mIoU near (majority share)/C: the model predicts one class",
    "uniform_prediction": "evals where every pixel gets the same class",
    "loss_flat_miou_rising": "(info) the train loss is flat but val mIoU keeps rising",
}


def truth_json(out: Out) -> str:
    runs = {name: t.as_json() for name, t in out.runs.items()}
    return json.dumps({"runs": runs}, indent=2, allow_nan=False) + "\n"


README_HEAD = """# Sample logs

Small synthetic training runs, each written **exactly as its framework writes it** (format
strings from the frameworks' source, as documented in `shared/LOG_FORMATS.md`; shapes copied
from real public logs: prefixes, separators, number formats, wrapped numpy arrays, CRLF, bare
`NaN`). One folder per run; the folder name (relative to this folder) is the run name.
They let you try segwatch without logs of your own and give the diagnosis labelled cases.

Everything here, this README included, is written by `generate.py` (standard library + numpy;
the `tensorboard` package for the one event file). Regenerate with

    python sample_logs/generate.py            # rewrites this folder
    python sample_logs/generate.py OUT_DIR    # or writes elsewhere

The output is deterministic byte for byte (fixed seeds and wall times); `tests/test_sample_logs.py`
checks that, and checks every label below against the files.

## Runs

| run | format | status | findings | what it shows |
|---|---|---|---|---|
"""

README_TAIL = """
Metric values are synthetic: each class's IoU follows a class-specific curve (big classes
saturate early, rare ones start at exactly 0) plus shared and per-class noise, and mIoU is
the nanmean of the per-class IoUs **as printed** (rounded first), so the two agree within a file.

## Labels: `truth.json`

`{"runs": {"<run>": {...}}}` with, per run:

* `format`: the framework family; `files`: each metrics file of the run and its segwatch format
  name (`read_log(path, format=...)`); `other_files`: files of the run that are not metrics logs
  to read (Lightning's `hparams.yaml`, and MMEngine's `vis_data/<ts>.json`, an identical twin of
  `vis_data/scalars.json` that must not be read twice).
* `status`: `diverging` > `overfitting` > `stalled` > `ok` (the first that applies), or `no_eval`
  when the run has no validation at all.
* `findings`: what a diagnosis must report; `optional_findings`: also correct, not required.
* `best_miou` (fraction, 6 decimals) and `best_step`: the best eval as the files say it (the
  first one on ties), after restarts are applied; `best_step` is the training iteration the eval
  belongs to (PaddleSeg: the preceding `[TRAIN]` iter; MMSeg: the preceding train iter, not
  `Iter(val) [N]`; Detectron2: segwatch's steps are 1-based, `iteration + 1`, so a periodic eval
  on iteration `k*period-1` is step `k*period`, and the final eval-only line (`"iteration":
  max_iter`) is step `max_iter`, the step of the last train line).
  `last_step`: the largest step of any record; `n_evals`: number of evals after restarts.

Finding codes:

{findings}

How the shapes were checked (in `tests/test_sample_logs.py`, on the values parsed back from the
files): noise sigma = 1.4826 * MAD(second differences of the mIoU series) / sqrt(6); over the last
40% of evals (at least 4), the Theil-Sen gain is within 2 sigma and the Mann-Kendall trend is not
significant for `stalled` runs, and above 3 sigma for every `ok` run with evals (hard negatives
included); `overfitting` runs end more than 4 sigma below a best eval that is not among the last
three.

## Format notes

* **PaddleSeg** (`[TRAIN]`/`[EVAL]` stdout, tab after `[INFO]`): 2.0 prints `key=value`, 2.1+
  `key: value`; 2.4+ adds `Dice:`; 2.5+ prints `Class Precision`/`Class Recall` instead of
  `Class Acc`. Arrays are `str(np.round(a, 4))` under `np.set_printoptions(suppress=True)`,
  wrapped at 75 columns, continuation lines start with a space and have no prefix. PaddleSeg's
  own metrics give IoU 0 (not NaN) for an empty union and take the plain mean, so its arrays hold
  `0.` but never `nan`. Single-GPU runs draw the eval progress bar on stderr with `\\b` and `\\r`;
  multi-GPU runs print one `125/125 - 26s - ...` line.
* **MMSeg 0.x**: `<ts>.log` (percent tables, fractions in `Iter(val) [N]`, N = val images) and
  `<ts>.log.json` (line 1 = run meta with `CLASSES` and the config string; NaN bare).
* **MMSeg 1.x**: `<ts>/<ts>.log` (per-class values only in the table) and
  `<ts>/vis_data/scalars.json` (percent; val records told apart by `mIoU`).
* **Detectron2** `metrics.json`: sorted keys, 0-based `iteration`, train scalars every 20
  iterations, percent `sem_seg/*` keys merged into the line of iteration `k*period-1`, and a final
  eval-only line at `max_iter`.
* **HF** `trainer_state.json`: `json.dumps(indent=2, sort_keys=True)`, train and eval entries are
  separate `log_history` items, `eval_iou_<label>` per class (NaN for absent labels).
* **Lightning** `version_0/metrics.csv`: `csv.DictWriter` (CRLF), alphabetically sorted header
  (Lightning >= 2.2), sparse rows; float32 values.
* **TensorBoard**: scalar `simple_value` events (float32) with MMSeg 0.x `TensorboardLoggerHook`
  tags: `train/loss`, `train/decode.loss_ce`, `train/decode.acc_seg` (percent), `learning_rate`,
  `momentum`, `val/aAcc`, `val/mIoU`, `val/mAcc`, `val/IoU.<class>`, `val/Acc.<class>` (fractions;
  val at the training iteration). `tensorboard`'s `EventFileWriter` stamps its first event with
  the current time and names the file after host and pid, so the generator uses the package's
  `RecordWriter` (same framing and CRCs) with fixed wall times instead.
* **Generic CSV** (`csv/`): a custom loop's wide file, LF, header
  `step,epoch,wall_time,train_loss,lr,val_loss,val_miou,val_iou_<class>...`; mapping by the column
  rules of `metrics/readers/mapping.py`: `step` is the step, `wall_time` seconds since the epoch,
  `train_loss` -> train `loss`, `lr` -> train `lr`, `val_loss` -> val `loss`, `val_miou` -> val
  `miou`, `val_iou_<c>` -> val `iou/<c>`, `epoch` kept as a train metric; empty cell = not logged.
  Values are fractions.
"""


def readme(out: Out) -> str:
    rows = []
    for name, t in out.runs.items():
        data = t.as_json()
        findings = ", ".join(f"`{f}`" for f in t.findings) or "-"
        note = t.note.replace("|", "\\|")
        rows.append(f"| `{name}` | {data['format']} | {t.status} | {findings} | {note} |")
    codes = "\n".join(f"* `{k}`: {v}" for k, v in FINDINGS.items())
    return README_HEAD + "\n".join(rows) + "\n" + README_TAIL.replace("{findings}", codes)


# ------------------------------------------------------------------------------------------
# main

RUNS: tuple[Callable[[Out], None], ...] = (
    run_paddle_healthy,
    run_paddle_v20_noisy,
    run_paddle_resumed,
    run_paddle_diverging,
    run_paddle_no_eval,
    run_mm0_overfit,
    run_mm0_majority,
    run_mm1_stalled,
    run_mm1_resumed,
    run_d2_lowlr,
    run_d2_dead_class,
    run_hf_flat_loss,
    run_lightning_slow,
    run_tb_diverging,
    run_csv_overfit,
)


def generate() -> Out:
    """Every run's files plus ``truth.json`` and ``README.md``, as path -> bytes."""
    out = Out()
    for make in RUNS:
        make(out)
    for t in out.runs.values():
        assert t.status in STATUS_ORDER and set(t.findings) <= set(FINDINGS), t
    out.write("truth.json", truth_json(out))
    out.write("README.md", readme(out))
    return out


def main(argv: Sequence[str]) -> int:
    target = Path(argv[1]) if len(argv) > 1 else HERE
    out = generate()
    for rel, data in out.files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    print(f"wrote {len(out.files)} files for {len(out.runs)} runs under {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
