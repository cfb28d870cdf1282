"""The idle Runs page in a real browser: with no run live it redraws only when its stat-based
check sees a change, and a new run still shows within the check's period (issue 15).

``segwatch serve`` in a subprocess on copies of the sample logs dated 3 days back, driven by
Playwright with Debian's chromium (see tests/test_browser.py).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_browser import ARGS, CHROMIUM, serving

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason=f"chromium not installed at {CHROMIUM} (CI installs it)"
)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")


def _settle(folder: Path) -> None:
    then = time.time() - 3 * 86400
    for path in folder.rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))


@pytest.fixture()
def served(tmp_path: Path, sample_logs: Path) -> Iterator[tuple[str, Path]]:
    logdir = tmp_path / "logs"
    shutil.copytree(sample_logs / "paddleseg", logdir / "paddleseg")
    _settle(logdir)
    with serving(logdir, "--cache-dir", str(tmp_path / "cache")) as url:
        yield url, logdir


def test_idle_page_shows_a_new_run_by_itself(served: tuple[str, Path], sample_logs: Path) -> None:
    """No run live: the table has no timer, only the idle check runs; a run added to the
    folder still shows without any action in the page (within ``IDLE_CHECK_S``, 10 s; the
    wait allows a loaded machine more)."""
    url, logdir = served
    n = len(list((sample_logs / "paddleseg").iterdir()))
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.get_by_text(f"{n} of {n} runs · tick").wait_for(timeout=60_000)
        shutil.copytree(sample_logs / "mmseg1x", logdir / "mmseg1x")
        total = n + len(list((sample_logs / "mmseg1x").iterdir()))
        page.get_by_text(f"{total} of {total} runs · tick").wait_for(timeout=45_000)
        browser.close()
