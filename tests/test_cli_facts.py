"""``segwatch diff RUN_A RUN_B``: the table, the JSON and the usage errors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from dashboard.cli.diff import add_facts_commands
from tests.test_run_diff import write_mmseg0_json


def run_cli(argv: list[str]) -> int:
    """The subcommand as ``dashboard.cli`` wires it (``add_facts_commands(sub)``)."""
    parser = argparse.ArgumentParser(prog="segwatch")
    add_facts_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


@pytest.fixture()
def runs(tmp_path: Path) -> tuple[str, str]:
    a = tmp_path / "base" / "20230213_165119.log.json"
    b = tmp_path / "lr_flip" / "20230214_090000.log.json"
    write_mmseg0_json(a, lr=0.01, flip=0.5, miou=[0.6, 0.7, 0.72, 0.71])
    write_mmseg0_json(b, lr=0.005, flip=0.0, miou=[0.62, 0.75, 0.74, 0.73])
    return str(a.parent), str(b)  # a run folder and a single log file


def test_diff_table(runs: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["diff", *runs]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"A: {runs[0]}  (best mIoU 0.7200 @ 300)"
    assert out[1] == f"B: {runs[1]}  (best mIoU 0.7500 @ 200)"
    assert out[2] == "best mIoU B - A: +0.0300; reached -100 steps apart"
    assert out[3] == "config: 3 key(s) differ"
    assert out[5].split() == ["data.train.pipeline.RandomFlip.prob", "0.5", "0.0"]
    assert out[6].split() == ["optimizer.lr", "0.01", "0.005"]


def test_diff_json(runs: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["diff", *runs, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["best_miou_delta"] == 0.03 and out["best_step_delta"] == -100
    assert [c["key"] for c in out["changes"]] == [
        "data.train.pipeline.RandomFlip.prob", "optimizer.lr", "train_pipeline.RandomFlip.prob"
    ]  # fmt: skip
    assert out["a"]["best_miou"] == 0.72 and out["b"]["best_step"] == 200


def test_usage_errors(
    runs: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["diff", str(tmp_path / "nope"), runs[1]]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert run_cli(["diff", str(tmp_path), runs[1]]) == 2  # a folder of two runs
    assert "holds 2 runs" in capsys.readouterr().err


def test_public_deeplab_vs_pspnet(public_logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = public_logs / "mmseg0x" / "deeplab_voc12_15k.log.json"
    b = public_logs / "mmseg0x" / "pspnet_voc12_20k_windows_crlf_gbk.log"
    assert run_cli(["diff", str(a), str(b), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    changes = {c["key"]: (c["a"], c["b"]) for c in out["changes"]}
    assert changes["runner.max_iters"] == (15000, 20000)
    assert changes["model.decode_head.type"] == ("DepthwiseSeparableASPPHead", "PSPHead")
    assert changes["data.samples_per_gpu"] == (8, 4)
    assert out["a"]["best_miou"] == 0.7 and out["b"]["best_miou"] == 0.6433
