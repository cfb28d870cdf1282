"""Benchmark of ``segwatch check`` at scale, and of the dashboard's idle and live costs.

Builds N runs from copies of the bundled runs (``sample_logs/``, copied round-robin into a
temporary folder), then times whole commands (subprocess, wall time, median of ``--repeat``):

* baseline: ``check --json --no-cache --workers 1`` (every run read, one process);
* cold: ``check --json`` with an empty ``--cache-dir`` (default workers: the CPU count);
* warm: the same again on unchanged files (every run from the summary cache);

each with its CPU seconds (the command and its workers, user + sys), steadier than the wall
time on a machine shared with other work;

the peak memory of ``check --json --no-cache --workers 1`` on a 1M-line PaddleSeg log
(generated as ``bench_readers.py`` does) against the file's size; and a live refresh of the
1M-line run after 100 appended lines.

The dashboard (``segwatch serve`` in a subprocess, a Chromium tab through Playwright, the
copies dated 3 days back so no run is live):

* baseline: the overview as it was before issue 15 (the source tree of ``BASE_COMMIT``,
  served the same way): every run's table read and kept;
* overview of ``--overview-runs`` runs, cold (empty summary cache): server start to the table
  in the tab (rows still being read show as "reading…"), and to the complete table;
* the same from the summary cache (a new server, the cache filled by the cold one);
* the server's memory (RSS) once the table is complete, with and without its helper processes;
* one tab open on the ``--runs`` unchanged runs: the server's CPU time over 30 s, before
  and now.

Every ratio is against a baseline measured in the same run. ``--write`` appends the table to
bench/RESULTS.md.

    python bench/bench_scale.py [--runs 600] [--overview-runs 1000] [--repeat 3]
                                [--lines 1000000] [--before REV] [--check-only | --dashboard-only]
                                [--write]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from bench_browser import serve_page  # noqa: E402
from bench_readers import gen_paddleseg  # noqa: E402

from metrics.runs import discover_runs  # noqa: E402
from tests.test_browser import ARGS, CHROMIUM  # noqa: E402

CHECK = [sys.executable, "-m", "dashboard.cli", "check"]


def make_runs(dest: Path, n: int, age_s: float = 3 * 86400) -> int:
    """``n`` runs copied round-robin from the bundled ones, their files dated ``age_s`` back
    (finished runs, not live); the number discovered."""
    folders = sorted({s.path for s in discover_runs(str(REPO / "sample_logs"))})
    for i in range(n):
        src = Path(folders[i % len(folders)])
        shutil.copytree(src, dest / f"r{i:05d}" / src.name)
    then = time.time() - age_s
    for path in dest.rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))
    return len(discover_runs(str(dest)))


def timed(cmd: list[str], cwd: Path = REPO) -> tuple[float, float]:
    """Wall seconds of ``cmd`` and the CPU seconds (user + sys) of it and its worker processes:
    on a machine shared with other work the CPU figure moves much less than the wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, cwd=cwd)
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


#: The overview before issue 15's item 3 (every run's table read and kept): the baseline.
BASE_COMMIT = "cde3740"


def base_tree(dest: Path, commit: str = BASE_COMMIT) -> tuple[Path, str]:
    """The source tree of ``commit``, to serve as the baseline."""
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", commit], cwd=REPO, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest, commit[:7]


def _proc_mb(pid: int) -> float:
    """RSS (MB) of a process from /proc."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    kids = [int(p) for p in out.stdout.split()]
    return kids + [g for k in kids for g in _children(k)]


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (its own threads)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def complete(n: int) -> re.Pattern[str]:
    """The overview's caption once every one of ``n`` runs is read (none "reading…")."""
    return re.compile(rf"^{n} of {n} runs(?! · reading)")


def overview_load(  # type: ignore[no-untyped-def]
    browser, logdir: Path, n: int, flags: Sequence[str] = (), cwd: Path = REPO, idle_s: float = 0
) -> dict[str, float]:
    """A new server on ``logdir`` and one tab. Seconds: ``start`` (server start to its health
    check answering), ``first`` (the tab opened to the table shown), ``complete`` (to every row
    read), ``again`` (a second tab to the table); ``mb`` (server RSS), ``total`` (with its
    helper processes); ``idle`` (server CPU-s over ``idle_s`` with the first tab open)."""
    t0 = time.perf_counter()
    with serve_page(logdir, flags, cwd) as (url, pid):
        out = {"start": time.perf_counter() - t0}
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        t1 = time.perf_counter()
        page.goto(url)
        page.get_by_text(f"of {n} runs").first.wait_for(timeout=900_000)
        page.locator("[data-testid=stDataFrame]").first.wait_for(timeout=900_000)
        out["first"] = time.perf_counter() - t1
        page.get_by_text(complete(n)).wait_for(timeout=900_000)
        out["complete"] = time.perf_counter() - t1
        time.sleep(5)  # the page settles (its last rerun, helper processes going away)
        out["mb"] = _proc_mb(pid)
        out["total"] = out["mb"] + sum(_proc_mb(k) for k in _children(pid))
        if idle_s:
            c0 = _cpu_s(pid)
            time.sleep(idle_s)
            out["idle"] = _cpu_s(pid) - c0
        second = browser.new_page(viewport={"width": 1400, "height": 1000})
        t2 = time.perf_counter()
        second.goto(url)
        second.get_by_text(complete(n)).wait_for(timeout=900_000)
        out["again"] = time.perf_counter() - t2
        second.close()
        page.close()
    return out


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


