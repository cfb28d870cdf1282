"""Benchmark of the trend statistics: a 1,000,000-point train loss plus 100 evals of mIoU.

Target: the whole set of trend statistics under 200 ms. Theil–Sen (O(n² log n)) and
Mann–Kendall (O(n²)) never see the 1M raw points: the loss is first cut to its per-eval-interval
means (one point per eval, O(n) with ``np.bincount``) and the O(n²) statistics run on those 100
points. The O(n) statistics (range table, noise level) do run on all 1M points. The forecast
(a 200-sample parametric bootstrap) is timed separately, as is, for scale, Theil–Sen + MK on
raw points. Every figure is the median of ``--repeat`` runs after one warm-up, measured now.

    python bench/bench_trends.py [--points 1000000] [--evals 100] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from metrics.stats.forecast import forecast
from metrics.stats.intervals import interval_means, loss_vs_metric, spearman
from metrics.stats.trends import best, noise_level, progress, range_stats, recent_gain, trend


def make_run(points: int, evals: int) -> tuple[np.ndarray, ...]:
    """A synthetic run: decaying noisy loss at every step, saturating noisy mIoU at the evals."""
    rng = np.random.default_rng(0)
    steps = np.arange(1, points + 1, dtype=np.int64)
    loss = 0.3 + 2.0 * np.exp(-steps / (points / 5)) + rng.normal(0, 0.05, points)
    eval_steps = np.linspace(points / evals, points, evals).astype(np.int64)
    miou = 0.72 - 0.5 * (eval_steps / points * 10) ** -0.6 + rng.normal(0, 0.005, evals)
    return steps, loss, eval_steps, np.minimum(miou, 1.0)


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``fn`` in milliseconds, after one warm-up call."""
    fn()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--evals", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    steps, loss, esteps, miou = make_run(args.points, args.evals)
    means, _ = interval_means(steps, loss, esteps)

    parts: dict[str, Callable[[], object]] = {
        "range table, 1M loss": lambda: range_stats(steps, loss),
        "noise level, 1M loss": lambda: noise_level(loss),
        "interval means, 1M → evals": lambda: interval_means(steps, loss, esteps),
        "trend (Theil–Sen+MK), loss means": lambda: trend(esteps, means),
        "trend (Theil–Sen+MK), mIoU": lambda: trend(esteps, miou),
        "range/best/recent gain, mIoU": lambda: (
            range_stats(esteps, miou),
            best(esteps, miou, "max"),
            recent_gain(miou, 5),
        ),
        "progress verdict, mIoU": lambda: progress(esteps, miou, "max"),
        "loss vs mIoU + Spearman": lambda: spearman(
            *loss_vs_metric(steps, loss, esteps, miou)[["train_mean", "value"]].T.to_numpy()
        ),
    }
    print(f"{args.points:,} loss points, {args.evals} evals; median of {args.repeat} runs\n")
    total = 0.0
    for name, fn in parts.items():
        ms = timed(fn, args.repeat)
        total += ms
        print(f"  {name:<36} {ms:8.2f} ms")
    verdict = "under" if total < 200 else "OVER"
    print(f"  {'total':<36} {total:8.2f} ms  ({verdict} the 200 ms target)\n")

    plan = int(esteps[-1] * 2)
    fc = timed(lambda: forecast(esteps, miou, last_step=plan, target=0.7), args.repeat)
    print(f"  {'forecast (200 bootstrap refits)':<36} {fc:8.2f} ms  (not in the total)")
    for n in (1000, 4000):
        raw = timed(lambda n=n: trend(steps[:n], loss[:n], max_points=n), max(1, args.repeat // 2))
        print(f"  {f'trend on {n:,} raw loss points':<36} {raw:8.2f} ms  (for scale: O(n²))")


if __name__ == "__main__":
    main()
