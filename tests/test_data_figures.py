"""The Data page's figures and commands, checked on ``fig.to_dict()`` and exact values."""

from __future__ import annotations

import shlex

import numpy as np

from dashboard.data_commands import data_commands
from dashboard.figures.data import (
    CELL_TEXT_MAX,
    class_labels,
    confusion_figure,
    iou_bars_figure,
    row_normalised,
)
from metrics.facts import RunFacts
from tests.test_figures import XSS, arr

CM = [[24, 0, 0], [6, 18, 0], [6, 0, 18]]


def test_confusion_rows_normalised_with_counts_in_hover() -> None:
    d = confusion_figure(CM, ["bg", "road", "car"]).to_dict()
    (heat,) = d["data"]
    assert heat["type"] == "heatmap"
    assert arr(heat["z"]).tolist() == [[1.0, 0.0, 0.0], [0.25, 0.75, 0.0], [0.25, 0.0, 0.75]]
    assert arr(heat["customdata"]).tolist() == CM
    assert heat["x"] == heat["y"] == ["bg", "road", "car"]
    assert (heat["zmin"], heat["zmax"]) == (0.0, 1.0)
    assert "%{customdata:,} pixels" in heat["hovertemplate"]
    assert heat["texttemplate"] == "%{z:.0%}"
    assert d["layout"]["xaxis"]["title"]["text"] == "predicted class"
    assert d["layout"]["yaxis"]["title"]["text"] == "ground-truth class"
    assert d["layout"]["yaxis"]["autorange"] == "reversed"


def test_confusion_row_without_truth_is_blank_not_zero() -> None:
    z = row_normalised([[2, 2], [0, 0]])
    assert z[0].tolist() == [0.5, 0.5] and np.isnan(z[1]).all()


def test_many_classes_have_no_cell_text() -> None:
    k = CELL_TEXT_MAX + 1
    heat = confusion_figure(np.eye(k, dtype=np.int64), [f"c{i}" for i in range(k)]).to_dict()
    assert "texttemplate" not in heat["data"][0]


def test_class_names_are_escaped_and_made_unique() -> None:
    assert class_labels([XSS, "a&b"]) == ["&lt;img src=x onerror=alert(1)&gt;", "a&amp;b"]
    assert class_labels(["road", "road", " "]) == ["0: road", "1: road", "2: 2"]
    d = confusion_figure([[1, 0], [0, 1]], [XSS, "sky"]).to_dict()
    assert d["data"][0]["y"][0] == "&lt;img src=x onerror=alert(1)&gt;"
    bars = iou_bars_figure([XSS, "sky"], [0.5, 0.6]).to_dict()
    assert "&lt;img src=x onerror=alert(1)&gt;" in bars["data"][0]["y"]
    assert XSS not in str(d) and XSS not in str(bars)


def test_iou_bars_worst_first_dead_red_undefined_grey() -> None:
    names = ["bg", "road", "car", "bus", "bike"]
    d = iou_bars_figure(names, [0.9, 0.005, np.nan, 0.4, 0.0], miou=0.3261).to_dict()
    traces = {t["name"]: t for t in d["data"]}
    assert list(traces) == ["IoU ≤ 0.01 (dead)", "IoU", "no pixels in truth or prediction"]
    dead, ok, undefined = traces.values()
    assert dead["y"] == ["bike", "road"] and arr(dead["x"]).tolist() == [0.0, 0.005]
    assert dead["marker"]["color"] == "#e41a1c"
    assert ok["y"] == ["bus", "bg"] and ok["text"] == ["0.400", "0.900"]
    assert undefined["y"] == ["car"] and undefined["text"] == ["n/a"]
    assert all(t["orientation"] == "h" for t in d["data"])
    y = d["layout"]["yaxis"]
    assert y["categoryarray"] == ["bike", "road", "bus", "bg", "car"]
    assert y["autorange"] == "reversed"
    (line,) = d["layout"]["shapes"]
    assert line["x0"] == line["x1"] == 0.3261
    assert d["layout"]["annotations"][0]["text"] == "mIoU 0.3261"


def test_iou_bars_threshold_and_no_miou_line() -> None:
    d = iou_bars_figure(["a", "b"], [0.05, 0.5], dead_iou=0.1).to_dict()
    assert d["data"][0]["name"] == "IoU ≤ 0.1 (dead)" and d["data"][0]["y"] == ["a"]
    assert "shapes" not in d["layout"]


def test_commands_filled_from_the_run_facts() -> None:
    folder = "/runs/my run"
    facts = RunFacts(num_classes=3, ignore_index=0, class_names=["bg", "road", XSS])
    lines = data_commands(folder, facts)
    assert lines == [
        f"printf '%s\\n' bg road '{XSS}' > classes.txt",
        "segwatch eval PRED_DIR GT_DIR --num-classes 3 --ignore-index 0 "
        "--class-names classes.txt --save '/runs/my run'",
        "segwatch labels GT_DIR --num-classes 3 --ignore-index 0 "
        "--class-names classes.txt --save '/runs/my run'",
    ]
    assert shlex.split(lines[1])[-1] == folder


def test_commands_without_facts_leave_n_to_fill_in() -> None:
    assert data_commands("/r", None) == [
        "segwatch eval PRED_DIR GT_DIR --num-classes N --save /r",
        "segwatch labels GT_DIR --num-classes N --save /r",
    ]
    wrong = RunFacts(num_classes=4, class_names=["a", "b"])  # names do not match: left out
    assert data_commands("/r", wrong)[0].startswith("segwatch eval PRED_DIR GT_DIR --num-classes 4")
    assert data_commands("/r", RunFacts(class_names=["a", "b"]))[1].startswith(
        "segwatch eval PRED_DIR GT_DIR --num-classes 2 --class-names classes.txt"
    )