def dashboard_rows(
    args: argparse.Namespace, tmp: str, logdir: Path, n: int
) -> list[tuple[str, str]]:
    """The dashboard's rows: idle CPU before/now, the 1000-run overview cold and from the cache."""
    rows: list[tuple[str, str]] = []
    base, commit = base_tree(Path(tmp) / "base")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        idle0 = overview_load(browser, logdir, n, cwd=base, idle_s=30)["idle"]
        flags = ["--cache-dir", str(Path(tmp) / "idle-cache")]
        idle = overview_load(browser, logdir, n, flags, idle_s=30)["idle"]
        rows.append((f"dashboard: one tab open on {n} unchanged runs, server CPU per 30 s",
                     f"{idle:.2f} CPU-s (before, {commit}: {idle0:.2f}; {idle0 / idle:.1f}× less)"))  # fmt: skip
        big = Path(tmp) / "overview"
        m = make_runs(big, args.overview_runs)
        b = overview_load(browser, big, m, cwd=base)
        flags = ["--cache-dir", str(Path(tmp) / "overview-cache")]
        c = overview_load(browser, big, m, flags)
        w = overview_load(browser, big, m, flags)
        browser.close()
    bt = b["start"] + b["complete"]
    rows += [
        (f"overview of {m} runs before ({commit}, baseline): server start to the table "
         "(start + first tab)", f"{bt:.2f} s ({b['start']:.2f} + {b['complete']:.2f})"),
        (f"overview of {m} runs, cold (empty summary cache): server start to the table",
         f"{c['start'] + c['first']:.2f} s ({c['start']:.2f} + {c['first']:.2f}; "
         f"{bt / (c['start'] + c['first']):.1f}× faster)"),
        (f"overview of {m} runs, cold: to the complete table (every run read)",
         f"{c['start'] + c['complete']:.2f} s ({bt / (c['start'] + c['complete']):.1f}× faster)"),
        (f"overview of {m} runs from the summary cache (new server): start to the table",
         f"{w['start'] + w['complete']:.2f} s ({w['start']:.2f} + {w['complete']:.2f}; "
         f"{bt / (w['start'] + w['complete']):.1f}× faster)"),
        (f"overview of {m} runs, first tab on a started server: before / cold / from cache",
         f"{b['complete']:.2f} / {c['first']:.2f} (complete {c['complete']:.2f}) / "
         f"{w['complete']:.2f} s"),
        (f"overview of {m} runs, a second tab: before / now", f"{b['again']:.2f} / "
         f"{w['again']:.2f} s"),
        (f"server memory (RSS) after the {m}-run overview: before / cold / from the cache",
         f"{b['mb']:.0f} / {c['mb']:.0f} / {w['mb']:.0f} MB "
         f"({b['mb'] / max(c['mb'], w['mb']):.1f}× less)"),
        ("the same with the server's child processes, cold / from the cache",
         f"{c['total']:.0f} / {w['total']:.0f} MB"),
    ]  # fmt: skip
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=600)
    ap.add_argument("--overview-runs", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--dashboard-only", action="store_true", help="skip check and the 1M-line log")
    ap.add_argument("--check-only", action="store_true", help="skip the dashboard (no browser)")
    ap.add_argument(
        "--before", metavar="REV", help="also time the cold check of this commit (same run)"
    )
    args = ap.parse_args()
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        logdir = Path(tmp) / "runs"
        n = make_runs(logdir, args.runs)
        if not args.dashboard_only:
            bases = [timed([*CHECK, str(logdir), "--json", "--no-cache", "--workers", "1"])
                     for _ in range(args.repeat)]  # fmt: skip
            colds, warms = [], []
            for i in range(args.repeat):
                cdir = Path(tmp) / f"cache{i}"
                colds.append(timed([*CHECK, str(logdir), "--json", "--cache-dir", str(cdir)]))
                warms.append(timed([*CHECK, str(logdir), "--json", "--cache-dir", str(cdir)]))
            befores = []
            if args.before:  # interleaved with nothing else: its own cold cache each time
                tree, rev = base_tree(Path(tmp) / "before", args.before)
                for i in range(args.repeat):
                    cdir = Path(tmp) / f"cache-before{i}"
                    cmd = [*CHECK, str(logdir), "--json", "--cache-dir", str(cdir)]
                    befores.append(timed(cmd, cwd=tree))
            (base, base_cpu), (cold, cold_cpu), (warm, warm_cpu) = (
                (median([w for w, _ in xs]), median([c for _, c in xs]))
                for xs in (bases, colds, warms)
            )

            def cpu(c: float) -> str:
                return f"{c:.1f} CPU-s, {1000 * c / n:.1f} ms per run"

            rows += [
                (f"check --json, {n} runs, --no-cache --workers 1 (baseline)",
                 f"{base:.2f} s ({cpu(base_cpu)})"),
                (f"check --json, {n} runs, cold cache, {os.cpu_count()} workers",
                 f"{cold:.2f} s ({base / cold:.1f}× faster; {cpu(cold_cpu)})"),
                *([(f"check --json, {n} runs, cold cache, at {rev} (before this change)",
                    f"{median([w for w, _ in befores]):.2f} s "
                    f"({cpu(median([c for _, c in befores]))})")] if befores else []),
                (f"check --json, {n} runs, unchanged files (warm cache)",
                 f"{warm:.2f} s ({base / warm:.1f}× faster; {warm_cpu:.2f} CPU-s)"),
            ]  # fmt: skip
        if not args.check_only:
            rows += dashboard_rows(args, tmp, logdir, n)
    if not args.dashboard_only:
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
        rows.append(
            ("live refresh of that run after 100 appended lines", f"{refresh * 1000:.0f} ms")
        )
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
