"""The TensorBoard event-file reader, on files written by the tensorboard package's own writer."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from readers_util import feed_in_pieces, read_whole
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, types_pb2
from tensorboard.plugins.scalar import summary_v2 as scalar_v2
from tensorboard.summary.writer.event_file_writer import EventFileWriter
from tensorboard.util import tensor_util

from metrics.readers.registry import finalize, read_log
from metrics.readers.tensorboard_events import TensorBoardFormat
from metrics.readers.tfrecord import HEADER_SIZE, masked_crc32c_many

FMT = TensorBoardFormat()
WALL0 = 1_700_000_000.0
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def scalar(step: int, tag: str, value: float, wall: float | None = None) -> event_pb2.Event:
    """An event as torch.utils.tensorboard's ``add_scalar`` writes it."""
    value_pb = summary_pb2.Summary.Value(tag=tag, simple_value=value)
    return event_pb2.Event(
        wall_time=WALL0 + step if wall is None else wall,
        step=step,
        summary=summary_pb2.Summary(value=[value_pb]),
    )


def tensor_scalar(step: int, tag: str, value: float, metadata: bool = True) -> event_pb2.Event:
    """An event as TF2's ``tf.summary.scalar`` writes it (tf.compat.v1 strips later metadata)."""
    summary = scalar_v2.scalar_pb(tag, value)
    if not metadata:
        summary.value[0].ClearField("metadata")
    return event_pb2.Event(wall_time=WALL0 + step, step=step, summary=summary)


def media(step: int) -> list[event_pb2.Event]:
    """Events that hold no scalar: a float tensor of another plugin, an image, a histogram,
    a TF2 image tensor, a graph."""
    image = summary_pb2.Summary.Image(height=1, width=1, colorspace=3, encoded_image_string=PNG)
    histo = summary_pb2.HistogramProto(min=0, max=1, num=3, bucket_limit=[0.5, 1], bucket=[1, 2])
    tf2_image = summary_pb2.Summary.Value(
        tag="val/prediction",
        tensor=tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=[b"1", b"1", PNG]),
        metadata=summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="images")
        ),
    )
    other_plugin = scalar_v2.scalar_pb("val/pr_curve", 0.5).value[0]  # a float, not a scalar
    other_plugin.metadata.plugin_data.plugin_name = "pr_curves"
    values = [
        other_plugin,
        summary_pb2.Summary.Value(tag="train/image", image=image),
        summary_pb2.Summary.Value(tag="train/weights", histo=histo),
        tf2_image,
    ]
    events = [
        event_pb2.Event(wall_time=WALL0 + step, step=step, summary=summary_pb2.Summary(value=[v]))
        for v in values
    ]
    return [*events, event_pb2.Event(wall_time=WALL0, step=step, graph_def=b"\x0a\x03abc" * 50)]


def write(tmp_path: Path, events: list[event_pb2.Event], name: str = "run") -> Path:
    """An event file written by tensorboard's ``EventFileWriter`` (file_version event first)."""
    folder = tmp_path / name
    writer = EventFileWriter(str(folder), max_queue_size=100_000)
    for event in events:
        writer.add_event(event)
    writer.close()
    (path,) = folder.glob("events.out.tfevents.*")
    return path


def write_many(tmp_path: Path, events: list[event_pb2.Event]) -> Path:
    """A long event file framed in bulk (the pure-Python writer takes seconds); the checks
    against EventAccumulator show that TensorBoard reads it."""
    version = event_pb2.Event(wall_time=WALL0, file_version="brain.Event:2")
    payloads = [p.SerializeToString() for p in (version, *events)]
    lengths = np.array([len(p) for p in payloads], np.int64)
    headers = b"".join(struct.pack("<Q", n) for n in lengths.tolist())
    at = np.arange(len(payloads), dtype=np.int64)
    buf = np.frombuffer(headers, np.uint8)
    header_crcs = masked_crc32c_many(buf, at * 8, np.full(len(at), 8)).tolist()
    body = b"".join(payloads)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    data_crcs = masked_crc32c_many(np.frombuffer(body, np.uint8), starts, lengths).tolist()
    parts = [
        headers[8 * i : 8 * i + 8]
        + struct.pack("<I", header_crcs[i])
        + p
        + struct.pack("<I", data_crcs[i])
        for i, p in enumerate(payloads)
    ]
    path = tmp_path / "events.out.tfevents.1700000000.host.1.0"
    path.write_bytes(b"".join(parts))
    return path


def rows(table: pd.DataFrame) -> list[tuple[int, str, str, float, float]]:
    """The records of a sorted table as tuples."""
    return [
        (int(r.step), str(r.split), str(r.metric), float(r.value), float(r.wall_time))
        for r in table.itertuples()
    ]


