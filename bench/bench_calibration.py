"""Calibration of the plateau verdict: how often still-improving runs are called stalled, and
how often runs that really flattened are caught.

Simulates validation-mIoU curves the way runs look: exponential, power-law, logarithmic and
linear shapes, 8–60 evals, eval-to-eval scatter 0.002–0.02 (normal noise). "Improving" runs
still gain at least 4× their scatter over their last third of evals; "plateaued" runs rise for
the first 60 % of their evals and are flat for the last 40 %; "fresh plateaus" are improving
runs that then stay flat for 4 or 6 more evals (what a live user should be told about early). Every
run goes through ``diagnose_table`` as a run still training (no planned steps), and counts as
"called stalled" when its status is ``stalled``.

Targets: ≤ 5 % of improving runs called stalled, ≥ 90 % of plateaued runs caught.

    python bench/bench_calibration.py [--runs 1000] [--seed 0]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from metrics.diagnosis import diagnose_table
from metrics.schema import make_table

SHAPES = ("exponential", "power", "log", "linear")
EVERY = 1000  # steps between evals


def shape(kind: str, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A rising curve on x in [0, 1], 0 at x = 0, increasing (its scale is set by the caller)."""
    if kind == "exponential":
        tau = rng.uniform(0.25, 1.0)  # time constant as a fraction of the run: still rising
        return 1 - np.exp(-x / tau)
    if kind == "power":
        c = rng.uniform(0.3, 0.8)
        return (x + 0.05) ** c - 0.05**c
    if kind == "log":
        return np.log1p(rng.uniform(5, 40) * x)
    return x.copy()


def improving_curve(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    """A true mIoU curve over ``n`` evals that gains 4–10 σ over its last third."""
    x = np.arange(1, n + 1) / n
    f = shape(str(rng.choice(SHAPES)), x, rng)
    k = math.ceil(n / 3)
    want = float(rng.uniform(4.0, 10.0)) * sigma
    return 0.2 + f * (want / (f[-1] - f[-k]))


def improving_run(rng: np.random.Generator) -> np.ndarray:
    """mIoU that still gains ≥ 4 σ over its last third."""
    n, sigma = int(rng.integers(8, 61)), float(rng.uniform(0.002, 0.02))
    return improving_curve(rng, n, sigma) + rng.normal(0, sigma, n)


def plateau_run(rng: np.random.Generator) -> np.ndarray:
    """mIoU that rises clearly, then stays flat for its last 40 % of evals."""
    n, sigma = int(rng.integers(8, 61)), float(rng.uniform(0.002, 0.02))
    n_flat = max(3, round(0.4 * n))
    n_rise = n - n_flat
    f = shape(str(rng.choice(SHAPES)), np.arange(1, n_rise + 1) / n_rise, rng)
    rise = float(rng.uniform(6.0, 30.0)) * sigma
    curve = np.r_[0.2 + f / f[-1] * rise, np.full(n_flat, 0.2 + rise)]
    return curve + rng.normal(0, sigma, n)


def fresh_plateau_run(rng: np.random.Generator, flat: int) -> np.ndarray:
    """An improving run (as above, 8–56 evals) that then stays flat for ``flat`` more evals."""
    n, sigma = int(rng.integers(8, 57)), float(rng.uniform(0.002, 0.02))
    rise = improving_curve(rng, n, sigma)
    curve = np.r_[rise, np.full(flat, rise[-1])]
    return curve + rng.normal(0, sigma, len(curve))


def status_of(miou: np.ndarray) -> str:
    steps = np.arange(1, len(miou) + 1) * EVERY
    table = make_table(
        run="sim",
        step=steps,
        split=["val"] * len(steps),
        metric=["miou"] * len(steps),
        value=miou,
        wall_time=np.full(len(steps), np.nan),
    )
    return diagnose_table(table).status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="runs per class (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    classes = {
        "improving": [improving_run(rng) for _ in range(args.runs)],
        "plateaued (last 40 % flat)": [plateau_run(rng) for _ in range(args.runs)],
        "fresh plateau (last 4 flat)": [fresh_plateau_run(rng, 4) for _ in range(args.runs)],
        "fresh plateau (last 6 flat)": [fresh_plateau_run(rng, 6) for _ in range(args.runs)],
    }
    counts = {name: Counter(status_of(m) for m in runs) for name, runs in classes.items()}
    elapsed = time.perf_counter() - t0
    print(f"{args.runs} simulated runs per class, seed {args.seed} ({elapsed:.1f} s)\n")
    print(f"  {'simulated':<30} {'called stalled':>15} {'not stalled':>12}   statuses")
    for name, c in counts.items():
        stalled = c["stalled"]
        other = sum(c.values()) - stalled
        detail = ", ".join(f"{k} {v}" for k, v in sorted(c.items()))
        print(f"  {name:<30} {stalled:>15} {other:>12}   {detail}")
    false_stall = counts["improving"]["stalled"] / args.runs
    caught = counts["plateaued (last 40 % flat)"]["stalled"] / args.runs
    ok_false = "met" if false_stall <= 0.05 else "NOT met"
    ok_caught = "met" if caught >= 0.90 else "NOT met"
    print(f"\n  improving runs called stalled: {false_stall:.1%} (target ≤ 5 %: {ok_false})")
    print(f"  plateaued runs caught:         {caught:.1%} (target ≥ 90 %: {ok_caught})")
    for flat in (4, 6):
        rate = counts[f"fresh plateau (last {flat} flat)"]["stalled"] / args.runs
        print(f"  plateau caught {flat} evals after its start: {rate:.1%}")


if __name__ == "__main__":
    main()
