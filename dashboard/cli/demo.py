"""``segwatch demo``: runs written in real time (MMSegmentation 0.x JSON lines) to watch live.

One finished run that stalled is written at once; a second one grows line by line from a
background thread, with an evaluation every ``eval_every`` iterations, exactly as mmcv's
``TextLoggerHook`` writes ``<timestamp>.log.json``.
"""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path

import numpy as np

CLASSES = ("background", "building", "road", "water", "barren", "forest", "agricultural")
LOG_NAME = "20240611_120000.log.json"


def meta_line(max_iters: int, classes: tuple[str, ...] = CLASSES) -> str:
    """Line 1 of an MMSeg 0.x JSON log: run metadata with the config (and so ``max_iters``)."""
    config = (
        "model = dict(type='EncoderDecoder')\n"
        f"runner = dict(type='IterBasedRunner', max_iters={max_iters})\n"
        "evaluation = dict(interval=1000, metric='mIoU', pre_eval=True)\n"
    )
    meta = {
        "env_info": "sys.platform: linux\nPython: 3.10.12",
        "seed": 0,
        "exp_name": "segwatch_demo.py",
        "mmseg_version": "0.30.0",
        "config": config,
        "CLASSES": list(classes),
        "PALETTE": [[i * 30 % 255, i * 70 % 255, i * 110 % 255] for i in range(len(classes))],
    }
    return json.dumps(meta)


def train_line(it: int, max_iters: int, loss: float, iters_per_epoch: int = 1000) -> str:
    """One train record (floats rounded to 5 dp, as ``_round_float`` does)."""
    lr = 0.01 * (1 - it / max_iters) ** 0.9 + 1e-4
    rec = {
        "mode": "train",
        "epoch": it // iters_per_epoch + 1,
        "iter": it,
        "lr": round(lr, 5),
        "memory": 9120,
        "data_time": 0.01,
        "decode.loss_ce": round(loss * 0.7, 5),
        "decode.acc_seg": round(min(99.0, 60 + 30 * (1 - loss)), 5),
        "loss": round(loss, 5) if math.isfinite(loss) else loss,
        "time": 0.41,
    }
    return json.dumps(rec)


def val_line(it: int, max_iters: int, iou: np.ndarray, classes: tuple[str, ...] = CLASSES) -> str:
    """One val record: ``iter`` is the val-set size (mmcv's quirk), scores are fractions."""
    rec: dict[str, object] = {"mode": "val", "epoch": it // 1000 + 1, "iter": 500, "lr": 0.001}
    rec["aAcc"] = round(float(0.5 + 0.45 * iou.mean()), 4)
    rec["mIoU"] = round(float(np.nanmean(iou)), 4)
    rec["mAcc"] = round(float(min(1.0, np.nanmean(iou) + 0.1)), 4)
    for name, v in zip(classes, iou, strict=True):
        rec[f"IoU.{name}"] = round(float(v), 4)
    return json.dumps(rec)


def curve_lines(
    max_iters: int,
    log_every: int,
    eval_every: int,
    plateau_at: float = 1.0,
    seed: int = 0,
    diverge_at: float | None = None,
) -> list[str]:
    """Every line of a run (after the meta line): loss falling, mIoU rising to a plateau.

    With ``diverge_at`` (a fraction of ``max_iters``) the loss blows up from there, turns NaN,
    and the mIoU collapses.
    """
    rng = np.random.default_rng(seed)
    caps = np.linspace(0.85, 0.45, len(CLASSES))
    lines = []
    for it in range(log_every, max_iters + 1, log_every):
        p = min(it / max_iters, plateau_at)
        loss = max(0.25 + 1.6 * math.exp(-6 * p) + rng.normal(0, 0.04), 0.01)
        quality = 1 - math.exp(-5 * p)
        if diverge_at is not None and it / max_iters > diverge_at:
            k = (it / max_iters - diverge_at) * max_iters / log_every
            loss = loss * math.exp(0.3 * k) if k < 20 else math.nan
            quality *= math.exp(-0.2 * k)
        lines.append(train_line(it, max_iters, loss))
        if it % eval_every == 0:
            iou = caps * quality + rng.normal(0, 0.004, len(caps))
            lines.append(val_line(it, max_iters, np.clip(iou, 0, 1)))
    return lines


def write_finished(folder: Path, name: str = "baseline-converged") -> Path:
    """A finished run whose mIoU stops rising early (the overview shows it as converged)."""
    lines = curve_lines(8000, 50, 500, plateau_at=0.35, seed=1)
    return write_run(folder / name, 8000, lines)


def write_stalled(folder: Path, name: str = "baseline-stalled") -> Path:
    """A run half-way through its 16,000 planned steps whose mIoU stopped rising early (the
    overview flags it as stalled while its file is fresh: it is still being written)."""
    lines = curve_lines(8000, 50, 500, plateau_at=0.35, seed=1)
    return write_run(folder / name, 16000, lines)


def write_diverging(folder: Path, name: str = "lr-too-high") -> Path:
    """A run whose loss explodes to NaN a third of the way in (flagged as diverging)."""
    return write_run(folder / name, 6000, curve_lines(6000, 50, 500, seed=3, diverge_at=0.3))


def write_run(run_dir: Path, max_iters: int, lines: list[str]) -> Path:
    """A complete MMSeg 0.x JSON log (meta line first) in ``run_dir``."""
    path = run_dir / LOG_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([meta_line(max_iters), *lines]) + "\n", encoding="utf-8")
    return path


class GrowingRun(threading.Thread):
    """Appends one line every ``interval_s`` seconds to a run's log until done or stopped."""

    def __init__(self, folder: Path, name: str = "live-run", interval_s: float = 0.5) -> None:
        super().__init__(daemon=True, name="segwatch-demo-writer")
        self.path = folder / name / LOG_NAME
        self.interval_s = interval_s
        self.stop_event = threading.Event()
        self.lines = curve_lines(20000, 50, 1000, seed=2)

    def run(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(meta_line(20000) + "\n")
            for line in self.lines:
                if self.stop_event.wait(self.interval_s):
                    return
                fh.write(line + "\n")
                fh.flush()


def start_demo(folder: Path, interval_s: float = 0.5) -> GrowingRun:
    """Write two finished runs and start the growing one; returns its writer thread."""
    write_finished(folder)
    write_diverging(folder)
    writer = GrowingRun(folder, interval_s=interval_s)
    writer.start()
    return writer
