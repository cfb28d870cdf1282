"""The dashboard in a real browser: ``segwatch serve`` in a subprocess, driven by Playwright.

Needs Debian's chromium (``apt-get install chromium``; Playwright cannot download its own
browser offline). Screenshots of each page go to ``test-artifacts/``. The README's screenshots
are taken from a copy of the sample logs at ``/tmp/segwatch-demo/logs`` (no machine path shows).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dashboard.cli.demo import (
    curve_lines,
    write_diverging,
    write_run,
    write_stalled,
)

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
XSS = "<img src=x onerror=alert(1)>"

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason=f"chromium not installed at {CHROMIUM} (CI installs it)"
)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")

GROWING = curve_lines(20000, 50, 1000, seed=2)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    logdir = tmp_path_factory.mktemp("logs")
    write_stalled(logdir, "stalled")
    write_diverging(logdir, "diverging")
    write_stalled(logdir, XSS)
    write_run(logdir / "growing", 20000, GROWING[:100])
    with serving(logdir) as url:
        yield url, logdir


@contextmanager
def serving(logdir: Path, *flags: str) -> Iterator[str]:
    """``segwatch serve logdir *flags`` on a free port, until the block ends: its address."""
    port = _free_port()
    cmd = [sys.executable, "-m", "dashboard.cli", "serve", str(logdir), "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, *flags], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    """Until the served page answers its health check; raises if the server exits or is not
    up within 60 s (with its output when it was piped)."""
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise RuntimeError(f"segwatch serve exited: {out}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("segwatch serve did not come up within 60 s")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _page(browser, dialogs: list[str]):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    return page


def _shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _trace_names(page, expect: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Trace names of the first chart that has a trace named ``expect``.

    Waiting for that chart, not for any chart: while Streamlit swaps pages, the previous page's
    charts (the overview's sparklines) can still be in the DOM.
    """
    find = (
        "(expect) => [...document.querySelectorAll('.js-plotly-plot')]"
        ".find(p => p.data && p.data.some(t => t.name === expect))"
    )
    page.wait_for_function(find, arg=expect, timeout=30_000)
    names: list[str] = page.evaluate(f"(expect) => ({find})(expect).data.map(t => t.name)", expect)
    return names


def test_overview_then_run(server: tuple[str, Path], browser) -> None:  # type: ignore[no-untyped-def]
    url, _ = server
    dialogs: list[str] = []
    page = _page(browser, dialogs)
    page.goto(url)
    page.get_by_text("Needs attention (").wait_for(timeout=30_000)
    link = page.get_by_role("button", name="🟡 stalled · stalled", exact=True)
    link.wait_for(timeout=30_000)
    lines = page.locator("[class*='st-key-attention-']")
    assert lines.get_by_text("miou_plateau: Validation mIoU").first.is_visible()
    assert lines.get_by_text(f"🟡 stalled · {XSS}").first.is_visible()  # literal, inert
    _shot(page, "overview")
    link.click()
    page.wait_for_url("**/run?run=stalled", timeout=30_000)
    names = _trace_names(page, "val mIoU")
    assert {"train loss (raw)", "train loss (smoothed)", "val mIoU", "lr"} <= set(names)
    _shot(page, "run")
    page.goto(url + "/compare?runs=stalled&runs=diverging&align=fraction")
    names = _trace_names(page, "diverging")
    assert names.count("stalled") == 2 and names.count("diverging") == 2
    _shot(page, "compare")
    assert dialogs == []
    page.close()


def _boxes(page, selector: str) -> list[dict[str, float]]:  # type: ignore[no-untyped-def]
    """Bounding boxes of the elements matching ``selector`` in the first plotly chart."""
    js = (
        "(sel) => [...document.querySelector('.js-plotly-plot').querySelectorAll(sel)]"
        ".map(e => { const r = e.getBoundingClientRect();"
        " return {x: r.x, y: r.y, w: r.width, h: r.height}; }).filter(r => r.w > 0)"
    )
    boxes: list[dict[str, float]] = page.evaluate(js, selector)
    return boxes


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )


