"""Benchmark of the core metrics: confusion_matrix throughput and memory, ema speed.

Run: ``.venv/bin/python bench/bench_metrics_core.py`` (about a minute; not a pytest test).
Every figure printed is measured in this run:

- ``confusion_matrix`` on 100 uint8 label maps of 1024×2048 (19 classes, ~5 % ignore pixels),
  against a plain per-image ``np.unique`` / per-class loop on the same maps (throughput in
  Mpx/s and the ratio; target: ≥ 5× faster; the two matrices are checked equal);
- peak memory of ``confusion_matrix`` on that batch (tracemalloc; numpy reports its buffers);
- ``ema`` on 1M points (median of several runs; target < 50 ms).
"""

from __future__ import annotations

import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from metrics.masks.miou import confusion_matrix
from metrics.stats.smoothing import ema

N_MAPS, H, W, K, IGNORE = 100, 1024, 2048, 19, 255
EMA_POINTS, EMA_RUNS = 1_000_000, 9


def make_batch(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Ground truth with ignore bands and a prediction that is right ~80 % of the time."""
    gt = rng.integers(0, K, (N_MAPS, H, W), dtype=np.uint8)
    gt[:, :48, :] = IGNORE  # e.g. the ego-vehicle / border band of Cityscapes
    pred = gt.copy()
    pred[gt == IGNORE] = 0
    noise = rng.random((N_MAPS, H, W), dtype=np.float32) < 0.2
    pred[noise] = rng.integers(0, K, int(noise.sum()), dtype=np.uint8)
    return pred, gt


def baseline_confusion(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """The plain way: per image, per ground-truth class, np.unique of the predictions."""
    cm = np.zeros((K, K), np.int64)
    for p, g in zip(pred, gt, strict=True):
        for c in np.unique(g[g != IGNORE]):
            vals, counts = np.unique(p[g == c], return_counts=True)
            cm[c, vals] += counts
    return cm


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def bench_confusion(pred: np.ndarray, gt: np.ndarray) -> None:
    pixels = pred.size
    fast = timed(lambda: confusion_matrix(pred, gt, K), 3)
    fast_mpx = pixels / statistics.median(fast) / 1e6
    t0 = time.perf_counter()
    slow_cm = baseline_confusion(pred, gt)
    slow = time.perf_counter() - t0
    slow_mpx = pixels / slow / 1e6
    same = np.array_equal(slow_cm, confusion_matrix(pred, gt, K))
    print(f"confusion_matrix: {N_MAPS} maps of {H}x{W} ({pixels / 1e6:.0f} Mpx), {K} classes")
    print(
        f"  segwatch : median {statistics.median(fast):.3f} s of {len(fast)} runs "
        f"-> {fast_mpx:,.0f} Mpx/s"
    )
    print(
        f"  baseline : {slow:.3f} s -> {slow_mpx:,.1f} Mpx/s "
        f"(np.unique per image and class; same matrix: {same})"
    )
    print(f"  speed-up : {fast_mpx / slow_mpx:.1f}x (target >= 5x)")
    tracemalloc.start()
    confusion_matrix(pred, gt, K)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    inputs = (pred.nbytes + gt.nbytes) / 2**20
    print(f"  peak memory of one call: {peak / 2**20:.1f} MiB (inputs held: {inputs:.0f} MiB)")


def bench_ema(rng: np.random.Generator) -> None:
    x = np.cumsum(rng.normal(size=EMA_POINTS)) * 0.01 + 5.0
    x[rng.random(EMA_POINTS) < 0.001] = np.nan
    runs = timed(lambda: ema(x, 0.6), EMA_RUNS)
    runs_999 = timed(lambda: ema(x, 0.999), EMA_RUNS)
    print(f"ema: {EMA_POINTS:,} points, median of {EMA_RUNS} runs (target < 50 ms)")
    print(f"  weight 0.6  : {statistics.median(runs) * 1e3:.1f} ms")
    print(f"  weight 0.999: {statistics.median(runs_999) * 1e3:.1f} ms")


def main() -> None:
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    pred, gt = make_batch(rng)
    print(f"(built the batch in {time.perf_counter() - t0:.1f} s)")
    bench_confusion(pred, gt)
    del pred, gt
    bench_ema(rng)
    print(f"(total {time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
