"""The text of a PaddleSeg launch (stdout of tools/train.py; LOG_FORMATS.md section 1):
environment and config blocks, ``[TRAIN]`` lines and ``[EVAL]`` blocks."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .common import Clock, hms
from .curves import Eval
from .paddleseg_progbar import progbar_text

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