def read_bytes(data: bytes) -> tuple[pd.DataFrame, list[str]]:
    """Table and bad-record reasons of one whole read."""
    parser = FMT.new_parser()
    first, used = parser.feed(data, 0)
    last = parser.finish(data[used:], used)
    table = finalize([first, last], "run")[0]
    bad = [b.reason for b in first.bad_lines + last.bad_lines]
    return table.sort_values(["metric", "step"]).reset_index(drop=True), bad


def test_sniff_by_content_not_by_name(tmp_path: Path) -> None:
    path = write(tmp_path, [scalar(1, "loss", 0.5)])
    renamed = path.rename(tmp_path / "copy.bin")
    data = renamed.read_bytes()
    assert FMT.sniff(data, str(renamed))
    # an empty file is judged by its name: a writer that has not flushed yet (issue 18)
    assert FMT.sniff(b"", "logs/events.out.tfevents.1")
    assert not FMT.sniff(b"", "copy.bin")
    assert not FMT.sniff(b'{"loss": 0.5, "step": 1}\n' * 10, "x.json")
    assert not FMT.sniff(data[:20], "events.out.tfevents.1")  # first record incomplete
    damaged = bytearray(data)
    damaged[3] ^= 0x01
    assert not FMT.sniff(bytes(damaged), "events.out.tfevents.1")


def test_reads_every_kind_of_scalar_exactly(tmp_path: Path) -> None:
    long_tag = "train/" + "x" * 200  # a length prefix of two bytes: the proto path
    merged = event_pb2.Event(  # a TF1 merged summary: several values in one event
        wall_time=WALL0 + 7,
        step=7,
        summary=summary_pb2.Summary(
            value=[
                summary_pb2.Summary.Value(tag="momentum", simple_value=0.75),
                summary_pb2.Summary.Value(tag="grad_norm", simple_value=2.5),
                summary_pb2.Summary.Value(tag="h", histo=summary_pb2.HistogramProto(num=1)),
            ]
        ),
    )
    events = [
        scalar(0, "train/loss", 1.5),  # step 0 is not serialised at all
        scalar(1, "train/loss", 1.25, wall=WALL0 + 0.125),
        scalar(2**40, "train/loss", 0.5),
        *media(1),
        tensor_scalar(1, "val/mIoU", 0.25),
        tensor_scalar(2, "val/mIoU", 0.5, metadata=False),  # known from its first metadata
        tensor_scalar(3, "val/mIoU", 0.625, metadata=False),
        tensor_scalar(2, "lr", 0.125),
        merged,
        scalar(3, long_tag, -3.0),
        scalar(4, "train/loss_step", float("nan")),
        scalar(5, "train/loss_step", float("inf")),
    ]
    table = read_whole(FMT, write(tmp_path, events).read_bytes())
    got = {(s, split, m): (v, w) for s, split, m, v, w in rows(table)}
    expected = {
        (0, "train", "loss"): (1.5, WALL0),
        (1, "train", "loss"): (1.25, WALL0 + 0.125),
        (2**40, "train", "loss"): (0.5, WALL0 + 2**40),
        (1, "val", "miou"): (0.25, WALL0 + 1),
        (2, "val", "miou"): (0.5, WALL0 + 2),
        (3, "val", "miou"): (0.625, WALL0 + 3),
        (2, "train", "lr"): (0.125, WALL0 + 2),
        (7, "train", "momentum"): (0.75, WALL0 + 7),
        (7, "train", "grad_norm"): (2.5, WALL0 + 7),
        (3, "train", "x" * 200): (-3.0, WALL0 + 3),
        # a second tag naming train loss is a series of its own (issue 18: tags never merge)
        (5, "train", "loss [train/loss_step]"): (math.inf, WALL0 + 5),
    }
    nan_row = got.pop((4, "train", "loss [train/loss_step]"))
    assert math.isnan(nan_row[0]) and nan_row[1] == WALL0 + 4
    assert got == expected
    assert len(table) == len(expected) + 1  # images, histograms, graphs gave nothing


def test_keeps_every_point_beyond_the_reservoir(tmp_path: Path) -> None:
    path = write_many(tmp_path, [scalar(s, "train/loss", s / 8) for s in range(12_000)])
    sampled = EventAccumulator(str(path))  # the default keeps 10,000 points per tag
    sampled.Reload()
    assert len(sampled.Scalars("train/loss")) == 10_000
    table = read_whole(FMT, path.read_bytes())
    assert len(table) == 12_000
    assert (table["step"].to_numpy() == np.arange(12_000)).all()
    assert (table["value"].to_numpy() == np.arange(12_000) / 8).all()


