"""Run discovery and merging: naming, twins read once, resumed launches, fsspec URLs."""

from __future__ import annotations

from pathlib import Path

import fsspec
import pytest

from metrics.errors import LogReadError
from metrics.runs import discover_runs, load_run
from tests.fake_format import fake_formats


@pytest.fixture(autouse=True)
def _fakes():
    with fake_formats():
        yield


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_runs_are_named_by_folder_and_non_logs_skipped(tmp_path: Path) -> None:
    write(tmp_path / "exp1" / "train.log", "FAKE step=1 loss=1\n")
    write(tmp_path / "exp2" / "deep" / "train.log", "FAKE step=1 loss=1\n")
    write(tmp_path / "exp2" / "deep" / "notes.txt", "nothing to see\n")
    write(tmp_path / "exp2" / "deep" / "model.pth", "FAKE step=1 loss=1\n")
    write(tmp_path / ".hidden" / "train.log", "FAKE step=1 loss=1\n")
    runs = discover_runs(str(tmp_path))
    assert [r.name for r in runs] == ["exp1", "exp2/deep"]
    assert all(len(r.files) == 1 for r in runs)


def test_timestamped_launches_in_one_work_dir_make_one_run(tmp_path: Path) -> None:
    write(
        tmp_path / "work" / "20230101_000000" / "vis_data" / "a.log",
        "FAKE step=1 loss=1\nFAKE step=2 loss=0.9\nFAKE step=3 loss=0.8\n",
    )
    write(
        tmp_path / "work" / "20230102_000000" / "vis_data" / "a.log",
        "FAKE step=3 loss=0.5\nFAKE step=4 loss=0.4\n",
    )
    (run,) = discover_runs(str(tmp_path))
    assert run.name == "work" and len(run.files) == 2
    loaded = load_run(run)
    loss = loaded.table.sort_values("step")
    # the resumed launch takes over from its first step on
    assert list(loss["step"]) == [1, 2, 3, 4]
    assert list(loss["value"]) == [1.0, 0.9, 0.5, 0.4]


def test_twins_are_read_once_and_complete_each_other(tmp_path: Path) -> None:
    # two formats in one folder, one launch: each metric comes from the preferred file
    write(tmp_path / "run" / "state.json", "FAKEDOC\nFAKE step=1 loss=1 miou=0.5\n")
    write(tmp_path / "run" / "train.log", "FAKE step=1 loss=1 acc=0.9\n")
    (src,) = discover_runs(str(tmp_path))
    run = load_run(src)
    metrics = sorted(run.table["metric"].astype(str))
    assert metrics == ["acc", "loss", "miou"]  # loss once, acc from the text twin


def test_unrelated_logs_side_by_side_are_separate_runs(tmp_path: Path) -> None:
    write(tmp_path / "exp" / "a.log", "FAKE step=1 loss=1\n")
    write(tmp_path / "exp" / "b.log", "FAKE step=1 loss=2\n")
    assert [r.name for r in discover_runs(str(tmp_path))] == ["exp/a.log", "exp/b.log"]


def test_a_single_file_is_a_run(tmp_path: Path) -> None:
    write(tmp_path / "x.log", "FAKE step=1 loss=1\n")
    (run,) = discover_runs(str(tmp_path / "x.log"))
    assert run.name == "x.log" and load_run(run).table["value"].tolist() == [1.0]


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LogReadError, match="no such file or folder"):
        discover_runs(str(tmp_path / "nope"))


def test_memory_filesystem_url() -> None:
    fs = fsspec.filesystem("memory")
    fs.pipe("/segwatch-test/runs/a/train.log", b"FAKE step=1 loss=1\nFAKE step=2 loss=0.5\n")
    fs.pipe("/segwatch-test/runs/b/train.log", b"FAKE step=5 loss=3\n")
    try:
        runs = discover_runs("memory://segwatch-test/runs")
        assert [r.name for r in runs] == ["a", "b"]
        assert sorted(load_run(runs[0]).table["step"]) == [1, 2]
    finally:
        fs.rm("/segwatch-test", recursive=True)


def test_symlinks_pointing_out_of_the_log_folder_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside / "secret.log", "FAKE step=1 loss=1\n")
    logdir = tmp_path / "logs"
    write(logdir / "ok" / "train.log", "FAKE step=1 loss=1\n")
    (logdir / "escape").mkdir()
    (logdir / "escape" / "train.log").symlink_to(outside / "secret.log")
    (logdir / "dir_link").symlink_to(outside, target_is_directory=True)
    runs = discover_runs(str(logdir))
    assert [r.name for r in runs] == ["ok"]
    assert all("outside" not in f.path for r in runs for f in r.files)


def test_symlinked_folders_are_not_walked_so_a_loop_cannot_hang_discovery(tmp_path: Path) -> None:
    logdir = tmp_path / "logs"
    write(logdir / "ok" / "train.log", "FAKE step=1 loss=1\n")
    (logdir / "sub").mkdir()
    (logdir / "sub" / "same_run").symlink_to(logdir / "ok", target_is_directory=True)
    (logdir / "sub" / "loop").symlink_to(logdir, target_is_directory=True)
    runs = discover_runs(str(logdir))
    assert [r.name for r in runs] == ["ok"]  # the run once, under its real folder


def test_a_format_declares_its_folders_twins_and_precision_with_its_reader(tmp_path: Path) -> None:
    """Everything discovery knows about a format comes from its class: adding a format needs
    no table elsewhere (the inner folder, the canonical twin and the precision rank here)."""
    from metrics.readers import registry
    from tests.fake_format import FakeFormat

    class Declared(FakeFormat):
        name = "declared"
        detect_rank = -1  # tried before the other fakes
        precision_rank = 5
        canonical_names = ("canon.log",)
        inner_dirs = "fake_inner"

        def sniff(self, head: bytes, path: str) -> bool:
            return head.startswith(b"FAKE ") and path.endswith(".log")

    fmt = Declared()
    registry._FORMATS.insert(0, fmt)
    try:
        same = "FAKE step=1 loss=1\nFAKE step=2 loss=0.5\n"
        write(tmp_path / "exp" / "fake_inner" / "copy.log", same)
        write(tmp_path / "exp" / "fake_inner" / "canon.log", same)
        (run,) = discover_runs(str(tmp_path))
        assert run.name == "exp"  # the inner folder does not name the run
        (f,) = run.files  # identical twins read once: the canonical one kept
        assert f.path.endswith("canon.log") and f.format == "declared" and f.priority == 5
    finally:
        registry._FORMATS.remove(fmt)
