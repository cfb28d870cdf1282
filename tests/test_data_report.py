"""Saved ``segwatch eval`` / ``labels`` results: exact round trips, malformed files, ``--save``."""

from __future__ import annotations

import argparse
import json
import math
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dashboard.cli.data import add_data_commands
from metrics.errors import MetricsError
from metrics.masks.data_report import (
    EVAL_FILE,
    LABELS_FILE,
    DataReportError,
    is_folder,
    load_audit,
    load_eval,
    report_path,
    save_audit,
    save_eval,
)
from metrics.masks.folder_eval import FileProblem, evaluate_segmentation
from metrics.masks.label_audit import audit_labels
from tests.masks_util import blocks, save_mask

NOON = datetime(2024, 6, 11, 14, 0, 0, tzinfo=timezone(timedelta(hours=2)))  # 12:00 UTC
CM = [[24, 0, 0], [6, 18, 0], [6, 0, 18]]  # row 0 of every label predicted as class 0


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """3 masks of 4×6 px in bands of 0, 1, 2; predictions put the first row in class 0."""
    for i in range(3):
        g = blocks(4, 6, [0, 1, 2], seed=i)
        save_mask(tmp_path / "gt" / f"{i}.png", g)
        p = g.copy()
        p[0] = 0
        save_mask(tmp_path / "pred" / f"{i}.png", p)
    save_mask(tmp_path / "gt" / "extra.png", blocks(2, 2, [0, 1]))  # no prediction
    return tmp_path


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="segwatch")
    add_data_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def test_eval_round_trip_is_exact(data: Path) -> None:
    res = evaluate_segmentation(data / "pred", data / "gt", 3, class_names=["bg", "road", "car"])
    path = save_eval(res, data / "run", "segwatch eval p g --num-classes 3", now=NOON)
    assert path == str(data / "run" / EVAL_FILE)
    doc = json.loads(Path(path).read_text())
    assert doc["kind"] == "segwatch-eval" and doc["version"] == 1
    assert doc["created"] == "2024-06-11T12:00:00Z"
    assert doc["confusion_matrix"] == CM and doc["class_names"] == ["bg", "road", "car"]
    assert [c["iou"] for c in doc["classes"]] == [24 / 36, 0.75, 0.75]
    assert doc["miou"] == pytest.approx((24 / 36 + 1.5) / 3) and doc["images"] == 3
    assert doc["problems"] == [
        {"file": "extra.png", "code": "missing_pred", "message": "no prediction of this name"}
    ]
    saved = load_eval(path)
    out = saved.result
    assert saved.command == "segwatch eval p g --num-classes 3"
    assert saved.created == "2024-06-11T12:00:00Z"
    assert out.confusion.dtype == np.int64 and out.confusion.tolist() == CM
    assert out.class_names == ("bg", "road", "car") and out.num_classes == 3
    assert out.ignore_index == 255 and out.images == 3
    assert out.problems == (FileProblem("extra.png", "missing_pred", "no prediction of this name"),)
    assert out.scores.iou.tolist() == res.scores.iou.tolist()
    assert (out.scores.miou, out.scores.aacc, out.scores.macc) == (
        res.scores.miou, res.scores.aacc, res.scores.macc,
    )  # fmt: skip
    assert out.to_dict() == res.to_dict()


def test_audit_round_trip_keeps_flags_and_counts(data: Path) -> None:
    save_mask(data / "gt" / "bad.png", blocks(2, 2, [0, 7]))
    audit = audit_labels(data / "gt", 4, class_names=["bg", "road", "car", "bus"])
    path = save_audit(audit, data / "run", "segwatch labels g --num-classes 4", now=NOON)
    assert path == str(data / "run" / LABELS_FILE)
    doc = json.loads(Path(path).read_text())
    assert doc["kind"] == "segwatch-labels" and doc["clean"] is False
    saved = load_audit(path)
    assert saved.audit == audit
    assert [f.code for f in saved.audit.flags] == ["out_of_range", "absent_class"]
    assert saved.audit.flags[0].files == ("bad.png",)
    assert [c.pixels for c in saved.audit.classes] == [24 + 2 + 2, 24 + 2, 24, 0]
    assert saved.created == "2024-06-11T12:00:00Z"


def test_audit_with_nothing_labelled_keeps_nan_shares(tmp_path: Path) -> None:
    save_mask(tmp_path / "gt" / "a.png", np.full((2, 2), 255, np.uint8))
    audit = audit_labels(tmp_path / "gt", 2)
    saved = load_audit(save_audit(audit, tmp_path))
    assert [math.isnan(c.share) for c in saved.audit.classes] == [True, True]
    assert saved.audit.flags == audit.flags and saved.command == ""


def _eval_doc(data: Path) -> dict[str, Any]:
    res = evaluate_segmentation(data / "pred", data / "gt", 3)
    doc: dict[str, Any] = json.loads(Path(save_eval(res, data / "run")).read_text())
    return doc