def test_matches_event_accumulator(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    events = []
    for step in range(0, 3000, 3):
        events.append(scalar(step, "data_time", float(rng.random()), wall=WALL0 + rng.random()))
        events.append(scalar(step, "grad_norm", float(rng.normal() * 1e3)))
        if step % 300 == 0:
            events.append(tensor_scalar(step, "throughput", float(rng.random() * 100)))
            events.extend(media(step))
    path = write(tmp_path, events)
    acc = EventAccumulator(str(path), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    table = read_whole(FMT, path.read_bytes())
    for tag in ("data_time", "grad_norm"):
        want = [(e.step, e.value, e.wall_time) for e in acc.Scalars(tag)]
        sub = table[table["metric"] == tag]
        assert list(zip(sub["step"], sub["value"], sub["wall_time"], strict=True)) == want
    want = [
        (e.step, tensor_util.make_ndarray(e.tensor_proto).item(), e.wall_time)
        for e in acc.Tensors("throughput")
    ]
    sub = table[table["metric"] == "throughput"]
    assert list(zip(sub["step"], sub["value"], sub["wall_time"], strict=True)) == want


def test_units_follow_the_writing_framework(tmp_path: Path) -> None:
    def read(events: list[event_pb2.Event], name: str) -> dict[tuple[str, str], float]:
        table = read_whole(FMT, write(tmp_path, events, name).read_bytes())
        return {(str(r.split), str(r.metric)): float(r.value) for r in table.itertuples()}

    detectron2 = read(
        [
            scalar(4999, "total_loss", 0.5),
            scalar(4999, "sem_seg/mIoU", 45.0),
            scalar(4999, "sem_seg/IoU-road", 97.5),
            scalar(4999, "sem_seg/pACC", 90.0),
        ],
        "d2",
    )
    assert detectron2 == {
        ("train", "loss"): 0.5,
        ("val", "miou"): 0.45,
        ("val", "iou/road"): 0.975,
        ("val", "aacc"): 0.9,
    }
    mmseg1_flat = [scalar(50, "decode.loss_ce", 0.5), scalar(50, "mIoU", 71.5)]
    assert read(mmseg1_flat, "mm1")[("val", "miou")] == 0.715
    mmseg1_tree = [scalar(50, "train/lr", 0.01), scalar(50, "train/decode.loss_ce", 0.5)]
    assert read([*mmseg1_tree, scalar(50, "val/mIoU", 71.5)], "mm1h")[("val", "miou")] == 0.715
    mmseg0 = read(
        [
            scalar(50, "learning_rate", 0.01),
            scalar(50, "train/decode.loss_ce", 0.5),
            scalar(50, "val/mIoU", 0.6433),
            scalar(50, "val/IoU.road", 0.75),
        ],
        "mm0",
    )
    assert mmseg0 == {
        ("train", "lr"): float(np.float32(0.01)),
        ("train", "decode.loss_ce"): 0.5,
        ("val", "miou"): float(np.float32(0.6433)),
        ("val", "iou/road"): 0.75,
    }
    # a bare mIoU with no sign of MMSeg 1.x before it: kept as logged
    assert (
        read([scalar(5, "mIoU", 0.5), scalar(5, "decode.loss_ce", 1.0)], "bare")[("val", "miou")]
        == 0.5
    )


def test_user_options_override_names_and_units(tmp_path: Path) -> None:
    data = write(tmp_path, [scalar(1, "val/mIoU", 50.0), scalar(1, "junk", 1.0)]).read_bytes()
    parser = FMT.new_parser({"percent": ["val/mIoU"], "columns": {"junk": None}})
    parsed, _ = parser.feed(data, 0)
    table = finalize([parsed], "run")[0]
    assert rows(table) == [(1, "val", "miou", 0.5, WALL0 + 1)]


def relaunched_events(start: bool = False) -> list[event_pb2.Event]:
    """A run to step 99, relaunched from a checkpoint at step 50 into the same file (with
    ``start``, the relaunch writes a SessionLog START first, as ``purge_step`` does)."""
    events = []
    for launch, steps in enumerate((range(0, 100, 2), range(50, 120, 2))):
        if launch and start:
            status = event_pb2.SessionLog(status=event_pb2.SessionLog.START)
            events.append(event_pb2.Event(wall_time=WALL0 + 200, step=50, session_log=status))
        for step in steps:
            events.append(scalar(step, "train/loss", 1 + launch + step / 1000))
            events.append(scalar(step, "train/lr", 0.01))
            if step % 20 == 0:
                events.append(scalar(step, "val/mIoU", step / 200))
                events.extend(media(step))
    return events


def accumulated(path: Path) -> dict[str, list[int]]:
    """The steps TensorBoard's EventAccumulator shows per scalar tag (every point kept)."""
    acc = EventAccumulator(str(path), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [e.step for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_step_going_back_keeps_every_point(tmp_path: Path) -> None:
    # issue 18: without a SessionLog START, TensorBoard purges nothing in a brain.Event:2 file
    path = write(tmp_path, relaunched_events())
    data = read_log(str(path), format="tensorboard")
    assert data.restarts == ()
    shown = accumulated(path)
    for tag, metric in (("train/loss", "loss"), ("train/lr", "lr"), ("val/mIoU", "miou")):
        series = data.table[data.table["metric"] == metric]
        assert series["step"].tolist() == shown[tag]
    assert len(shown["train/loss"]) == 50 + 35


def test_session_log_start_is_one_restart(tmp_path: Path) -> None:
    path = write(tmp_path, relaunched_events(start=True))
    data = read_log(str(path), format="tensorboard")
    assert [(r.step, r.line) for r in data.restarts] == [(50, 1 + 50 * 2 + 5 * (1 + 5) + 1)]
    shown = accumulated(path)
    loss = data.table[data.table["metric"] == "loss"]
    assert loss["step"].tolist() == shown["train/loss"] == [*range(0, 50, 2), *range(50, 120, 2)]
    assert loss["value"].tolist() == [
        float(np.float32(1 + launch + s / 1000))
        for launch, steps in enumerate((range(0, 50, 2), range(50, 120, 2)))
        for s in steps
    ]
    miou = data.table[data.table["metric"] == "miou"]
    assert miou["step"].tolist() == shown["val/mIoU"] == [0, 20, 40, 60, 80, 100]


def test_tags_written_out_of_step_order_are_no_restart(tmp_path: Path) -> None:
    # Detectron2 writes each key at the iteration it was last put, in key order
    events = [scalar(19, "total_loss", 1.0), scalar(39, "total_loss", 0.9)]
    events += [scalar(39, "lr", 0.01), scalar(25, "data_time", 0.1), scalar(45, "data_time", 0.1)]
    data = read_log(str(write(tmp_path, events)), format="tensorboard")
    assert data.restarts == ()
    assert len(data.table) == 5


def test_session_log_start_voids_later_steps(tmp_path: Path) -> None:
    start = event_pb2.SessionLog(status=event_pb2.SessionLog.START)
    events = [
        event_pb2.Event(wall_time=WALL0, step=0, session_log=start),  # a fresh start: no restart
        *[scalar(s, "val/mIoU", 0.5) for s in range(0, 10, 2)],
        event_pb2.Event(wall_time=WALL0 + 20, step=4, session_log=start),
        *[scalar(s, "val/mIoU", 0.75) for s in range(4, 8, 2)],
    ]
    data = read_log(str(write(tmp_path, events)), format="tensorboard")
    # the fresh start voids nothing here: noted only for what it may void in earlier files
    assert [(r.step, r.earlier_files) for r in data.restarts] == [(0, True), (4, False)]
    assert rows(data.table.sort_values("step"))[1:] == [
        (2, "val", "miou", 0.5, WALL0 + 2),
        (4, "val", "miou", 0.75, WALL0 + 4),
        (6, "val", "miou", 0.75, WALL0 + 6),
    ]


def record_bounds(data: bytes) -> list[int]:
    """Byte offsets where each record ends."""
    ends, pos = [], 0
    while pos < len(data):
        pos += HEADER_SIZE + 4 + int.from_bytes(data[pos : pos + 8], "little")
        ends.append(pos)
    return ends


def prefix_table(data: bytes, end: int) -> pd.DataFrame:
    """What the complete records before ``end`` give."""
    return read_bytes(data[:end])[0]


def test_truncated_file_gives_the_records_before_it(tmp_path: Path) -> None:
    data = write(tmp_path, relaunched_events()[:60]).read_bytes()
    ends = record_bounds(data)
    for k in (3, 10, 40):
        for cut in (ends[k - 1] + 5, ends[k - 1] + HEADER_SIZE + 3, ends[k] - 2):
            table, bad = read_bytes(data[:cut])
            pd.testing.assert_frame_equal(table, prefix_table(data, ends[k - 1]))
            assert len(bad) == 1 and bad[0].startswith("truncated record")


def test_corrupt_length_ends_the_read(tmp_path: Path) -> None:
    data = bytearray(write(tmp_path, relaunched_events()[:60]).read_bytes())
    ends = record_bounds(bytes(data))
    data[ends[20] + 1] ^= 0x40  # the length of record 22
    table, bad = read_bytes(bytes(data))
    pd.testing.assert_frame_equal(table, prefix_table(bytes(data), ends[20]))
    assert len(bad) == 1 and "fails its CRC" in bad[0]


def test_corrupt_data_ends_the_read(tmp_path: Path) -> None:
    """TensorBoard's rule: after a payload fails its CRC, nothing frames the next record."""
    events = [scalar(s, "train/loss", s / 4) for s in range(1, 40)]
    data = bytearray(write(tmp_path, events).read_bytes())
    ends = record_bounds(bytes(data))
    data[ends[11] - 6] ^= 0x01  # a value byte of record 12, i.e. step 11
    table, bad = read_bytes(bytes(data))
    pd.testing.assert_frame_equal(table, prefix_table(bytes(data), ends[10]))
    assert table["step"].tolist() == list(range(1, 11))
    assert len(bad) == 1 and "data CRC" in bad[0]


def test_bytes_inserted_in_a_payload_never_frame_a_record(tmp_path: Path) -> None:
    """Fuzz seed 10091217: bytes inserted into record 12's payload hold, where its verified
    length points, a copy of record 4 (both CRCs pass); it must not be read as step 3 again."""
    events = [scalar(s, "train/loss", s / 4) for s in range(1, 40)]
    data = write(tmp_path, events).read_bytes()
    ends = record_bounds(data)
    at, size = ends[10], ends[11] - ends[10]  # record 12: header, payload, footer
    copy = data[ends[2] : ends[3]]  # record 4, step 3, whole
    data = data[: at + HEADER_SIZE] + bytes(size - HEADER_SIZE) + copy + data[at + HEADER_SIZE :]
    table, bad = read_bytes(data)
    assert table["step"].tolist() == list(range(1, 11))
    assert len(bad) == 1 and "data CRC" in bad[0]
    whole = read_whole(FMT, data)
    for cut in (at + 5, at + size, at + size + 20, at + size + len(copy) + 3):
        pd.testing.assert_frame_equal(feed_in_pieces(FMT, data, [cut]), whole)


class Blob(bytes):
    """File bytes that hypothesis reports by size, not by content."""

    def __repr__(self) -> str:
        return f"<{len(self)} bytes of event file>"


@pytest.fixture(scope="module")
def mixed_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Blob, pd.DataFrame]:
    events = relaunched_events(start=True)
    events += [tensor_scalar(s, "val/mAcc", s / 64) for s in range(9)]
    data = Blob(write(tmp_path_factory.mktemp("tb"), events).read_bytes())
    return data, read_whole(FMT, data)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cuts=st.lists(st.integers(min_value=1, max_value=60_000), max_size=10))
def test_fed_in_pieces_equals_one_read(
    mixed_file: tuple[Blob, pd.DataFrame], cuts: list[int]
) -> None:
    data, whole = mixed_file
    assert len(whole) == 60 + 60 + 6 + 9  # loss, lr, miou after the restart; mAcc
    pd.testing.assert_frame_equal(feed_in_pieces(FMT, data, cuts), whole)


def test_growing_file_consumes_only_complete_records(tmp_path: Path) -> None:
    data = write(tmp_path, [scalar(s, "train/loss", 0.5) for s in range(5)]).read_bytes()
    ends = record_bounds(data)
    parser = FMT.new_parser()
    parsed, used = parser.feed(data[: ends[2] + 7], 0)
    assert used == ends[2] and len(parsed.records) == 2  # file_version event + 2 scalars
    parsed, used = parser.feed(data[ends[2] :], ends[2])
    assert used == len(data) - ends[2] and parsed.records["step"].tolist() == [2, 3, 4]
    assert parsed.records["offset"].tolist() == ends[2:5]


def test_read_log_detects_the_format(tmp_path: Path) -> None:
    path = write(tmp_path, [scalar(3, "train/loss", 0.5)])
    data = read_log(str(path))
    assert data.format == "tensorboard"
    assert rows(data.table) == [(3, "train", "loss", 0.5, WALL0 + 3)]


def test_extreme_steps_survive_bulk_decoding(tmp_path: Path) -> None:
    events = [scalar(-5, "loss", 0.5, wall=WALL0), scalar(2**62 + 1, "loss", 0.25, wall=WALL0)]
    table = read_whole(FMT, write(tmp_path, events).read_bytes())
    assert table["step"].tolist() == [-5, 2**62 + 1]
    assert table["value"].tolist() == [0.5, 0.25]
