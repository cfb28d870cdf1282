"""Benchmark the dashboard: server-side rerun times, figure payload, live refresh cost.

    python bench/bench_dashboard.py [--steps 1000000] [--runs 100]

Measures (AppTest timing, warm caches): one rerun of the run page for a run of ``--steps``
train steps; one rerun of the overview with ``--runs`` runs; bytes of figure JSON per trace;
one live refresh (``LiveRun.refresh``) after 100 appended lines. Prints each with its target.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dashboard.cli.demo import curve_lines, meta_line, write_finished  # noqa: E402

APP = str(REPO / "dashboard" / "app.py")
TARGETS = {"run": 0.300, "overview": 1.0, "payload": 150_000, "live": 0.050}


def write_big_csv(folder: Path, steps: int, eval_every: int = 5000) -> None:
    """A generic CSV run: loss and lr every step, val mIoU every ``eval_every`` steps."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    s = np.arange(1, steps + 1)
    loss = 0.3 + 1.5 * np.exp(-s / (steps / 6)) + rng.normal(0, 0.05, steps)
    loss[steps // 2] = np.nan
    lr = 0.01 * (1 - s / steps) ** 0.9
    with open(folder / "metrics.csv", "w") as fh:
        fh.write("step,train_loss,lr,val_miou\n")
        block = np.column_stack([s, loss, lr])
        np.savetxt(fh, block, fmt=["%d", "%.5f", "%.6g"], delimiter=",", newline=",\n")
        ev = np.arange(eval_every, steps + 1, eval_every)
        miou = 0.7 - 0.5 * (ev / eval_every) ** -0.6
        for e, m in zip(ev, miou, strict=True):
            fh.write(f"{e},,,{m:.4f}\n")


def timed_reruns(at, n: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
    assert not at.exception, [e.value for e in at.exception]
    return statistics.median(times)


def bench_run_page(root: Path, steps: int) -> tuple[float, float, float, int]:
    from streamlit.testing.v1 import AppTest

    write_big_csv(root / "big", steps)
    os.environ["SEGWATCH_LOGDIR"] = str(root)
    at = AppTest.from_file(APP, default_timeout=600)
    at.run()
    at.query_params["run"] = "big"
    at.switch_page("views/run.py")
    t0 = time.perf_counter()
    at.run()
    cold = time.perf_counter() - t0
    warm = timed_reruns(at)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    sizes = [len(json.dumps(t)) for t in spec["data"]]
    return cold, warm, max(sizes), len(sizes)


def bench_overview(root: Path, runs: int) -> tuple[float, float]:
    from streamlit.testing.v1 import AppTest

    for i in range(runs):
        write_finished(root, f"run-{i:03d}")
    os.environ["SEGWATCH_LOGDIR"] = str(root)
    at = AppTest.from_file(APP, default_timeout=600)
    t0 = time.perf_counter()
    at.run()
    cold = time.perf_counter() - t0
    return cold, timed_reruns(at)


def bench_live(root: Path, lines: int) -> tuple[float, float]:
    from metrics.runs import discover_runs
    from metrics.runs.live import LiveRun

    path = root / "grow" / "20240611_120000.log.json"
    path.parent.mkdir(parents=True)
    body = curve_lines(lines * 50, 50, 5000)
    path.write_text(meta_line(lines * 50) + "\n" + "\n".join(body[:lines]) + "\n")
    (source,) = discover_runs(str(root))
    live = LiveRun(source)
    t0 = time.perf_counter()
    live.refresh()
    first = time.perf_counter() - t0
    times = []
    for k in range(5):
        more = curve_lines(lines * 50 + 50 * 100 * (k + 1), 50, 5000)[len(body) :][:100]
        body += more
        with open(path, "a") as fh:
            fh.write("\n".join(more) + "\n")
        t0 = time.perf_counter()
        state = live.refresh()
        times.append(time.perf_counter() - t0)
        assert state.error is None
    return first, statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=1_000_000)
    p.add_argument("--runs", type=int, default=100)
    p.add_argument("--live-lines", type=int, default=20_000)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cold, warm, payload, ntr = bench_run_page(root / "a", args.steps)
        _report(
            f"run page, {args.steps:,} steps (first view {cold:.2f} s)", warm, TARGETS["run"], "s"
        )
        _report(f"figure JSON, largest of {ntr} traces", payload, TARGETS["payload"], "B")
        cold, warm = bench_overview(root / "b", args.runs)
        _report(f"overview, {args.runs} runs (cold {cold:.2f} s)", warm, TARGETS["overview"], "s")
        first, live = bench_live(root / "c", args.live_lines)
        label = f"live refresh, +100 lines on {args.live_lines:,} (first read {first:.2f} s)"
        _report(label, live, TARGETS["live"], "s")


def _report(what: str, value: float, target: float, unit: str) -> None:
    shown = f"{value * 1000:8.1f} ms" if unit == "s" else f"{value / 1000:8.1f} KB"
    goal = f"{target * 1000:.0f} ms" if unit == "s" else f"{target / 1000:.0f} KB"
    verdict = "ok" if value <= target else "OVER"
    print(f"{what:<62} {shown}  target {goal:>7}  ratio {value / target:5.2f}  {verdict}")


if __name__ == "__main__":
    main()
