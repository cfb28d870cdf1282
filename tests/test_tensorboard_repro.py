"""Issue 18 on real writers' files: segwatch reads each folder of event files as TensorBoard does.

The files (``../shared/repro/tensorboard/``, see its README) were written by tensorboardX,
``tensorboard.summary.Writer``, TF2 and Keras, or damaged on purpose. Every run folder is read
both ways: TensorBoard's ``EventAccumulator`` (one run per folder, every point kept) and
segwatch's discovery and merge; each tag's steps must be one series' steps, no two tags merged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.util import tensor_util

from metrics.runs.discover import discover_runs
from metrics.runs.load import load_run
from metrics.runs.merge import Run

REPRO = Path(__file__).resolve().parent.parent.parent / "shared" / "repro" / "tensorboard"
AGREED = [
    "tbx_step_per_batch",
    "tbx_unsplit_back",
    "tbx_steps_back",
    "tf2_steps_back",
    "tbx_sessionlog_start",
    "tbx_purge_resume",
    "public_duplicate_steps",
    "tbx_collision",
    "keras_fit",
    "tbx_add_scalars",
    "tensor_meta_late",
]


@pytest.fixture(scope="module")
def repro() -> Path:
    if not (REPRO / "README.md").is_file():
        pytest.skip(f"TensorBoard repro files not found at {REPRO} (only CI and developers)")
    return REPRO


def shown_by_tensorboard(folder: Path) -> dict[str, list[int]]:
    """Steps per tag of the scalars TensorBoard shows for one run folder: simple values, and
    one-element tensors of tags whose metadata names the scalars plugin."""
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    tags = acc.Tags()
    shown = {tag: [e.step for e in acc.Scalars(tag)] for tag in tags["scalars"]}
    for tag in tags["tensors"]:
        if acc.SummaryMetadata(tag).plugin_data.plugin_name != "scalars":
            continue
        events = acc.Tensors(tag)
        if all(tensor_util.make_ndarray(e.tensor_proto).size == 1 for e in events):
            shown[tag] = [e.step for e in events]
    return shown


def run_folders(root: Path) -> list[Path]:
    """Every folder holding event files (a TensorBoard run)."""
    return sorted({p.parent for p in root.rglob("events.out.tfevents.*")})


def read_runs(root: Path) -> dict[Path, Run]:
    """segwatch's runs below ``root``, by folder."""
    return {Path(s.path): load_run(s, facts=False) for s in discover_runs(str(root))}


def series_steps(run: Run) -> dict[tuple[str, str], list[int]]:
    table = run.table
    return {
        (str(split), str(metric)): group["step"].tolist()
        for (split, metric), group in table.groupby(["split", "metric"], observed=True)
    }


@pytest.mark.parametrize("name", AGREED)
def test_every_tag_is_one_series_with_tensorboards_points(repro: Path, name: str) -> None:
    runs = read_runs(repro / name)
    folders = run_folders(repro / name)
    assert sorted(runs) == folders  # one run per folder of event files
    for folder in folders:
        shown = shown_by_tensorboard(folder)
        got = series_steps(runs[folder])
        assert len(got) == len(shown), (folder, sorted(got), sorted(shown))
        # each series is a tag's points (steps sorted alike: segwatch keeps file order per tag)
        assert sorted(got.values()) == sorted(shown.values()), folder


def test_issue_counts(repro: Path) -> None:
    """The counts the issue quotes, read by segwatch."""
    cases = {
        "tbx_step_per_batch": {("train", "loss"): 500, ("val", "miou"): 5},
        "tbx_steps_back": {("train", "loss"): 200, ("val", "miou"): 20},
        "tf2_steps_back": {("train", "loss"): 170},
        "tbx_purge_resume": {("train", "loss"): 120},
    }
    for name, counts in cases.items():
        (run,) = read_runs(repro / name).values()
        assert {k: len(v) for k, v in series_steps(run).items()} == counts, name
    for run in read_runs(repro / "public_duplicate_steps").values():
        assert {len(v) for v in series_steps(run).values()} == {210}


def test_restarts_applied_are_reported(repro: Path) -> None:
    (resumed,) = read_runs(repro / "tbx_purge_resume").values()
    assert [r.step for r in resumed.restarts] == [60]  # purge_step=60 voided the first file's
    (started,) = read_runs(repro / "tbx_sessionlog_start").values()
    assert [r.step for r in started.restarts] == [40]
    for name in ("tbx_step_per_batch", "tbx_steps_back", "tf2_steps_back", "tbx_unsplit_back"):
        (run,) = read_runs(repro / name).values()
        assert run.restarts == (), name


def test_distinct_tags_stay_distinct(repro: Path) -> None:
    (run,) = read_runs(repro / "tbx_collision").values()
    names = set(series_steps(run))
    assert {("train", "loss"), ("val", "miou")} <= names
    assert len(names) == 5
    renamed = run.meta.renamed_tags
    assert set(renamed) | {"loss", "val/mIoU"} == {
        "loss",
        "train/loss",
        "Loss/train",
        "val/mIoU",
        "mIoU",
    }


def test_split_from_folder_layout(repro: Path) -> None:
    runs = read_runs(repro / "tbx_add_scalars")
    by_name = {r.name: set(series_steps(r)) for r in runs.values()}
    assert by_name["loss/train"] == {("train", "loss")}
    assert by_name["loss/val"] == {("val", "loss")}
    assert by_name["mIoU/val"] == {("val", "miou")}
    keras = {r.name: set(series_steps(r)) for r in read_runs(repro / "keras_fit").values()}
    assert {("train", "miou"), ("train", "loss"), ("train", "miou_epoch")} <= keras["train"]
    assert {("val", "miou"), ("val", "loss"), ("val", "miou_vs_iterations")} <= keras["validation"]
    assert all(split == "val" for split, _ in keras["validation"])


def test_damaged_histogram_is_reported_and_passed_over(repro: Path) -> None:
    folder = repro / "corrupt_histo_payload"
    with pytest.warns(UserWarning, match="fails its data CRC"):
        (run,) = read_runs(folder).values()
    assert len(run.bad_lines) == 1
    assert "fails its data CRC" in run.bad_lines[0][1].reason
    shown = shown_by_tensorboard(folder)  # TensorBoard stops at the damaged record
    got = sorted(series_steps(run).values())
    assert len(got) == len(shown)
    for steps, tb in zip(got, sorted(shown.values()), strict=True):
        assert steps[: len(tb)] == tb and len(steps) > len(tb)


def test_empty_events_file_is_a_waiting_run(tmp_path: Path) -> None:
    folder = tmp_path / "live"
    folder.mkdir()
    (folder / "events.out.tfevents.1796439666.host.1.0").write_bytes(b"")
    (source,) = discover_runs(str(tmp_path))
    run = load_run(source, facts=False)
    assert run.name == "live" and run.format == "tensorboard"
    assert run.table.empty and run.bad_lines == () and run.restarts == ()
    assert np.array_equal(run.table.columns, load_run(source, facts=False).table.columns)
