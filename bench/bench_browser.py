"""Benchmark the dashboard as a person meets it: navigation to visible content in Chromium.

    python bench/bench_browser.py [--repeat 5] [--runs 200]

Drives Debian's ``/usr/bin/chromium`` with Playwright (it cannot download its own browser here)
against ``segwatch serve`` in a subprocess. Each measurement opens a fresh browser page (a new
Streamlit session) and times ``goto`` until the content is on screen:

- overview of the bundled sample logs: the runs table and its "N of N runs" caption;
- Run page of one sample run: its chart with the val mIoU trace drawn;
- overview of ``--runs`` runs, cold: a new server each time, the first page it serves.

Same-run baselines, served with serve's own Streamlit options (so the ratios mean something):
a bare Streamlit page (a sidebar toggle, a title, a caption), the same with one small plotly
chart (waited for like the Run page's: a trace named "val mIoU" drawn), and the same with one
small data grid (``st.dataframe``, waited for like the overview's). They are the floor of what
Streamlit and plotly.js cost in this browser on this machine before any segwatch work. All
servers run side by side and each round visits every page once, so a shared machine's changing
load weighs on the pages and their floors alike; "over the floor" is the median of the paired
differences (a page against its floor in the same round). The cold overview is paired with a
visit to the data-grid floor just before each new server.

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
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dashboard.cli.demo import write_finished  # noqa: E402
from dashboard.cli.serve import streamlit_argv  # noqa: E402
from tests.test_browser import ARGS, CHROMIUM, wait_healthy  # noqa: E402  (one set of flags)

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


BARE = """
import streamlit as st

st.set_page_config(page_title="bare", layout="wide")
st.sidebar.toggle("Live refresh", value=True)
st.title("Bare page")
st.caption("ready")
"""
BASELINES = {
    "bare": BARE,
    "plotly": BARE
    + """
import plotly.graph_objects as go
fig = go.Figure(go.Scatter(x=[0, 1, 2], y=[0.1, 0.2, 0.3], name="val mIoU"))
st.plotly_chart(fig, config={"displaylogo": False})
""",
    "grid": BARE + '\nst.dataframe({"run": ["a", "b"], "best mIoU": [0.5, 0.6]})\n',
}


@contextmanager
def serve(logdir: Path, app: Path | None = None) -> Iterator[str]:
    """``segwatch serve logdir`` (or ``app`` with serve's options) on a free port until the
    block ends."""
    with serve_page(logdir, app=app) as (url, _):
        yield url


@contextmanager
def serve_page(
    logdir: Path, flags: Sequence[str] = (), cwd: Path = REPO, app: Path | None = None
) -> Iterator[tuple[str, int]]:
    """``segwatch serve logdir *flags`` on a free port (the code of the source tree ``cwd``), or
    ``app`` served with serve's own Streamlit options: its address and process id."""
    port = _free_port()
    cmd = [sys.executable, "-m", "dashboard.cli", "serve", str(logdir), "--port", str(port)]
    if app is not None:
        cmd = [sys.executable, "-m", *streamlit_argv(app, "127.0.0.1", port, ["127.0.0.1"])]
    proc = subprocess.Popen(
        [*cmd, *flags], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)  # raises if the server exits or does not come up
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


def bare_ready(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_text("ready", exact=True).wait_for(timeout=120_000)
    page.get_by_text("Live refresh").wait_for(timeout=120_000)


def grid_ready(page) -> None:  # type: ignore[no-untyped-def]
    bare_ready(page)
    page.locator("[data-testid=stDataFrame]").first.wait_for(timeout=120_000)


READY = {"bare": bare_ready, "plotly": run_ready, "grid": grid_ready}
LABELS = {
    "bare": "baseline: bare Streamlit page",
    "plotly": "baseline: bare page + one plotly chart",
    "grid": "baseline: bare page + one data grid",
}


def main() -> None:
    from playwright.sync_api import sync_playwright

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--runs", type=int, default=200)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw, ExitStack() as servers:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        samples = Path(tmp) / "samples"
        shutil.copytree(REPO / "sample_logs", samples, copy_function=shutil.copy2)
        from metrics.runs import discover_runs

        n = len(discover_runs(str(samples)))
        pages: dict[str, tuple[str, Callable[[object], None]]] = {}
        for key, source in BASELINES.items():
            app = Path(tmp) / f"baseline_{key}.py"
            app.write_text(source)
            pages[key] = (servers.enter_context(serve(Path(tmp), app)), READY[key])
        url = servers.enter_context(serve(samples))
        pages["overview"] = (url, overview_ready(n))
        pages["run"] = (f"{url}/run?run={RUN}", run_ready)
        for address, ready in pages.values():
            visit(browser, address, ready)  # each server's first run (the first read of every run)
        times: dict[str, list[float]] = {key: [] for key in pages}
        for _ in range(args.repeat):  # interleaved: the machine's load weighs on every row alike
            for key, (address, ready) in pages.items():
                times[key].append(visit(browser, address, ready))
        for key in BASELINES:
            _report(LABELS[key], times[key], None)
        _report(f"overview, {n} sample runs", times["overview"], TARGETS["overview"])
        _over("overview over the grid floor", times["overview"], times["grid"])
        _report("Run page, one sample run", times["run"], TARGETS["run"])
        _over("Run page over the plotly floor", times["run"], times["plotly"])
        many = Path(tmp) / "many"
        for i in range(args.runs):
            write_finished(many, f"run-{i:03d}")
        cold, grid = [], []
        for _ in range(args.repeat):
            grid.append(visit(browser, *pages["grid"]))
            with serve(many) as cold_url:
                cold.append(visit(browser, cold_url, overview_ready(args.runs)))
        _report(f"overview, {args.runs} runs, cold (new server)", cold, TARGETS["many"])
        _over("cold overview over the grid floor", cold, grid)
        browser.close()


def _over(what: str, times: list[float], floor: list[float]) -> None:
    """The median of the paired differences (each visit against its floor in the same round)."""
    diffs = [t - f for t, f in zip(times, floor, strict=True)]
    print(f"  {what:<42} median {statistics.median(diffs):+5.2f} s", flush=True)


def _report(what: str, times: list[float], target: float | None) -> None:
    med = statistics.median(times)
    spread = f"{min(times):.2f}–{max(times):.2f}"
    goal = "" if target is None else f"  target {target:.1f} s  {'ok' if med <= target else 'OVER'}"
    print(f"{what:<44} median {med:5.2f} s ({spread}){goal}", flush=True)


if __name__ == "__main__":
    main()