def test_run_chart_title_legend_and_labels_never_overlap(  # type: ignore[no-untyped-def]
    server: tuple[str, Path], browser, tmp_path: Path
) -> None:
    """Issue 16, item 1: on the page and in the exported report."""
    from dashboard.figures.export import report_html
    from dashboard.figures.prepare import prepare_run
    from dashboard.figures.run import run_figure
    from metrics.diagnosis import Finding, RunDiagnosis, diagnose
    from metrics.runs import discover_runs, load_run

    url, logdir = server
    page = _page(browser, [])
    page.goto(url + "/run?run=diverging")
    _trace_names(page, "val mIoU")
    (legend,) = _boxes(page, ".legend")
    for title in _boxes(page, ".gtitle"):
        assert not _overlap(title, legend)
    (source,) = [s for s in discover_runs(str(logdir)) if s.name == "stalled"]
    run = load_run(source)
    near = (
        Finding("miou_plateau", "warning", "", {}, (), (6000, 8000)),
        Finding("lr_exhausted", "info", "", {}, (), (6200, 8000)),
        Finding("dead_class", "warning", "", {}, (), (6400, 8000)),
    )
    diag = RunDiagnosis(diagnose(run).status, near)
    plot = prepare_run(run.name, run.table, diag, None, None, 0.6)
    report = tmp_path / "report.html"
    report.write_text(report_html(run.name, [run_figure(plot, title=True)], diag, {}))
    page.goto(report.as_uri())
    page.wait_for_selector(".js-plotly-plot .legend", timeout=30_000)
    (title,) = _boxes(page, ".gtitle")
    (legend,) = _boxes(page, ".legend")
    assert not _overlap(title, legend)
    labels = _boxes(page, ".annotation")
    assert len(labels) == 3
    assert not any(_overlap(a, b) for i, a in enumerate(labels) for b in labels[i + 1 :])
    _shot(page, "report")
    page.close()


def test_links_name_their_run_and_view(server: tuple[str, Path], browser) -> None:  # type: ignore[no-untyped-def]
    """Issue 16, item 6: /run without a run opens the first one and says so in the address."""
    url, _ = server
    page = _page(browser, [])
    page.goto(url + "/run")
    _trace_names(page, "val mIoU")
    page.wait_for_url("**/run?*run=*", timeout=15_000)
    first = page.url
    page.goto(first)
    _trace_names(page, "val mIoU")
    assert page.url == first  # a shared link opens the same run
    page.get_by_role("tab", name="All metrics").click()
    page.wait_for_url("**tab=All*", timeout=15_000)
    page.get_by_text("train/loss").first.wait_for(timeout=30_000)
    page.goto(url + "/run?run=stalled")  # changing run is a history entry: Back returns
    page.get_by_role("heading", name="stalled", exact=True).wait_for(timeout=30_000)
    page.locator("[data-testid=stSelectbox]").first.click()
    page.keyboard.type("diverging")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="diverging", exact=True).wait_for(timeout=30_000)
    page.wait_for_url("**run=diverging", timeout=15_000)
    page.go_back()
    page.get_by_role("heading", name="stalled", exact=True).wait_for(timeout=30_000)
    assert page.url.endswith("run=stalled")
    page.get_by_role("slider").first.focus()  # smoothing: a history entry too
    page.keyboard.press("ArrowRight")
    page.wait_for_url("**smoothing=0.61*", timeout=15_000)
    page.go_back()
    page.wait_for_url("**/run?run=stalled", timeout=15_000)
    page.wait_for_function(  # Back undid the smoothing too
        "() => document.querySelector('[data-testid=stSliderThumbValue]')?.textContent === '0.60'",
        timeout=15_000,
    )
    page.close()


def test_live_run_shows_new_steps(server: tuple[str, Path], browser) -> None:  # type: ignore[no-untyped-def]
    url, logdir = server
    page = _page(browser, [])
    page.goto(url + "/run?run=growing")
    page.get_by_text("4,800 / 20,000").wait_for(timeout=30_000)
    page.get_by_text("● still writing · step 4,800 of 20,000").first.wait_for(timeout=30_000)
    log = next((logdir / "growing").glob("*.log.json"))
    with open(log, "a", encoding="utf-8") as fh:
        fh.write("\n".join(GROWING[100:160]) + "\n")
    page.get_by_text("7,650 / 20,000").wait_for(timeout=15_000)  # refreshed without a click
    _shot(page, "run-live")
    page.close()


def test_overview_address_opens_the_runs_page(server: tuple[str, Path], browser) -> None:  # type: ignore[no-untyped-def]
    """Issue 14, item 18: /overview (the README's address) is the Runs page, not a 404 modal."""
    url, _ = server
    page = _page(browser, [])
    page.goto(url + "/overview")
    page.get_by_role("button", name="🟡 stalled · stalled", exact=True).wait_for(timeout=30_000)
    page.locator("[data-testid=stDataFrame]").first.wait_for(state="visible", timeout=30_000)
    assert page.get_by_text("Page not found").count() == 0
    page.close()


