"""``segwatch eval`` and ``segwatch labels``: arguments, output, exit codes, progress bar."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import numpy as np
import pytest

from dashboard.cli.data import PROGRESS_MIN_FILES, _Progress, add_data_commands
from metrics.masks.folder_eval import evaluate_segmentation
from tests.masks_util import blocks, save_mask


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="segwatch")
    add_data_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


@pytest.fixture
def data(tmp_path: Path) -> Path:
    for i in range(3):
        g = blocks(4, 6, [0, 1, 2], seed=i)
        save_mask(tmp_path / "gt" / f"{i}.png", g)
        p = g.copy()
        p[0] = 0  # first row predicted as background
        save_mask(tmp_path / "pred" / f"{i}.png", p)
    (tmp_path / "names.txt").write_text("bg\nroad\ncar\n\n")
    return tmp_path


def test_eval_json_is_the_library_result(data: Path, capsys) -> None:
    assert run("eval", str(data / "pred"), str(data / "gt"), "--num-classes", "3", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    ref = evaluate_segmentation(data / "pred", data / "gt", 3).to_dict()
    assert out == json.loads(json.dumps(ref))
    assert out["images"] == 3 and out["problems"] == []


def test_eval_table_names_classes_and_scores(data: Path, capsys) -> None:
    code = run(
        "eval", str(data / "pred"), str(data / "gt"), "--num-classes", "3",
        "--class-names", str(data / "names.txt"),
    )  # fmt: skip
    out = capsys.readouterr().out
    res = evaluate_segmentation(data / "pred", data / "gt", 3)
    assert code == 0
    assert "1 road" in out and "2 car" in out
    assert f"mIoU {res.scores.miou:.4f}" in out and "(3 images)" in out


def test_eval_problems_listed_and_exit_1(data: Path, capsys) -> None:
    save_mask(data / "gt" / "extra.png", blocks(2, 2, [0, 1]))
    assert run("eval", str(data / "pred"), str(data / "gt"), "--num-classes", "3") == 1
    assert "extra.png: [missing_pred]" in capsys.readouterr().out


def test_eval_needs_num_classes_for_segmentation(data: Path, capsys) -> None:
    assert run("eval", str(data / "pred"), str(data / "gt")) == 2
    assert "needs --num-classes" in capsys.readouterr().err


def test_eval_image_task(data: Path, capsys) -> None:
    assert run("eval", str(data / "pred"), str(data / "gt"), "--task", "image", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["task"] == "image" and out["images"] == 3
    # each prediction differs from its label on the first row's non-zero pixels
    assert out["per_image"][0]["mse"] == pytest.approx((1 + 1 + 4 + 4) / 24)


def test_labels_clean_exit_0(data: Path, capsys) -> None:
    assert run("labels", str(data / "gt"), "--num-classes", "3") == 0
    out = capsys.readouterr().out
    assert "no flags" in out and "3 masks" in out


def test_labels_flags_json_and_exit_1(data: Path, capsys) -> None:
    save_mask(data / "gt" / "bad.png", blocks(2, 2, [0, 7]))
    assert run("labels", str(data / "gt"), "--num-classes", "3", "--json") == 1
    out = json.loads(capsys.readouterr().out)
    assert out["clean"] is False
    (f,) = out["flags"]
    assert set(f) == {"code", "message", "files", "fix"}
    assert f["code"] == "out_of_range" and f["files"] == ["bad.png"]


def test_labels_table_prints_each_flag_with_files_and_fix(data: Path, capsys) -> None:
    save_mask(data / "gt" / "bad.png", blocks(2, 2, [0, 7]))
    run("labels", str(data / "gt"), "--num-classes", "4", "--class-names", str(data / "names.txt"))
    err = capsys.readouterr().err
    assert err == "segwatch: " + str(data / "names.txt") + (
        ": expected 4 class names (one per line, for --num-classes 4), got 3\n"
    )
    assert run("labels", str(data / "gt"), "--num-classes", "4") == 1
    out = capsys.readouterr().out
    assert "[out_of_range]" in out and "    files: bad.png" in out and "    fix: " in out
    assert "[absent_class] class 3 appears in none" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["labels", "{d}/missing", "--num-classes", "3"], "no such folder"),
        (["labels", "{d}/empty", "--num-classes", "3"], "no image files"),
        (["eval", "{d}/pred", "{d}/missing", "--num-classes", "3"], "no such folder"),
        (["labels", "{d}/gt", "--num-classes", "3", "--images", "{d}/empty"], "no image files"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(data: Path, capsys, argv, message) -> None:
    (data / "empty").mkdir()
    assert run(*[a.format(d=data) for a in argv]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and message in captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_bad_arguments_exit_2(data: Path, capsys) -> None:
    for argv in (
        ["labels", str(data / "gt")],  # --num-classes is required
        ["labels", str(data / "gt"), "--num-classes", "0"],
        ["labels", str(data / "gt"), "--num-classes", "3", "--ignore-index", "x"],
    ):
        with pytest.raises(SystemExit) as exc:
            run(*argv)
        assert exc.value.code == 2


def test_ignore_index_none_counts_255_as_out_of_range(data: Path, capsys) -> None:
    save_mask(data / "gt" / "ign.png", blocks(2, 2, [0, 255]))
    assert run("labels", str(data / "gt"), "--num-classes", "3") == 0
    capsys.readouterr()
    assert run("labels", str(data / "gt"), "--num-classes", "3", "--ignore-index", "none") == 1
    assert "[out_of_range]" in capsys.readouterr().out


def test_progress_bar_only_when_asked_or_on_a_long_tty_run(data: Path, capsys) -> None:
    run("labels", str(data / "gt"), "--num-classes", "3")
    assert capsys.readouterr().err == ""  # not a TTY, few files
    run("labels", str(data / "gt"), "--num-classes", "3", "--progress")
    assert capsys.readouterr().err.endswith("] 3/3 files\n")

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    with _Progress(None, tty) as bar:
        bar(1, PROGRESS_MIN_FILES - 1)
    assert tty.getvalue() == ""  # short folder: no bar even on a terminal
    with _Progress(None, tty) as bar:
        for i in range(1, PROGRESS_MIN_FILES + 1):
            bar(i, PROGRESS_MIN_FILES)
    assert tty.getvalue().startswith("\rsegwatch: [") and tty.getvalue().endswith(
        f"{PROGRESS_MIN_FILES}/{PROGRESS_MIN_FILES} files\n"
    )
    with _Progress(False, tty) as bar:
        bar(1, 1000)
    assert tty.getvalue().count("\n") == 1


def test_eval_on_all_three_classes_gives_exact_counts(data: Path, capsys) -> None:
    run("eval", str(data / "pred"), str(data / "gt"), "--num-classes", "3", "--json")
    cm = np.array(json.loads(capsys.readouterr().out)["confusion_matrix"])
    assert cm.sum() == 72 and cm[1:, 0].sum() == 3 * 4  # row 0's classes 1, 2 → predicted 0