@pytest.mark.parametrize(
    "change, why",
    [
        (lambda d: d.update(kind="segwatch-labels"), "not a segwatch-eval file"),
        (lambda d: d.update(num_classes="3"), "'num_classes' must be a whole number, got a string"),
        (lambda d: d.update(num_classes=True), "'num_classes' must be a whole number"),
        (lambda d: d.update(num_classes=0), "'num_classes' must be a whole number >= 1, got 0"),
        (lambda d: d["confusion_matrix"].pop(), "'confusion_matrix' must be a 3×3 list of lists"),
        (lambda d: d["confusion_matrix"][1].__setitem__(0, -1), "counts >= 0"),
        (lambda d: d["confusion_matrix"][1].__setitem__(0, 1.5), "counts >= 0"),
        (lambda d: d["confusion_matrix"][1].__setitem__(0, 2**63), "counts >= 0"),
        (lambda d: d["class_names"].append("x"), "'class_names' holds 4 names for num_classes 3"),
        (lambda d: d["class_names"].__setitem__(0, 1), "'class_names' must be a list of strings"),
        (lambda d: d.update(problems=[1]), "'problems' must be a list of objects"),
        (lambda d: d.update(problems=[{"file": "a"}]), "problems[0]: 'code' must be a string"),
        (lambda d: d.pop("command"), "'command' must be a string, got null"),
    ],
)
def test_malformed_eval_file_names_the_file(data: Path, change, why: str) -> None:
    doc = _eval_doc(data)
    change(doc)
    path = data / "run" / EVAL_FILE
    path.write_text(json.dumps(doc))
    with pytest.raises(DataReportError) as exc:
        load_eval(path)
    assert str(exc.value).startswith(f"{path}: ") and why in str(exc.value)
    assert isinstance(exc.value, MetricsError)


@pytest.mark.parametrize(
    "text, why",
    [
        ('{"kind": "segwatch-eval", "num_cl', "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ("", "not valid JSON"),
    ],
)
def test_unparseable_file(tmp_path: Path, text: str, why: str) -> None:
    path = tmp_path / EVAL_FILE
    path.write_text(text)
    with pytest.raises(DataReportError, match=why) as exc:
        load_eval(path)
    assert str(exc.value).startswith(str(path))
    with pytest.raises(DataReportError, match="no such file"):
        load_audit(tmp_path / LABELS_FILE)


def test_malformed_audit_file(data: Path) -> None:
    audit = audit_labels(data / "gt", 3)
    path = Path(save_audit(audit, data / "run"))
    for change, why in [
        (lambda d: d["classes"].pop(0), "'classes' must list ids 0…2 in order"),
        (lambda d: d["classes"][0].update(share=2.0), "classes[0]: 'share' must be a fraction"),
        (lambda d: d.update(flags=[{"code": "x", "message": "m", "files": [3], "fix": "f"}]),
         "flags[0]: 'files' must be a list of strings"),
        (lambda d: d.update(modes={"PNG L": "3"}), "'modes' must map file kinds to counts"),
    ]:  # fmt: skip
        doc = audit.to_dict() | {"kind": "segwatch-labels", "command": "", "created": ""}
        change(doc)
        path.write_text(json.dumps(doc))
        with pytest.raises(DataReportError) as exc:
            load_audit(path)
        assert why in str(exc.value)


def test_report_path_and_folder(data: Path) -> None:
    run = data / "run"
    assert report_path(str(run), EVAL_FILE) is None and not is_folder(str(run))
    save_eval(evaluate_segmentation(data / "pred", data / "gt", 3), run)
    assert report_path(str(run), EVAL_FILE) == str(run / EVAL_FILE)
    assert report_path(str(run), LABELS_FILE) is None
    assert is_folder(str(run)) and not is_folder(str(run / EVAL_FILE))
    assert [p.name for p in run.iterdir()] == [EVAL_FILE]  # no temporary file left behind


def test_fsspec_folder_round_trip(data: Path) -> None:
    res = evaluate_segmentation(data / "pred", data / "gt", 3)
    path = save_eval(res, "memory://segwatch-test/run")
    assert path == "memory://segwatch-test/run/" + EVAL_FILE
    assert report_path("memory://segwatch-test/run", EVAL_FILE) == path
    assert load_eval(path).result.confusion.tolist() == CM


def test_unwritable_folder_is_a_typed_error(data: Path) -> None:
    res = evaluate_segmentation(data / "pred", data / "gt", 3)
    (data / "file").write_text("")
    with pytest.raises(DataReportError, match="cannot write"):
        save_eval(res, data / "file")


def test_cli_save_writes_what_it_prints(data: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(data)
    code = cli("eval", "pred", "gt", "--num-classes", "3", "--json", "--save", "run")
    out = capsys.readouterr()
    assert code == 1  # extra.png was left out
    assert out.err == f"segwatch: saved {Path('run') / EVAL_FILE}\n"
    saved = load_eval(data / "run" / EVAL_FILE)
    assert saved.result.to_dict() == json.loads(out.out)
    assert saved.command == (
        f"segwatch eval {data / 'pred'} {data / 'gt'} --num-classes 3 --ignore-index 255"
    )
    assert cli("labels", "gt", "--num-classes", "3", "--ignore-index", "none", "--save", "run") == 0
    saved_audit = load_audit(data / "run" / LABELS_FILE)
    assert saved_audit.audit.files == 4 and saved_audit.audit.ignore_index is None
    assert saved_audit.command.endswith("--num-classes 3 --ignore-index none")


def test_cli_save_refused_for_image_task(data: Path, capsys) -> None:
    code = cli("eval", str(data / "pred"), str(data / "gt"), "--task", "image", "--save", "x")
    assert code == 2 and "--save is for segmentation" in capsys.readouterr().err
    assert not (data / "x").exists()
