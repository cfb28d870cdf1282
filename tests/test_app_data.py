"""The Data page and its link from the Run page, end to end with ``AppTest`` (no browser)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.cli.demo import (
    curve_lines,
    write_diverging,
    write_run,
    write_stalled,
)
from dashboard.views.common import md
from metrics.masks.data_report import EVAL_FILE, LABELS_FILE, load_eval
from tests.masks_util import blocks, save_mask
from tests.test_app import APP, MD_LINK, XSS, _fresh_caches  # noqa: F401 (autouse fixture)
from tests.test_data_report import cli
from tests.test_figures import arr

BAD_FILE = f"{XSS}.png"
CLASSES = "background\nbuilding\nroad\nwater\nbarren\nforest\nagricultural\n"  # the demo log's
COMMANDS = (
    "printf '%s\\n' background building road water barren forest agricultural > classes.txt\n"
    "segwatch eval PRED_DIR GT_DIR --num-classes 7 --class-names classes.txt --save {q}\n"
    "segwatch labels GT_DIR --num-classes 7 --class-names classes.txt --save {q}"
)


@pytest.fixture()
def logdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two runs; "stalled" holds a saved eval (class "car" never predicted) and label audit."""
    logs = tmp_path / "logs"
    write_stalled(logs, "stalled")
    write_diverging(logs, "diverging")
    write_run(logs / "healthy", 20000, curve_lines(20000, 50, 1000)[:120])
    data = tmp_path / "data"
    for i in range(3):
        g = blocks(4, 6, [0, 1, 2], seed=i)
        save_mask(data / "gt" / f"{i}.png", g)
        save_mask(data / "pred" / f"{i}.png", np.where(g == 2, 0, g).astype(np.uint8))
    save_mask(data / "gt" / BAD_FILE, blocks(2, 2, [0, 7]))
    (data / "names.txt").write_text(f"{XSS}\n{MD_LINK}\ncar\n")
    save = ["--class-names", str(data / "names.txt"), "--save", str(logs / "stalled")]
    cli("eval", str(data / "pred"), str(data / "gt"), "--num-classes", "3", *save)
    cli("labels", str(data / "gt"), "--num-classes", "3", *save)
    monkeypatch.setenv("SEGWATCH_LOGDIR", str(logs))
    return logs


def _page(run: str, page: str = "views/data.py") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.query_params["run"] = run
    at.switch_page(page).run()
    assert not at.exception
    return at


def _spec(at: AppTest, key: str) -> dict:
    (chart,) = [c for c in at.get("plotly_chart") if key in c.proto.id]
    spec: dict = json.loads(chart.proto.spec)
    return spec


def _texts(at: AppTest) -> list[str]:
    return (
        [m.value for m in at.markdown]
        + [c.value for c in at.caption]
        + [w.value for w in [*at.warning, *at.info, *at.error, *at.success]]
    )


def test_data_page_shows_saved_eval_and_audit(logdir: Path) -> None:
    at = _page("stalled")
    assert at.selectbox(key="run").value == "stalled"
    metrics = {m.label: m.value for m in at.metric}
    # bg: 24 TP, 24 FP (car → bg) → 0.5; building 1.0; car 0 → mIoU 0.5, aAcc = mAcc = 2/3
    assert metrics == {
        "mIoU": "0.5000", "aAcc": "0.6667", "mAcc": "0.6667",
        "images evaluated": "3", "files left out": "1",
    }  # fmt: skip
    heat = _spec(at, "confusion")["data"][0]
    assert arr(heat["customdata"]).tolist() == [[24, 0, 0], [0, 24, 0], [24, 0, 0]]
    bars = {t["name"]: t["y"] for t in _spec(at, "iou_bars")["data"]}
    assert bars["IoU ≤ 0.01 (dead)"] == ["car"]
    codes = [c.value for c in at.get("code")]
    saved = load_eval(logdir / "stalled" / EVAL_FILE)
    assert codes[0] == saved.command and codes[1].startswith("segwatch labels ")
    texts = _texts(at)
    assert "🚩 **out\\_of\\_range**" in texts and "🚩 **absent\\_class**" not in texts
    assert any(t.startswith("**Fix:** check \\-\\-num\\-classes \\(3\\)") for t in texts)
    shown = [t.value for t in at.text]
    assert f"files: {BAD_FILE}" in shown  # st.text: literal, never rendered
    assert f"{BAD_FILE}: [missing_pred] no prediction of this name" in shown
    table = at.dataframe[0].value
    assert table["class"].tolist() == [XSS, MD_LINK, "car"]
    assert table["pixels"].tolist() == [24 + 2, 24, 24]


def test_class_and_file_names_are_shown_literally(logdir: Path) -> None:
    at = _page("stalled")
    texts = _texts(at)
    assert f"IoU ≤ 0.01 (dead): {md('car')}" in texts
    raw = [t for t in texts if re.search(r"(?<!\\)<img|(?<!\\)\]\(javascript", t)]
    assert not raw
    for key in ("confusion", "iou_bars"):
        spec = json.dumps(_spec(at, key))
        assert XSS not in spec and "&lt;img src=x onerror=alert(1)&gt;" in spec


def test_data_page_without_results_shows_the_commands(logdir: Path) -> None:
    at = _page("diverging")
    assert not at.get("plotly_chart")
    (info,) = at.info
    assert info.value == (
        "This run's folder holds no saved evaluation or label audit yet. To save them there, run:"
    )
    (code,) = at.get("code")
    assert code.value == COMMANDS.format(q=shlex.quote(str(logdir / "diverging")))


def test_malformed_saved_file_is_an_error_card(logdir: Path) -> None:
    (logdir / "stalled" / LABELS_FILE).write_text('{"kind": "segwatch-labels"')
    at = _page("stalled")
    (err,) = at.error
    assert md(str(logdir / "stalled" / LABELS_FILE)) in err.value and "not valid JSON" in err.value
    assert len(at.get("plotly_chart")) == 2  # the evaluation is still shown
    assert at.info[0].value.startswith("This run's folder holds no saved label audit yet.")


LINK = "🔬 [Check the data: confusion matrix and label audit](data?run={})"


def test_run_page_finding_links_to_the_data_page(logdir: Path) -> None:
    at = _page("stalled", "views/run.py")
    texts = _texts(at)
    assert any("miou\\_plateau" in t for t in texts)
    assert [t for t in texts if t.startswith("🔬")] == [LINK.format("stalled")]
    codes = [c.value for c in at.get("code")]
    assert COMMANDS.format(q=shlex.quote(str(logdir / "stalled"))) in codes
    at = _page("diverging", "views/run.py")  # its plateau and dead classes follow the blow-up:
    assert not [t for t in _texts(at) if t.startswith("🔬")]  # folded under it, no data link
    at = _page("healthy", "views/run.py")
    assert not [t for t in _texts(at) if t.startswith("🔬")]  # no finding at all


def test_link_to_a_run_with_markup_in_its_name_is_url_encoded(logdir: Path) -> None:
    write_stalled(logdir, MD_LINK)
    at = _page(MD_LINK, "views/run.py")
    (link,) = {t for t in _texts(at) if t.startswith("🔬")}
    assert link == LINK.format("%5Bx%5D%28javascript%3Aalert%281%29%29")


def test_single_log_file_as_logdir(logdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = next((logdir / "stalled").glob("*.log.json"))
    monkeypatch.setenv("SEGWATCH_LOGDIR", str(log))
    at = _page(log.name)
    assert at.info[0].value.startswith("The log folder is a single log file")
