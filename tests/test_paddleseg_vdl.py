"""VisualDL record files: the real ESPNet run, and records written as VisualDL's writer does."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.readers.paddleseg_text import PaddleSegText
from metrics.readers.paddleseg_vdl import VisualDL, metric_of
from metrics.readers.registry import finalize
from tests.readers_util import feed_in_pieces, read_whole

FMT = VisualDL()


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def value(step: int, tag: str, timestamp: int, v: float | None) -> bytes:
    """A ``Record.Value``: id=1 (varint), tag=2 (bytes), timestamp=3 (varint), value=4 (float)."""
    raw = tag.encode()
    body = b"\x08" + varint(step) + b"\x12" + varint(len(raw)) + raw + b"\x18" + varint(timestamp)
    if v is None:  # a meta_data value: field 10, a nested message
        meta = b"\x0a\x03run"
        return body + b"\x52" + varint(len(meta)) + meta
    return body + b"\x25" + struct.pack("<f", v)


def record(*values: bytes) -> bytes:
    """``[uint64 LE length][Record]`` with ``Record.values`` (field 1, repeated)."""
    body = b"".join(b"\x0a" + varint(len(v)) + v for v in values)
    return struct.pack("<Q", len(body)) + body


def read(data: bytes) -> tuple[pd.DataFrame, list, list, dict]:
    parser = FMT.new_parser()
    first, used = parser.feed(data, 0)
    return finalize([first, parser.finish(data[used:], used)], "run")


def series(table: pd.DataFrame, metric: str, split: str) -> pd.DataFrame:
    rows = table[(table["metric"] == metric) & (table["split"] == split)]
    return rows.sort_values("step", kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def vdl(public_logs: Path) -> bytes:
    return (
        public_logs / "paddleseg" / "espnet_cityscapes_120k_vdlrecords.1638726716.log"
    ).read_bytes()


def test_espnet_records(vdl: bytes) -> None:
    table, restarts, bad, _ = read(vdl)
    assert restarts == [] and bad == []
    for name in ("loss", "lr", "batch_cost", "reader_cost"):
        s = series(table, name, "train")
        assert s["step"].tolist() == list(range(50, 120001, 50)), name
    miou = series(table, "miou", "val")
    assert miou["step"].tolist() == list(range(4000, 120001, 4000))
    assert miou["value"].iloc[-1] == pytest.approx(0.6365, abs=1e-4)
    assert len(series(table, "aacc", "val")) == 30
    assert set(table["split"]) == {"train", "val"} and len(table) == 9660
    first = series(table, "loss", "train")["wall_time"].iloc[0]
    assert 1638726716 <= first < 1638726716 + 3600  # seconds, not milliseconds
    loss = series(table, "loss", "train")["value"].iloc[0]
    assert loss == 2.6943273544311523 and round(loss, 4) == 2.6943  # float32, unrounded


def test_agrees_with_the_text_log(vdl: bytes, public_logs: Path) -> None:
    text = (public_logs / "paddleseg" / "espnet_cityscapes_120k_trainer-0.log").read_bytes()
    parser = PaddleSegText().new_parser()
    parsed, used = parser.feed(text, 0)
    from_text = finalize([parsed, parser.finish(text[used:], used)], "run")[0]
    from_vdl = read(vdl)[0]
    for metric, split in (("miou", "val"), ("aacc", "val"), ("loss", "train"), ("lr", "train")):
        a, b = series(from_text, metric, split), series(from_vdl, metric, split)
        assert a["step"].tolist() == b["step"].tolist(), metric
        assert (a["value"] - b["value"]).abs().max() < 1e-4, metric


def test_sniff_by_content(vdl: bytes, public_logs: Path) -> None:
    assert FMT.sniff(vdl[: 256 * 1024], "renamed.bin")
    for other in (
        "paddleseg/espnet_cityscapes_120k_trainer-0.log",
        "mmseg0x/deeplab_voc12_15k.log",
    ):
        assert not FMT.sniff((public_logs / other).read_bytes()[: 256 * 1024], "vdlrecords.1.log")


def written() -> bytes:
    """A newer VisualDL file: a meta_data_tag record first, millisecond timestamps."""
    out = [record(value(0, "meta_data_tag", 1700000000000, None))]
    for step in range(10, 110, 10):
        ms = 1700000000000 + step * 1000
        out.append(record(value(step, "Train/loss", ms, 1.0 / step)))
        out.append(
            record(value(step, "Train/lr", ms, 0.01), value(step, "Train/batch_cost", ms, 0.25))
        )
        if step % 50 == 0:
            out.append(
                record(value(step, "Evaluate/mIoU", ms, 0.5), value(step, "Evaluate/Acc", ms, 0.9))
            )
            out.append(record(value(step, "Evaluate/Ema_mIoU", ms, 0.55)))
    return b"".join(out)


def test_written_file_with_meta_record_and_milliseconds() -> None:
    data = written()
    assert FMT.sniff(data, "x")
    table, _, bad, _ = read(data)
    assert bad == [] and "meta_data_tag" not in set(table["metric"])
    loss = series(table, "loss", "train")
    assert loss["step"].tolist() == list(range(10, 110, 10))
    assert loss["wall_time"].iloc[0] == 1700000000.0 + 10
    assert loss["value"].iloc[0] == pytest.approx(0.1, rel=1e-7)
    assert series(table, "miou", "val")["step"].tolist() == [50, 100]
    assert series(table, "ema_miou", "val")["value"].iloc[0] == pytest.approx(0.55, rel=1e-7)
    assert series(table, "batch_cost", "train")["value"].iloc[0] == 0.25


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("Train/loss", ("train", "loss")),
        ("Train/loss_0", ("train", "loss_0")),
        ("Evaluate/mIoU", ("val", "miou")),
        ("Evaluate/Acc", ("val", "aacc")),
        ("Evaluate/Kappa", ("val", "Kappa")),
        ("custom", ("train", "custom")),
    ],
)
def test_tag_names(tag: str, expected: tuple[str, str]) -> None:
    assert metric_of(tag) == expected


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 4000), max_size=8))
def test_chunked_feed_equals_whole_read(cuts: list[int]) -> None:
    data = written()
    pd.testing.assert_frame_equal(feed_in_pieces(FMT, data, cuts), read_whole(FMT, data))


def test_growing_file_consumes_complete_records_only() -> None:
    data = written()
    first_two = len(record(value(0, "meta_data_tag", 1700000000000, None))) + len(
        record(value(10, "Train/loss", 1700000010000, 0.1))
    )
    parsed, used = FMT.new_parser().feed(data[: first_two + 5], 0)
    assert used == first_two and len(parsed.records) == 1 and parsed.bad_lines == []


def test_corrupt_record_stops_safely() -> None:
    good = written()
    broken = good[:60] + b"\xff" * 8 + good[68:]  # garbles a record (or its length) midway
    table, _, bad, _ = read(broken)
    clean = read(good)[0]
    assert len(bad) == 1 and "VisualDL record" in bad[0].reason
    assert len(table) < len(clean)
    kept = table.merge(
        clean, on=["step", "split", "metric", "value", "wall_time"], how="left", indicator=True
    )
    assert (kept["_merge"] == "both").all()  # nothing invented


def test_wrong_wire_type_is_corrupt() -> None:
    bad_value = b"\x08\x0a\x12\x0aTrain/loss\x1b"  # wire type 3 (a group) never occurs
    data = record(value(10, "Train/loss", 1, 1.0)) + struct.pack("<Q", len(bad_value) + 2)
    data += b"\x0a" + bytes([len(bad_value)]) + bad_value
    table, _, bad, _ = read(data)
    assert len(table) == 1 and len(bad) == 1


def test_garbage_yields_nothing() -> None:
    rng = random.Random(3)
    noise = bytes(rng.randrange(256) for _ in range(50000))
    for data in (noise, b"2021-12-06 02:08:34 [INFO]\t[TRAIN] epoch: 1\n" * 50, b"\x00" * 64, b""):
        table, _, _, _ = read(data)
        assert table.empty
        assert not FMT.sniff(data, "vdlrecords.1.log")
