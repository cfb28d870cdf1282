"""Issue 14, items 4, 11, 15, 17 and the broken pipe: odd but real logs and outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.cli import main
from dashboard.cli.common import printable, strict_json
from metrics import read_log

REPO = Path(__file__).resolve().parents[1]
REPRO = REPO.parent / "shared" / "repro" / "mmseg0_config_header.log.json"


def _train(step: int) -> str:
    return json.dumps(
        {"mode": "train", "epoch": 1, "iter": step, "lr": 0.01, "memory": 3000,
         "data_time": 0.01, "decode.loss_ce": 1.0 / step, "loss": 1.0 / step, "time": 0.5}
    )  # fmt: skip


def test_config_header_line_of_mmseg0_json_reads_like_the_file_without_it(tmp_path: Path) -> None:
    config = "norm_cfg = dict(type='SyncBN', requires_grad=True)\n" * 300
    header = json.dumps({"env_info": "x" * 2000, "config": config, "seed": 0})
    body = "\n".join(_train(s) for s in range(10, 400, 10)) + "\n"
    with_header, without = tmp_path / "a.log.json", tmp_path / "b.log.json"
    with_header.write_text(header + "\n" + body)
    without.write_text(body)
    a = read_log(str(with_header), format="mmseg0-json").table.drop(columns="run")
    b = read_log(str(without), format="mmseg0-json").table.drop(columns="run")
    assert len(a) > 0 and a.equals(b)


def test_shared_repro_of_the_config_header_reads() -> None:
    if not REPRO.is_file():
        pytest.skip(f"{REPRO} not found (the shared repro folder is beside the repository)")
    data = read_log(str(REPRO))
    body = REPRO.read_bytes().split(b"\n", 1)[1]
    assert len(data.table) > 0 and len(data.table) >= body.count(b'"mode"') * 5


def test_strict_json_turns_non_finite_numbers_into_null() -> None:
    text = strict_json({"a": float("nan"), "b": [float("inf"), -float("inf"), 1.5], "c": "x"})
    assert json.loads(text) == {"a": None, "b": [None, None, 1.5], "c": "x"}
    assert "NaN" not in text and "Infinity" not in text


def test_check_json_of_all_nan_losses_is_strict_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [json.dumps({"loss": float("nan"), "lr": 0.01, "step": s}) for s in range(10, 200, 10)]
    (tmp_path / "run" / "vis_data").mkdir(parents=True)
    (tmp_path / "run" / "vis_data" / "scalars.json").write_text("\n".join(lines) + "\n")
    main(["check", "--json", "--fail-on", "never", str(tmp_path)])
    out = capsys.readouterr().out
    json.loads(out, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))


def test_terminal_escapes_in_run_names_are_shown_not_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert printable("a\x1b]0;pwned\x07b\x9bc") == "a\\x1b]0;pwned\\x07b\\x9bc"
    run = tmp_path / "evil\x1b[31mred"
    (run / "vis_data").mkdir(parents=True)
    (run / "vis_data" / "scalars.json").write_text(
        "\n".join(json.dumps({"loss": 1 / s, "step": s}) for s in range(10, 100, 10)) + "\n"
    )
    main(["check", "--fail-on", "never", str(tmp_path)])
    out = capsys.readouterr().out
    assert "\x1b" not in out and "evil\\x1b[31mred" in out


def test_check_of_a_device_or_fifo_says_not_a_regular_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for path in (str(fifo), "/dev/zero"):
        assert main(["check", path]) == 2
        assert "not a regular file" in capsys.readouterr().err


def test_check_piped_into_a_closed_reader_exits_quietly(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"r{i}").mkdir()
        (tmp_path / f"r{i}" / "scalars.json").write_text(
            "\n".join(json.dumps({"loss": 1 / s, "step": s}) for s in range(10, 50, 10)) + "\n"
        )
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "check", "--fail-on", "never", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before anything is printed (``| head -0``)
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipe" not in err, err
