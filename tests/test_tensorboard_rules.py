"""Issue 18's rules on small generated event files: restarts per file version, one run per
folder, distinct tags, damaged media, late scalars metadata; checked against EventAccumulator."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from readers_util import feed_in_pieces, read_whole
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.scalar import summary_v2 as scalar_v2

from metrics.readers.base import Restart
from metrics.readers.registry import read_log
from metrics.readers.restarts import apply_restarts, void_in_earlier
from metrics.readers.tensorboard_events import TensorBoardFormat
from metrics.readers.tfrecord import HEADER_SIZE, frame_bytes
from metrics.runs.discover import discover_runs
from metrics.runs.load import load_run
from metrics.schema import frame_of

FMT = TensorBoardFormat()
WALL0 = 1_700_000_000.0
START = event_pb2.SessionLog(status=event_pb2.SessionLog.START)


def scalar(step: int, tag: str, value: float = 0.5) -> event_pb2.Event:
    value_pb = summary_pb2.Summary.Value(tag=tag, simple_value=value)
    return event_pb2.Event(
        wall_time=WALL0 + step, step=step, summary=summary_pb2.Summary(value=[value_pb])
    )


def histogram(step: int) -> event_pb2.Event:
    histo = summary_pb2.HistogramProto(min=0, max=1, num=3, bucket_limit=[0.5, 1], bucket=[1, 2])
    value = summary_pb2.Summary.Value(tag="weights", histo=histo)
    return event_pb2.Event(wall_time=WALL0, step=step, summary=summary_pb2.Summary(value=[value]))


def event_file(path: Path, events: list[event_pb2.Event], version: str = "brain.Event:2") -> Path:
    """An event file: a ``file_version`` event, then ``events``, each framed as TFRecord."""
    path.parent.mkdir(parents=True, exist_ok=True)
    first = event_pb2.Event(wall_time=WALL0, file_version=version)
    path.write_bytes(b"".join(frame_bytes(e.SerializeToString()) for e in [first, *events]))
    return path


def accumulated(folder: Path) -> dict[str, list[int]]:
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [e.step for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def steps_of(table: pd.DataFrame, metric: str) -> list[int]:
    return table.loc[table["metric"] == metric, "step"].tolist()


def test_legacy_file_purges_per_tag(tmp_path: Path) -> None:
    """brain.Event:1: an event below the highest step so far voids only its own tags' points
    from its step on; a restart is noted where that voids something."""
    events = [scalar(s, tag) for s in range(10) for tag in ("train/loss", "train/lr")]
    events.append(scalar(9, "val/mIoU"))
    events += [scalar(s, tag) for s in range(5, 8) for tag in ("train/loss", "train/lr")]
    path = event_file(tmp_path / "run" / "events.out.tfevents.1", events, "brain.Event:1")
    data = read_log(str(path))
    shown = accumulated(path.parent)
    assert steps_of(data.table, "loss") == shown["train/loss"] == list(range(8))
    assert steps_of(data.table, "lr") == shown["train/lr"] == list(range(8))
    assert steps_of(data.table, "miou") == shown["val/mIoU"] == [9]  # never went back
    assert [(r.step, r.series) for r in data.restarts] == [
        (5, ("train", "loss")),
        (5, ("train", "lr")),
    ]


def test_modern_file_keeps_every_point_of_a_step_going_back(tmp_path: Path) -> None:
    events = [scalar(s, "train/loss") for s in (*range(10), *range(5, 8))]
    path = event_file(tmp_path / "run" / "events.out.tfevents.1", events)
    data = read_log(str(path))
    assert steps_of(data.table, "loss") == accumulated(path.parent)["train/loss"]
    assert len(data.table) == 13 and data.restarts == ()


def test_purge_step_voids_earlier_files_of_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    event_file(folder / "events.out.tfevents.1.a", [scalar(s, "loss") for s in range(10)])
    resumed = [event_pb2.Event(wall_time=WALL0 + 50, step=6, session_log=START)]
    resumed += [scalar(s, "loss", 0.25) for s in range(6, 12)]
    event_file(folder / "events.out.tfevents.2.b", resumed)
    (source,) = discover_runs(str(tmp_path))
    run = load_run(source, facts=False)
    assert len(run.files) == 2
    assert steps_of(run.table, "loss") == accumulated(folder)["loss"] == list(range(12))
    assert run.table["value"].tolist() == [0.5] * 6 + [0.25] * 6
    assert [r.step for r in run.restarts] == [6]


def test_a_fresh_start_voiding_nothing_is_not_reported(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    first = [event_pb2.Event(wall_time=WALL0, step=0, session_log=START)]
    event_file(folder / "events.out.tfevents.1.a", first + [scalar(s, "loss") for s in range(5)])
    later = [event_pb2.Event(wall_time=WALL0 + 9, step=5, session_log=START)]
    event_file(folder / "events.out.tfevents.2.b", later + [scalar(s, "loss") for s in (5, 6)])
    (source,) = discover_runs(str(tmp_path))
    run = load_run(source, facts=False)
    assert run.restarts == ()
    assert steps_of(run.table, "loss") == accumulated(folder)["loss"] == list(range(7))


def test_void_in_earlier_scopes_and_reports() -> None:
    def table(steps: list[int], metric: str = "loss") -> pd.DataFrame:
        n = len(steps)
        return frame_of(
            {
                "run": pd.Categorical(["r"] * n),
                "step": steps,
                "split": pd.Categorical(["train"] * n),
                "metric": pd.Categorical([metric] * n),
                "value": [0.0] * n,
                "wall_time": [0.0] * n,
            }
        )

    scoped = Restart(0, 3, 1, series=("train", "lr"))
    silent = Restart(0, 99, 1, earlier_files=True)
    tables, reported = void_in_earlier(
        [table([0, 1, 2, 3, 4]), table([0, 5]), table([3])],
        [[], [Restart(0, 2, 1, earlier_files=True), silent], [scoped]],
    )
    assert tables[0]["step"].tolist() == [0, 1]
    assert tables[1]["step"].tolist() == [0, 5]
    assert [r.step for r in reported] == [2, 3]  # the silent one voided nothing


def test_apply_restarts_confined_to_a_series() -> None:
    records = pd.DataFrame(
        {
            "offset": [0, 1, 2, 3],
            "step": [5, 5, 6, 6],
            "split": ["train"] * 4,
            "metric": ["loss", "lr", "loss", "lr"],
        }
    )
    kept = apply_restarts(records, [Restart(10, 5, 3, series=("train", "lr"))])
    assert kept["metric"].tolist() == ["loss", "loss"]


def test_colliding_tags_are_suffixed_and_listed(tmp_path: Path) -> None:
    events = [scalar(s, tag) for s in range(3) for tag in ("loss", "train/loss", "Loss/train")]
    data = read_log(str(event_file(tmp_path / "run" / "events.out.tfevents.1", events)))
    metrics = sorted(data.table["metric"].unique())
    assert metrics == ["loss", "loss [Loss/train]", "loss [train/loss]"]
    assert data.meta.renamed_tags == {
        "train/loss": "loss [train/loss]",
        "Loss/train": "loss [Loss/train]",
    }


def test_user_mapping_may_merge_tags_on_purpose(tmp_path: Path) -> None:
    events = [scalar(0, "a"), scalar(1, "b")]
    path = event_file(tmp_path / "run" / "events.out.tfevents.1", events)
    data = read_log(str(path), options={"columns": {"a": "loss", "b": "loss"}})
    assert data.table["metric"].tolist() == ["loss", "loss"]


def test_damaged_histogram_is_reported_and_the_read_goes_on(tmp_path: Path) -> None:
    events = [scalar(s, "train/loss", s / 4) for s in range(6)]
    events.insert(3, histogram(2))
    path = event_file(tmp_path / "run" / "events.out.tfevents.1", events)
    data = bytearray(path.read_bytes())
    at = data.find(b"weights")
    assert at > 0
    data[at + 10] ^= 0x01  # a byte of the histogram, past its tag
    table, bad = read_whole(FMT, bytes(data)), FMT.new_parser().feed(bytes(data), 0)[0]
    assert table["step"].tolist() == list(range(6))
    assert [b.line for b in bad.bad_lines] == [5]  # the file_version event is record 1
    assert "passed over" in bad.bad_lines[0].reason


def test_scalars_before_late_metadata_are_kept_in_any_pieces(tmp_path: Path) -> None:
    def tensor(step: int, metadata: bool) -> event_pb2.Event:
        summary = scalar_v2.scalar_pb("val/mIoU", step / 10)
        if not metadata:
            summary.value[0].ClearField("metadata")
        return event_pb2.Event(wall_time=WALL0 + step, step=step, summary=summary)

    events = [tensor(s, metadata=s == 3) for s in range(6)]
    data = event_file(tmp_path / "run" / "events.out.tfevents.1", events).read_bytes()
    whole = read_whole(FMT, data)
    assert whole["step"].tolist() == list(range(6))
    bounds = [HEADER_SIZE + 1]
    pos = 0
    while pos < len(data):
        pos += HEADER_SIZE + 4 + int.from_bytes(data[pos : pos + 8], "little")
        bounds.append(pos)
    for cut in bounds:
        pd.testing.assert_frame_equal(feed_in_pieces(FMT, data, [cut]), whole)


@pytest.mark.parametrize("plugin", ["histograms", None])
def test_tensors_of_other_or_no_plugin_stay_out(tmp_path: Path, plugin: str | None) -> None:
    summary = scalar_v2.scalar_pb("x", 0.5)
    if plugin is None:
        summary.value[0].ClearField("metadata")
    else:
        summary.value[0].metadata.plugin_data.plugin_name = plugin
    events = [event_pb2.Event(wall_time=WALL0, step=1, summary=summary), scalar(2, "loss")]
    data = read_log(str(event_file(tmp_path / "run" / "events.out.tfevents.1", events)))
    assert data.table["metric"].tolist() == ["loss"]
