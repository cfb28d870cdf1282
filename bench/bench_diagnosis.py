"""Benchmark: diagnosing 100 runs of 40k iterations (target: under 5 s in total).

Each run: loss and lr logged every 10 iterations (4,000 points each), an evaluation every 1,000
iterations (40 evals) with mIoU, aAcc and 19 per-class IoUs; behaviours mixed (rising, plateau,
overfitting, NaN). Prints the total, per-run time and how many runs got each status.

    python bench/bench_diagnosis.py [--runs 100]
"""

from __future__ import annotations

import argparse
import collections
import statistics
import time

import numpy as np

from metrics.diagnosis import diagnose_table
from metrics.schema import concat_tables, make_table


def series(metric: str, split: str, steps: np.ndarray, values: np.ndarray):
    n = len(steps)
    return make_table(run="r", step=steps, split=[split] * n, metric=[metric] * n, value=values,
                      wall_time=1.7e9 + steps * 0.5)  # fmt: skip


def make_run(i: int, rng: np.random.Generator):
    it = np.arange(10, 40_001, 10)
    ev = np.arange(1000, 40_001, 1000)
    kind = i % 4
    loss = 2.0 * np.exp(-it / 8000) + 0.3 + 0.05 * rng.standard_normal(len(it))
    if kind == 3:
        loss[it > 30000] = np.nan
    x = ev / 40000
    miou = {
        0: 0.7 * (1 - np.exp(-4 * x)),
        1: np.minimum(0.55, 0.9 * x),
        2: 0.6 - 0.5 * (x - 0.5) ** 2,
    }
    m = miou.get(kind, 0.5 * x) + 0.005 * rng.standard_normal(len(ev))
    parts = [
        series("loss", "train", it, loss),
        series("lr", "train", it, 0.01 * (1 - it / 40000) ** 0.9),
        series("miou", "val", ev, m),
        series("aacc", "val", ev, 0.9 + 0.05 * x),
    ]
    for c in range(19):
        parts.append(
            series(
                f"iou/class{c}", "val", ev, np.clip(m + 0.1 * rng.standard_normal(len(ev)), 0, 1)
            )
        )
    return concat_tables(parts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    tables = [make_run(i, rng) for i in range(args.runs)]
    meta = {"planned_steps": 40000, "num_classes": 19}
    diagnose_table(tables[0], meta)  # warm imports
    times, statuses = [], collections.Counter()
    start = time.perf_counter()
    for t in tables:
        a = time.perf_counter()
        statuses[diagnose_table(t, meta).status] += 1
        times.append(time.perf_counter() - a)
    total = time.perf_counter() - start
    print(f"diagnosed {args.runs} runs of 40k iterations in {total:.2f} s "
          f"(target < 5 s: {'met' if total < 5 else 'NOT met'}); "
          f"median {statistics.median(times) * 1000:.1f} ms/run, max {max(times) * 1000:.1f} ms")  # fmt: skip
    print("statuses:", dict(statuses))


if __name__ == "__main__":
    main()
