"""Reads that must not hang or swallow memory: FIFOs, /dev/zero, a size limit, reading in pieces."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

import pandas as pd
import pytest
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.record_writer import RecordWriter

from metrics import LogTailer, read_log
from metrics.errors import LogReadError
from metrics.readers.base import Parsed, Parser
from metrics.readers.limits import (
    DEFAULT_MAX_LOG_BYTES,
    MAX_LOG_BYTES_ENV,
    max_log_bytes,
    parse_in_pieces,
)
from metrics.readers.registry import finalize, get_format
from metrics.readers.source import open_source
from metrics.schema import sort_table
from tests.fake_format import FakeLineParser
from tests.readers_util import read_whole

PADDLE_LINE = (
    "2021-12-06 02:08:{s:02d} [INFO]\t[TRAIN] epoch: 1, iter: {it}/1000, loss: 0.{it:04d}, "
    "lr: 0.010000, batch_cost: 0.1978, reader_cost: 0.00091, ips: 20.2202 samples/sec | "
    "ETA 06:22:27\n"
)


def paddle_log(n: int) -> str:
    return "".join(PADDLE_LINE.format(s=i % 60, it=10 * i) for i in range(1, n + 1))


def read_within(seconds: float, *args: object, **kwargs: object) -> BaseException | None:
    """``read_log(*args)`` in a thread: the error it raised, or fail if it did not end in time."""
    result: list[BaseException | None] = []

    def target() -> None:
        try:
            read_log(*args, **kwargs)  # type: ignore[arg-type]
            result.append(None)
        except BaseException as exc:
            result.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"read_log{args} still running after {seconds} s"
    return result[0]


@pytest.mark.parametrize("format", [None, "paddleseg"])
def test_a_fifo_is_refused_without_blocking(tmp_path: Path, format: str | None) -> None:
    fifo = tmp_path / "train.log"
    os.mkfifo(fifo)
    try:
        err = read_within(5, str(fifo), format=format)
    finally:  # unblock a reader stuck in open(), should there be one (OSError: there is none)
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert isinstance(err, LogReadError)
    assert str(fifo) in str(err) and "not a regular file" in str(err)


@pytest.mark.parametrize("format", [None, "paddleseg", "tensorboard"])
def test_dev_zero_is_refused_at_once(tmp_path: Path, format: str | None) -> None:
    for path in ("/dev/zero", str(_link(tmp_path / "endless.log", "/dev/zero"))):
        err = read_within(5, path, format=format)
        assert isinstance(err, LogReadError) and path in str(err)


def _link(link: Path, target: str) -> Path:
    link.symlink_to(target)
    return link


def test_a_log_over_the_limit_names_file_and_limit(tmp_path: Path) -> None:
    p = tmp_path / "train.log"
    p.write_text(paddle_log(20))
    size = p.stat().st_size
    with pytest.raises(LogReadError) as info:
        read_log(str(p), max_bytes=size - 1)
    message = str(info.value)
    assert str(p) in message and f"{size - 1:,} bytes" in message and MAX_LOG_BYTES_ENV in message
    assert sorted(read_log(str(p), max_bytes=size).table["step"].unique()) == list(
        range(10, 201, 10)
    )


def test_the_limit_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = tmp_path / "train.log"
    p.write_text(paddle_log(20))
    monkeypatch.setenv(MAX_LOG_BYTES_ENV, "1000")
    with pytest.raises(LogReadError, match="limit of 1,000 bytes"):
        read_log(str(p))
    assert len(read_log(str(p), max_bytes=10**6).table) == 20 * 5  # the parameter wins
    monkeypatch.setenv(MAX_LOG_BYTES_ENV, "lots")
    with pytest.raises(LogReadError, match="SEGWATCH_MAX_LOG_BYTES='lots'"):
        read_log(str(p))
    monkeypatch.delenv(MAX_LOG_BYTES_ENV)
    assert max_log_bytes() == DEFAULT_MAX_LOG_BYTES == 4 * 2**30
    with pytest.raises(LogReadError, match="positive"):
        max_log_bytes(0)


def test_a_whole_file_document_over_the_limit(tmp_path: Path) -> None:
    p = tmp_path / "trainer_state.json"
    p.write_text('{"log_history": [{"loss": 0.5, "step": 10}], "global_step": 10}')
    with pytest.raises(LogReadError, match="larger than the limit of 10 bytes"):
        read_log(str(p), format="hf-trainer", max_bytes=10)


class _Recording(Parser):
    """A parser that remembers the largest piece it was fed."""

    def __init__(self, inner: Parser) -> None:
        self.inner = inner
        self.largest = 0

    def feed(self, data: bytes, offset: int, last: bool = False) -> tuple[Parsed, int]:
        self.largest = max(self.largest, len(data))
        return self.inner.feed(data, offset, last)

    def finish(self, data: bytes, offset: int) -> Parsed:
        return self.inner.finish(data, offset)


@pytest.mark.parametrize(
    "rel",
    [
        "paddleseg/pp_liteseg_cityscapes_resumed/workerlog.0",
        "mmseg0x/pspnet_r50_uavid_overfit/20230315_101112.log",
        "mmseg0x/pspnet_r50_uavid_overfit/20230315_101112.log.json",
        "mmseg1x/deeplabv3_r50_cityscapes_stalled/20240208_130544/vis_data/scalars.json",
        "detectron2/mask2former_r50_cityscapes_deadclass/metrics.json",
        "tensorboard/fcn_r50_voc_diverging/events.out.tfevents.1654070400.gpu-node-3.21847.0",
    ],
)
def test_reading_in_small_pieces_equals_one_read(sample_logs: Path, rel: str) -> None:
    path = sample_logs / rel
    data = path.read_bytes()
    fmt = read_log(str(path)).format
    parser = _Recording(get_format(fmt).new_parser())
    parts = parse_in_pieces(open_source(str(path)), parser, False, 1 << 30, piece=4099)
    table = sort_table(finalize(parts, "run")[0])
    assert table.equals(read_whole(get_format(fmt), data)) and len(table) > 100
    # bounded: a piece plus the leftover of the one before (a line or a record), never the file
    assert parser.largest < 4099 + 4096 < len(data)
    assert sort_table(read_log(str(path), run="run").table).equals(table)


def test_event_file_images_and_histograms_are_skipped(tmp_path: Path) -> None:
    p = tmp_path / "events.out.tfevents.1700000000.host.1.0"
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4096  # a 1 MB "image"
    with open(p, "wb") as fh:
        writer = RecordWriter(fh)
        writer.write(
            event_pb2.Event(wall_time=1.7e9, file_version="brain.Event:2").SerializeToString()
        )
        for step in (1, 2, 3):
            values = [
                summary_pb2.Summary.Value(tag="train/loss", simple_value=1.0 / step),
                summary_pb2.Summary.Value(
                    tag="val/prediction",
                    image=summary_pb2.Summary.Image(
                        height=512, width=512, encoded_image_string=png
                    ),
                ),
                summary_pb2.Summary.Value(
                    tag="train/weights",
                    histo=summary_pb2.HistogramProto(
                        min=0.0, max=1.0, num=3.0, bucket_limit=[0.5, 1.0], bucket=[1.0, 2.0]
                    ),
                ),
            ]
            event = event_pb2.Event(
                wall_time=1.7e9 + step, step=step, summary=summary_pb2.Summary(value=values)
            )
            writer.write(event.SerializeToString())
    table = read_log(str(p)).table
    assert list(table["metric"].astype(str)) == ["loss"] * 3
    assert list(table["step"]) == [1, 2, 3]
    assert list(table["value"]) == pytest.approx([1.0, 0.5, 1 / 3])


def test_tailing_a_fifo_says_so_instead_of_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "train.log"
    os.mkfifo(fifo)
    tailer = LogTailer(str(fifo))
    with pytest.raises(LogReadError, match="not a regular file"):
        tailer.poll()
    later = LogTailer(str(tmp_path / "not_yet.log"))  # a log not written yet is only missing
    assert len(later.poll()) == 0 and later.missing


def test_line_numbers_stay_right_when_a_last_piece_is_followed_by_more() -> None:
    # a whole read's final piece may leave its newlines uncounted; if the file grew after
    # all, the next piece's line numbers must still count them
    parser = FakeLineParser()
    first = b"FAKE step=1 loss=0.5\nnoise\nFAKE step=2 loss=0.4\n"
    parser.feed(first, 0, last=True)
    parsed, _ = parser.feed(b"FAKE step=3 loss=x\nFAKE step=1 loss=0.3\n", len(first))
    assert [b.line for b in parsed.bad_lines] == [4]
    assert [r.line for r in parsed.restarts] == [5]


def test_pieces_assembled_at_once_equal_pieces_assembled_apart() -> None:
    # a whole read assembles every piece's records in one table (no offsets when nothing
    # relaunched); a tailer's pieces are assembled one by one: the same table either way
    lines = [
        b"FAKE step=1 loss=0.5\n",
        b"FAKE step=2 loss=0.4 miou=0.3\n",
        b"FAKE step=3 loss=0.3\n",
    ]
    relaunch = [b"FAKE step=2 loss=0.35\n", b"FAKE step=3 loss=0.2 miou=0.4\n"]
    for data in (lines, lines + relaunch):
        parser, parts, at = FakeLineParser(), [], 0
        for line in data:
            parts.append(parser.feed(line, at)[0])
            at += len(line)
        once = finalize(parts, "run")[0]
        apart = [Parsed(p.records, p.restarts, p.bad_lines, p.meta) for p in parts]
        pd.testing.assert_frame_equal(once, finalize(apart, "run")[0])
        loss = once[once["metric"] == "loss"]
        assert loss["step"].tolist() == [1, 2, 3]
        assert loss["value"].tolist() == ([0.5, 0.4, 0.3] if data == lines else [0.5, 0.35, 0.2])
