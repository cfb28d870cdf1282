"""Issue 14, item 2: every file opened for a run (logs, side files, saved reports) must lie inside
LOGDIR once symlinks are followed, checked when it is opened, not only at discovery."""

from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path

import pytest

from dashboard.cli import main
from metrics import read_log
from metrics.errors import LogReadError, MetricsError
from metrics.masks.data_report import load_eval
from metrics.readers.confine import check_inside, real_root
from metrics.runs import LogTailer, discover_runs, facts_for_run, load_run

SAMPLES = Path(__file__).resolve().parents[1] / "sample_logs"
HF = SAMPLES / "hf" / "segformer-b0_sidewalk_flatloss"
LIGHTNING = SAMPLES / "lightning" / "unet_r34_camvid_slow"
SECRET_LABELS = {"0": "SECRET-ROAD", "1": "SECRET-SKY"}


def _secret(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "config.json").write_text(
        json.dumps({"id2label": SECRET_LABELS, "num_labels": 2, "model_type": "secret"})
    )
    (outside / "hparams.yaml").write_text("num_classes: 77\nsecret: SECRET-HPARAM\n")
    return outside


def _facts(path: Path):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (source,) = discover_runs(str(path))
        return facts_for_run(load_run(source))


def test_symlinked_config_json_outside_logdir_is_not_read(tmp_path: Path) -> None:
    outside = _secret(tmp_path)
    logdir = tmp_path / "logs"
    shutil.copytree(HF, logdir / "run")
    (logdir / "run" / "config.json").symlink_to(outside / "config.json")
    facts = _facts(logdir)
    assert facts.class_names is None and "SECRET" not in json.dumps(dict(facts.config))


def test_trainer_state_at_top_of_logdir_does_not_read_the_parent_folder(tmp_path: Path) -> None:
    shutil.copy(_secret(tmp_path) / "config.json", tmp_path / "config.json")
    logdir = tmp_path / "logs"
    logdir.mkdir()
    shutil.copy(HF / "trainer_state.json", logdir / "trainer_state.json")
    facts = _facts(logdir)
    assert facts.class_names is None and "SECRET" not in json.dumps(dict(facts.config))


def test_symlinked_hparams_yaml_is_not_read_and_diff_shows_nothing_of_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = _secret(tmp_path)
    shutil.copytree(LIGHTNING, tmp_path / "a")
    shutil.copytree(LIGHTNING, tmp_path / "b")
    hparams = tmp_path / "b" / "version_0" / "hparams.yaml"
    hparams.unlink()
    hparams.symlink_to(outside / "hparams.yaml")
    assert main(["diff", "--json", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    assert "SECRET" not in capsys.readouterr().out


def test_log_swapped_for_a_symlink_after_discovery_is_refused_at_read(tmp_path: Path) -> None:
    outside = _secret(tmp_path)
    secret_log = outside / "metrics.csv"
    shutil.copy(LIGHTNING / "version_0" / "metrics.csv", secret_log)
    shutil.copytree(LIGHTNING, tmp_path / "logs" / "run")
    (source,) = discover_runs(str(tmp_path / "logs"))
    log = tmp_path / "logs" / "run" / "version_0" / "metrics.csv"
    tailer = LogTailer(str(log), format="lightning-csv", root=source.files[0].root)
    assert len(tailer.poll()) > 0
    log.unlink()
    log.symlink_to(secret_log)
    with pytest.raises(LogReadError, match="resolves outside the log folder"):
        tailer.poll()
    with pytest.raises(LogReadError, match="resolves outside the log folder"):
        read_log(str(log), root=source.files[0].root)
    with pytest.raises(MetricsError, match="resolves outside"):
        load_run(source)


def test_saved_report_symlinked_out_of_logdir_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "segwatch-eval.json").write_text("{}")
    logdir = tmp_path / "logs"
    logdir.mkdir()
    (logdir / "segwatch-eval.json").symlink_to(outside / "segwatch-eval.json")
    with pytest.raises(MetricsError, match="resolves outside the log folder"):
        load_eval(logdir / "segwatch-eval.json", real_root(str(logdir)))


def test_check_inside_rule(tmp_path: Path) -> None:
    root = real_root(str(tmp_path / "in"))
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "f").write_text("x")
    check_inside(str(tmp_path / "in" / "f"), root)
    check_inside("/etc/passwd", None)  # no root: no rule
    for bad in ("/etc/passwd", str(tmp_path / "in" / ".." / "out")):
        with pytest.raises(LogReadError, match="outside"):
            check_inside(bad, root)
    os.symlink(tmp_path, tmp_path / "in" / "up")
    with pytest.raises(LogReadError, match="outside"):
        check_inside(str(tmp_path / "in" / "up" / "x"), root)


def test_a_log_file_named_on_the_command_line_may_be_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "data" / "run" / "version_0"
    shutil.copytree(LIGHTNING / "version_0", real)
    (tmp_path / "link.csv").symlink_to(real / "metrics.csv")
    (source,) = discover_runs(str(tmp_path / "link.csv"))
    assert len(load_run(source).table) > 0  # the named file itself is read
    (tmp_path / "hparams.yaml").write_text("secret: SECRET-HPARAM\n")
    facts = _facts(tmp_path / "link.csv")  # beside the link, outside the real file's folder
    assert "SECRET" not in json.dumps(dict(facts.config))
