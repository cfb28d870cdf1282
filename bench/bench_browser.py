"""Benchmark the dashboard as a person meets it: navigation to visible content in Chromium.

    python bench/bench_browser.py [--repeat 5] [--runs 200]

Drives Debian's ``/usr/bin/chromium`` with Playwright (it cannot download its own browser here)
against ``segwatch serve`` in a subprocess. Each measurement opens a fresh browser page (a new
Streamlit session) and times ``goto`` until the content is on screen:

- overview of the bundled sample logs: the runs table and its "N of N runs" caption;
- Run page of one sample run: its chart with the val mIoU trace drawn;
- overview of ``--runs`` runs, cold: a new server each time, the first page it serves.

Prints the median of ``--repeat`` measurements with its target.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dashboard.cli.demo import write_finished  # noqa: E402
from tests.test_browser import ARGS, CHROMIUM  # noqa: E402  (one set of launch flags)

TARGETS = {"overview": 1.5, "run": 1.5, "many": 3.0}
RUN = "paddleseg/deeplabv3p_cityscapes_healthy"
MIOU_DRAWN = (
    "() => [...document.querySelectorAll('.js-plotly-plot')]"
    ".some(p => p.data && p.data.some(t => t.name === 'val mIoU'))"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(logdir: Path) -> Iterator[str]:
    """``segwatch serve logdir`` on a free port until the block ends."""
    with serve_page(logdir) as (url, _):
        yield url


@contextmanager
def serve_page(
    logdir: Path, flags: Sequence[str] = (), cwd: Path = REPO
) -> Iterator[tuple[str, int]]:
    """``segwatch serve logdir *flags`` on a free port (the code of the source tree ``cwd``):
    its address and process id."""
    port = _free_port()
    cmd = [sys.executable, "-m", "dashboard.cli", "serve", str(logdir), "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, *flags], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def visit(browser, url: str, ready: Callable[[object], None]) -> float:  # type: ignore[no-untyped-def]
    """Seconds from navigation to ``ready(page)`` returning, in a fresh page (new session)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    t0 = time.perf_counter()
    page.goto(url)
    ready(page)
    took = time.perf_counter() - t0
    page.close()
    return took


def overview_ready(n: int) -> Callable[[object], None]:
    def ready(page) -> None:  # type: ignore[no-untyped-def]
        page.get_by_text(f"{n} of {n} runs").wait_for(timeout=120_000)
        page.locator("[data-testid=stDataFrame]").first.wait_for(timeout=120_000)

    return ready


def run_ready(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(MIOU_DRAWN, timeout=120_000)


def main() -> None:
    from playwright.sync_api import sync_playwright

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--runs", type=int, default=200)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        samples = Path(tmp) / "samples"
        shutil.copytree(REPO / "sample_logs", samples, copy_function=shutil.copy2)
        from metrics.runs import discover_runs

        n = len(discover_runs(str(samples)))
        with serve(samples) as url:
            visit(browser, url, overview_ready(n))  # the server's first read of every run
            times = [visit(browser, url, overview_ready(n)) for _ in range(args.repeat)]
            _report(f"overview, {n} sample runs", times, TARGETS["overview"])
            run_url = f"{url}/run?run={RUN}"
            visit(browser, run_url, run_ready)
            times = [visit(browser, run_url, run_ready) for _ in range(args.repeat)]
            _report("Run page, one sample run", times, TARGETS["run"])
        many = Path(tmp) / "many"
        for i in range(args.runs):
            write_finished(many, f"run-{i:03d}")
        times = []
        for _ in range(args.repeat):
            with serve(many) as url:
                times.append(visit(browser, url, overview_ready(args.runs)))
        _report(f"overview, {args.runs} runs, cold (new server)", times, TARGETS["many"])
        browser.close()


def _report(what: str, times: list[float], target: float) -> None:
    med = statistics.median(times)
    verdict = "ok" if med <= target else "OVER"
    spread = f"{min(times):.2f}–{max(times):.2f}"
    print(f"{what:<44} median {med:5.2f} s ({spread})  target {target:.1f} s  {verdict}")


if __name__ == "__main__":
    main()
