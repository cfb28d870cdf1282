"""`segwatch check`: table, JSON contract, exit codes, thresholds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dashboard.cli import main


def scalars_json(path: Path, miou: list[float], every: int = 100) -> None:
    """MMSeg 1.x vis_data/scalars.json: train lines every 10 steps, val (percent) every `every`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    n = len(miou) * every
    for step in range(10, n + 1, 10):
        loss = 2.0 * np.exp(-step / (n / 3)) + 0.3
        lr = 0.01 * (1 - step / (2 * n)) ** 0.9  # half-way through its schedule: still training
        lines.append(json.dumps({"lr": lr, "loss": loss, "time": 0.5, "iter": step, "step": step}))
        if step % every == 0:
            m = miou[step // every - 1]
            lines.append(
                json.dumps({"aAcc": 90.0, "mIoU": round(m * 100, 2), "mAcc": 70.0, "step": step})
            )
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture()
def logdir(tmp_path: Path) -> Path:
    rising = [0.2, 0.3, 0.38, 0.44, 0.49, 0.53, 0.56, 0.585, 0.605, 0.62]
    flat = [0.2, 0.35, 0.45, 0.5, 0.52, 0.521, 0.519, 0.522, 0.52, 0.521]
    scalars_json(tmp_path / "good" / "20240101_000000" / "vis_data" / "scalars.json", rising)
    scalars_json(tmp_path / "stuck" / "20240101_000000" / "vis_data" / "scalars.json", flat)
    return tmp_path


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_contract(logdir: Path, capsys) -> None:
    code, out, _ = run(capsys, "check", str(logdir), "--json")
    runs = {r["run"]: r for r in json.loads(out)["runs"]}
    assert set(runs) == {"good", "stuck"}
    good = runs["good"]
    assert good["format"] == "mmseg1-json"
    assert good["best_miou"] == pytest.approx(0.62) and good["best_step"] == 1000
    assert good["last_step"] == 1000 and good["evals"] == 10
    assert good["status"] == "ok"
    stuck = runs["stuck"]
    assert stuck["status"] == "stalled"
    top = stuck["findings"][0]
    assert top["code"] == "miou_plateau" and top["checks"] and top["evidence"]["window_evals"] == 5
    assert top["steps"] == [600, 1000]
    assert code == 1  # a flagged run


def test_table_has_one_line_per_run(logdir: Path, capsys) -> None:
    code, out, _ = run(capsys, "check", str(logdir))
    lines = out.strip().splitlines()
    assert lines[0].split()[:2] == ["run", "status"]
    body = {line.split()[0]: line for line in lines[1:]}
    assert "0.6200 @ 1000" in body["good"] and " ok " in body["good"]
    assert "stalled" in body["stuck"] and "miou_plateau →" in body["stuck"]
    assert code == 1


def test_exit_codes(logdir: Path, tmp_path: Path, capsys) -> None:
    assert run(capsys, "check", str(logdir / "good"))[0] == 0
    assert run(capsys, "check", str(logdir), "--fail-on", "never")[0] == 0
    assert run(capsys, "check", str(logdir), "--fail-on", "critical")[0] == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(capsys, "check", str(empty))
    assert code == 2 and "no training logs found" in err
    code, _, err = run(capsys, "check", str(tmp_path / "missing"))
    assert code == 2 and "no such file or folder" in err
    with pytest.raises(SystemExit) as exc:
        main(["check"])
    assert exc.value.code == 2


def test_thresholds_change_the_verdict(logdir: Path, tmp_path: Path, capsys) -> None:
    # a plateau needs 5 evals by default; demanding 20 evals leaves no verdict
    code, out, _ = run(capsys, "check", str(logdir / "stuck"), "--json", "--min-evals", "20")
    assert json.loads(out)["runs"][0]["status"] == "ok" and code == 0
    cfg = tmp_path / "t.toml"
    cfg.write_text("[diagnosis]\nmin_evals = 20\n")
    code, out, _ = run(capsys, "check", str(logdir / "stuck"), "--json", "--config", str(cfg))
    assert json.loads(out)["runs"][0]["status"] == "ok"
    cfg.write_text("[diagnosis]\nbogus = 1\n")
    code, _, err = run(capsys, "check", str(logdir), "--config", str(cfg))
    assert code == 2 and "unknown setting" in err


def test_malformed_lines_are_reported_with_file_and_line(logdir: Path, capsys) -> None:
    path = logdir / "good" / "20240101_000000" / "vis_data" / "scalars.json"
    text = path.read_text().splitlines()
    text.insert(3, '{"lr": 0.01, "loss": ')
    path.write_text("\n".join(text) + "\n")
    _code, out, err = run(capsys, "check", str(logdir / "good"), "--json")
    assert "line 4" in err and "scalars.json" in err
    assert json.loads(out)["runs"][0]["bad_lines"] == 1


def test_console_script_runs(logdir: Path) -> None:
    exe = Path(sys.executable).with_name("segwatch")
    p = subprocess.run(
        [str(exe), "check", str(logdir / "good"), "--json"], capture_output=True, text=True
    )
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["runs"][0]["run"] == "good"


def wide_csv(path: Path) -> None:
    """A user-written CSV whose columns segwatch cannot guess without a mapping."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = ["it,train_loss,val_jacc_pct"]
    for i, it in enumerate(range(100, 1100, 100)):
        rows.append(f"{it},{1.0 / (i + 1):.4f},{20 + 4 * i:.1f}")
    path.write_text("\n".join(rows) + "\n")


def test_column_mapping_from_flags_and_settings_file(tmp_path: Path, capsys) -> None:
    wide_csv(tmp_path / "custom" / "log.csv")
    args = ["--step-column", "it", "--map", "val_jacc_pct=miou", "--percent", "miou"]
    code, out, err = run(capsys, "check", str(tmp_path), "--json", *args)
    (entry,) = json.loads(out)["runs"]
    assert entry["best_miou"] == pytest.approx(0.56) and entry["best_step"] == 1000, err
    # the same mapping from LOGDIR/segwatch.toml
    (tmp_path / "segwatch.toml").write_text(
        '[columns]\nstep = "it"\npercent = ["miou"]\n[columns.map]\nval_jacc_pct = "miou"\n'
    )
    code, out, _ = run(capsys, "check", str(tmp_path), "--json")
    assert json.loads(out)["runs"][0]["best_miou"] == pytest.approx(0.56)
    code, _, err = run(capsys, "check", str(tmp_path), "--map", "nonsense")
    assert code == 2 and "COLUMN=METRIC" in err


def test_help_starts_without_the_library() -> None:
    """`segwatch --help` imports neither pandas nor numpy (start-up: bench/bench_startup.py)."""
    import subprocess
    import sys

    code = (
        "import sys, dashboard.cli; print(sorted({'pandas', 'numpy', 'scipy'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