def test_report_heatmap_labels_stay_on_the_page(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Issue 16: a long class name ran off the left edge of the report's per-class heatmap."""
    import numpy as np
    import pandas as pd

    from dashboard.figures.export import report_html
    from dashboard.figures.run import class_heatmap_figure
    from metrics.diagnosis import RunDiagnosis

    names = ["road", "ade20k/" + "stuff and things " * 10 + "(back side)", "sky"]
    wide = pd.DataFrame(np.full((3, 4), 0.5), index=names, columns=[1000, 2000, 3000, 4000])
    report = tmp_path / "report.html"
    fig = class_heatmap_figure(wide, "run")
    report.write_text(report_html("run", [fig], RunDiagnosis("ok", ()), {}))
    page = browser.new_page(viewport={"width": 800, "height": 900})
    page.goto(report.as_uri())
    page.wait_for_selector(".js-plotly-plot .ytick text", timeout=30_000)
    svg = page.locator(".js-plotly-plot .main-svg").first.bounding_box()
    plot = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
    ticks = _boxes(page, ".ytick text")
    assert svg is not None and plot is not None and len(ticks) == 3
    assert all(t["x"] >= svg["x"] and t["x"] + t["w"] <= plot["x"] + 1 for t in ticks)
    assert plot["width"] >= svg["width"] / 3  # the labels leave the cells most of the room
    page.close()


def test_compare_smoothing_is_a_history_entry(server: tuple[str, Path], browser) -> None:  # type: ignore[no-untyped-def]
    """Issue 16: as on the Run page, Back undoes a change of the Compare page's smoothing."""
    url, _ = server
    page = _page(browser, [])
    start = url + "/compare?runs=stalled&runs=diverging"
    page.goto(start)
    _trace_names(page, "diverging")
    thumb = "document.querySelector('[data-testid=stSliderThumbValue]')?.textContent"
    page.wait_for_function(f"() => {thumb} === '0.60'", timeout=15_000)
    page.get_by_role("slider").first.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_url("**smoothing=0.61*", timeout=15_000)
    page.keyboard.press("ArrowRight")
    page.wait_for_url("**smoothing=0.62*", timeout=15_000)
    page.go_back()
    page.wait_for_url("**smoothing=0.61*", timeout=15_000)
    page.wait_for_function(f"() => {thumb} === '0.61'", timeout=15_000)
    page.go_back()
    page.wait_for_function(f"() => {thumb} === '0.60'", timeout=15_000)
    assert "smoothing" not in page.url and "runs=diverging" in page.url
    page.close()


def test_clicking_a_run_in_the_overview_table_opens_it(server: tuple[str, Path], browser) -> None:  # type: ignore[no-untyped-def]
    """Issue 16: the run's name in the runs table (a link) opens that run's page.

    The table is a canvas (Glide data grid): cells are found through its accessible copy and
    clicked at their place on the canvas (rows 35 px, beneath a 35 px header; the run column
    follows the row-selection boxes and the 120 px status column). Glide follows a link when
    its cell is already selected: the first click selects the cell, the second opens the run
    in a new tab. Ticking the row's box opens it in this tab.
    """
    url, _ = server
    page = _page(browser, [])
    page.goto(url)
    page.get_by_text("4 of 4 runs").wait_for(timeout=30_000)
    grid = page.locator("[data-testid=stDataFrame]").first
    grid.wait_for(state="visible", timeout=30_000)
    links = grid.locator("[role=gridcell][aria-colindex='2']")
    page.wait_for_function(
        '() => document.querySelectorAll("[data-testid=stDataFrame] [role=gridcell]").length',
        timeout=30_000,
    )
    row = links.all_inner_texts().index("run?run=stalled")
    box = grid.bounding_box()
    assert box is not None
    y = box["y"] + 35 + 35 * row + 17
    name_x = box["x"] + 34 + 120 + 40  # over the name's first characters
    with page.context.expect_page(timeout=15_000) as opened:
        page.mouse.click(name_x, y)
        page.wait_for_timeout(300)
        page.mouse.click(name_x, y)
    tab = opened.value
    tab.wait_for_url("**/run?run=stalled", timeout=15_000)
    tab.get_by_role("heading", name="stalled", exact=True).wait_for(timeout=30_000)
    assert _trace_names(tab, "val mIoU")
    tab.close()
    page.mouse.click(box["x"] + 17, y)  # the row's selection box
    page.wait_for_url("**/run?run=stalled", timeout=15_000)
    page.get_by_role("heading", name="stalled", exact=True).wait_for(timeout=30_000)
    page.close()


def test_main_charts_download_their_data(server: tuple[str, Path], browser) -> None:  # type: ignore[no-untyped-def]
    """Issue 16: the Run page's main chart and the Compare chart each download their data."""
    url, _ = server
    page = browser.new_page(viewport={"width": 1400, "height": 1100}, accept_downloads=True)
    for address, expect, first_line in (
        ("/run?run=stalled", "val mIoU", "run,curve,step,value"),
        (
            "/compare?runs=stalled&runs=diverging",
            "diverging",
            "run,curve,step,fraction of plan,hours since start,value",
        ),
    ):
        page.goto(url + address)
        _trace_names(page, expect)
        button = page.locator("[class*='st-key-csv-'] button").first
        with page.expect_download(timeout=30_000) as got:
            button.click()
        text = Path(got.value.path()).read_text()
        lines = text.splitlines()
        assert lines[0] == first_line and len(lines) > 20
        assert any(",val mIoU," in line for line in lines)
    page.close()
