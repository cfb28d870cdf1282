"""Benchmark of ``segwatch check`` at scale, and of the dashboard's idle and live costs.

Builds N runs from copies of the bundled runs (``sample_logs/``, copied round-robin into a
temporary folder), then times whole commands (subprocess, wall time, median of ``--repeat``):

* baseline: ``check --json --no-cache --workers 1`` (every run read, one process);
* cold: ``check --json`` with an empty ``--cache-dir`` (default workers: the CPU count);
* warm: the same again on unchanged files (every run from the summary cache);

each with its CPU seconds (the command and its workers, user + sys), steadier than the wall
time on a machine shared with other work;

the peak memory of ``check --json --no-cache --workers 1`` on a 1M-line PaddleSeg log
(generated as ``bench_readers.py`` does) against the file's size; and, in process, the
dashboard's cost of one rerun over N unchanged runs (stat, cached state, cached row) and of
a live refresh of the 1M-line run after 100 appended lines. Every ratio is against a baseline
measured in the same run. ``--write`` appends the table to bench/RESULTS.md.

    python bench/bench_scale.py [--runs 600] [--repeat 3] [--lines 1000000] [--write]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from bench_readers import gen_paddleseg  # noqa: E402

from metrics.runs import discover_runs  # noqa: E402

CHECK = [sys.executable, "-m", "dashboard.cli", "check"]


def make_runs(dest: Path, n: int) -> int:
    """``n`` runs copied round-robin from the bundled ones; the number discovered."""
    folders = sorted({s.path for s in discover_runs(str(REPO / "sample_logs"))})
    for i in range(n):
        src = Path(folders[i % len(folders)])
        shutil.copytree(src, dest / f"r{i:05d}" / src.name)
    return len(discover_runs(str(dest)))


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds of ``cmd`` and the CPU seconds (user + sys) of it and its worker processes:
    on a machine shared with other work the CPU figure moves much less than the wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def peak_mb(cmd: list[str]) -> float:
    """Peak RSS (MB) of ``cmd`` run in a fresh child of a fresh interpreter."""
    code = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL,"
        " stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True)
    return int(out.stdout.strip()) / 1024


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def dashboard_idle(logdir: Path, reruns: int = 5) -> tuple[float, float]:
    """CPU seconds of one dashboard rerun over every run (first load, then unchanged)."""
    import dashboard.cache as cache

    cache.clear()
    sources = discover_runs(str(logdir))
    t0 = time.process_time()
    for s in sources:
        state = cache.run_state(s)
        if state.run is not None:
            cache.row(state)
    first = time.process_time() - t0
    costs = []
    for _ in range(reruns):
        t0 = time.process_time()
        for s in discover_runs(str(logdir)):
            state = cache.run_state(s)
            if state.run is not None:
                cache.row(state)
        costs.append(time.process_time() - t0)
    return first, median(costs)


def live_refresh(log: Path, repeat: int) -> float:
    """Seconds of ``LiveRun.refresh()`` after 100 lines appended to the 1M-line run."""
    from metrics.runs import LiveRun

    run = LiveRun(discover_runs(str(log.parent))[0])
    run.refresh()
    step = int(run.state.run.table["step"].max()) if run.state.run is not None else 0
    times = []
    for _ in range(max(repeat, 5)):
        lines = []
        for _ in range(100):  # the run goes on: later steps (a step going back is a relaunch)
            step += 10
            lines.append(
                f"2021-12-06 00:00:00 [INFO]\t[TRAIN] epoch: 1, iter: {step}/{step * 2}, "
                "loss: 0.5000, lr: 0.001000, batch_cost: 0.1978, reader_cost: 0.00091, "
                "ips: 20.2202 samples/sec | ETA 06:22:27\n"
            )
        with open(log, "a") as fh:
            fh.writelines(lines)
        t0 = time.perf_counter()
        run.refresh()
        times.append(time.perf_counter() - t0)
    return median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=600)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        logdir = Path(tmp) / "runs"
        n = make_runs(logdir, args.runs)
        bases = [timed([*CHECK, str(logdir), "--json", "--no-cache", "--workers", "1"])
                 for _ in range(args.repeat)]  # fmt: skip
        colds, warms = [], []
        for i in range(args.repeat):
            cdir = Path(tmp) / f"cache{i}"
            colds.append(timed([*CHECK, str(logdir), "--json", "--cache-dir", str(cdir)]))
            warms.append(timed([*CHECK, str(logdir), "--json", "--cache-dir", str(cdir)]))
        (base, base_cpu), (cold, cold_cpu), (warm, warm_cpu) = (
            (median([w for w, _ in xs]), median([c for _, c in xs])) for xs in (bases, colds, warms)
        )

        def cpu(c: float) -> str:
            return f"{c:.1f} CPU-s, {1000 * c / n:.1f} ms per run"

        rows += [
            (f"check --json, {n} runs, --no-cache --workers 1 (baseline)",
             f"{base:.2f} s ({cpu(base_cpu)})"),
            (f"check --json, {n} runs, cold cache, {os.cpu_count()} workers",
             f"{cold:.2f} s ({base / cold:.1f}× faster; {cpu(cold_cpu)})"),
            (f"check --json, {n} runs, unchanged files (warm cache)",
             f"{warm:.2f} s ({base / warm:.1f}× faster; {warm_cpu:.2f} CPU-s)"),
        ]  # fmt: skip
        first, idle = dashboard_idle(logdir)
        rows += [
            (f"dashboard: first read of {n} runs (state + row, in process)", f"{first:.2f} CPU-s"),
            (f"dashboard: one rerun over {n} unchanged runs", f"{idle:.3f} CPU-s"),
            ("dashboard: per 30 s with a tab open (6 reruns at 5 s, each with its discovery)",
             f"{6 * idle:.2f} CPU-s"),
        ]  # fmt: skip
    data = HERE / "_data" / "scale"
    data.mkdir(parents=True, exist_ok=True)
    log = data / "run" / f"train_{args.lines}.log"
    log.parent.mkdir(exist_ok=True)
    gen_paddleseg(log, args.lines)
    size = log.stat().st_size / 2**20
    peak = peak_mb([*CHECK, str(log.parent), "--json", "--no-cache", "--workers", "1"])
    rows.append((f"check on a {args.lines:,}-line log ({size:.0f} MB): peak memory",
                 f"{peak:.0f} MB ({peak / size:.2f}× the file)"))  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:  # appended to a copy: the log stays as made
        live = Path(tmp) / "run" / log.name
        live.parent.mkdir()
        shutil.copyfile(log, live)
        refresh = live_refresh(live, args.repeat)
    rows.append(("live refresh of that run after 100 appended lines", f"{refresh * 1000:.0f} ms"))
    table = ["| measurement | result (median) |", "|---|---|"]
    table += [f"| {a} | {b} |" for a, b in rows]
    print("\n".join(table))
    if args.write:
        stamp = time.strftime("%Y-%m-%d", time.gmtime())
        with open(HERE / "RESULTS.md", "a") as fh:
            fh.write(f"\n## Scale: check, cache, workers, dashboard idle ({stamp}, "
                     f"`python bench/bench_scale.py --runs {args.runs} --repeat {args.repeat}`)\n\n")  # fmt: skip
            fh.write("\n".join(table) + "\n")


if __name__ == "__main__":
    main()
