"""Lightning CSVLogger metrics.csv, written the way ``_ExperimentWriter`` (≥ 2.2) writes it."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from metrics.readers.base import LogFormat
from metrics.readers.registry import get_format, read_log
from tests.readers_util import feed_in_pieces, read_whole


class ExperimentWriter:
    """``lightning.fabric.loggers.csv_logs._ExperimentWriter``: sorted header, CRLF rows,
    appended at each save and rewritten whole when a new key appears."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.metrics: list[dict[str, Any]] = []
        self.metrics_keys: list[str] = []

    def log_metrics(self, metrics: dict[str, Any], step: int) -> None:
        self.metrics.append({**metrics, "step": step})

    def save(self) -> None:
        if not self.metrics:
            return
        new_keys = set().union(*self.metrics) - set(self.metrics_keys)
        self.metrics_keys.extend(new_keys)
        self.metrics_keys.sort()
        exists = self.path.is_file()
        if new_keys and exists:
            with self.path.open("r", newline="") as f:
                old = list(csv.DictReader(f))
            with self.path.open("w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=self.metrics_keys)
                writer.writeheader()
                writer.writerows(old)
        with self.path.open("a" if exists else "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.metrics_keys)
            if not exists:
                writer.writeheader()
            writer.writerows(self.metrics)
        self.metrics = []


def train_loss(step: int) -> float:
    return 1.5 - step / 1000


def run_epochs(writer: ExperimentWriter, epochs: int, steps_per_epoch: int = 100) -> None:
    """``log_every_n_steps=50``; ``train_loss`` with on_step and on_epoch; LearningRateMonitor;
    validation per epoch logging ``val_loss``, ``val_mIoU`` and per-class ``val_iou_<c>``
    (torchmetrics → fractions); ``flush_logs_every_n_steps=100``."""
    for epoch in range(epochs):
        for step in range(epoch * steps_per_epoch + 49, (epoch + 1) * steps_per_epoch, 50):
            writer.log_metrics({"lr-AdamW": 0.001 / (epoch + 1)}, step)
            writer.log_metrics({"train_loss_step": train_loss(step), "epoch": epoch}, step)
        last = (epoch + 1) * steps_per_epoch - 1
        writer.log_metrics(
            {
                "val_loss": 0.75 - epoch / 8,
                "val_mIoU": 0.375 + epoch / 8,
                "val_iou_road": 0.875,
                "val_iou_traffic light": math.nan,
                "epoch": epoch,
            },
            last,
        )
        writer.log_metrics({"train_loss_epoch": 1.25 - epoch / 4, "epoch": epoch}, last)
        writer.save()


def metrics_csv(tmp_path: Path, epochs: int = 3) -> Path:
    writer = ExperimentWriter(tmp_path / "metrics.csv")
    run_epochs(writer, epochs)
    return writer.path


@pytest.fixture(scope="module")
def fmt() -> LogFormat:
    return get_format("lightning-csv")


def values(table: pd.DataFrame, metric: str, split: str) -> list[tuple[int, float]]:
    rows = table[(table["metric"] == metric) & (table["split"] == split)]
    return list(zip(rows["step"].tolist(), rows["value"].tolist(), strict=True))


def test_written_file_is_crlf_sorted_and_sparse(tmp_path: Path) -> None:
    raw = metrics_csv(tmp_path).read_bytes()
    lines = raw.split(b"\r\n")
    assert lines[0] == (
        b"epoch,lr-AdamW,step,train_loss_epoch,train_loss_step,val_iou_road,"
        b"val_iou_traffic light,val_loss,val_mIoU"
    )
    assert lines[1] == b",0.001,49,,,,,,"
    assert raw.count(b"\r\n") == raw.count(b"\n")


def test_sparse_rows_map_to_tidy_metrics(tmp_path: Path) -> None:
    data = read_log(str(metrics_csv(tmp_path)))
    assert data.format == "lightning-csv"
    assert data.bad_lines == () and data.restarts == ()
    table = data.table
    assert values(table, "loss", "train") == [
        (49, 1.451),
        (99, 1.401),
        (149, 1.351),
        (199, 1.301),
        (249, 1.251),
        (299, 1.201),
    ]
    assert values(table, "loss_epoch", "train") == [(99, 1.25), (199, 1.0), (299, 0.75)]
    assert values(table, "lr", "train")[:3] == [(49, 0.001), (99, 0.001), (149, 0.0005)]
    assert values(table, "miou", "val") == [(99, 0.375), (199, 0.5), (299, 0.625)]
    assert values(table, "loss", "val") == [(99, 0.75), (199, 0.625), (299, 0.5)]
    assert values(table, "iou/road", "val") == [(99, 0.875), (199, 0.875), (299, 0.875)]
    assert all(math.isnan(v) for _, v in values(table, "iou/traffic light", "val"))
    # epoch sits on every row but is recorded once per step
    assert values(table, "epoch", "train") == [
        (49, 0.0),
        (99, 0.0),
        (149, 1.0),
        (199, 1.0),
        (249, 2.0),
        (299, 2.0),
    ]


def test_rewrite_with_a_new_column(tmp_path: Path, fmt: LogFormat) -> None:
    writer = ExperimentWriter(tmp_path / "metrics.csv")
    for step in (49, 99):
        writer.log_metrics({"train_loss_step": train_loss(step), "epoch": 0}, step)
    writer.save()
    before = writer.path.read_bytes()
    assert before.startswith(b"epoch,step,train_loss_step\r\n")
    assert read_whole(fmt, before)["metric"].astype(str).unique().tolist() == ["epoch", "loss"]
    writer.log_metrics({"val_jaccard_index": 0.5, "epoch": 0}, 99)
    writer.save()
    after = writer.path.read_bytes()
    assert after.startswith(b"epoch,step,train_loss_step,val_jaccard_index\r\n")
    table = read_whole(fmt, after)
    assert values(table, "loss", "train") == [(49, 1.451), (99, 1.401)]
    assert values(table, "miou", "val") == [(99, 0.5)]


def test_appended_run_with_a_second_header_is_a_restart(tmp_path: Path) -> None:
    # Lightning < 2.2 with an explicit version could append a new run to the old file
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = metrics_csv(tmp_path / "a", epochs=2)
    second = metrics_csv(tmp_path / "b", epochs=1)
    path = tmp_path / "metrics.csv"
    path.write_bytes(first.read_bytes() + second.read_bytes())
    data = read_log(str(path))
    assert [(r.step, r.line) for r in data.restarts] == [(49, 15)]  # header at 14
    assert values(data.table, "miou", "val") == [(99, 0.375)]
    assert values(data.table, "loss", "train") == [(49, 1.451), (99, 1.401)]


def test_percent_option(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    path.write_bytes(b"epoch,step,val_mIoU\r\n0,99,41.25\r\n1,199,63.5\r\n")
    data = read_log(str(path), options={"percent": ["miou"]})
    assert values(data.table, "miou", "val") == [(99, 0.4125), (199, 0.635)]


def test_unterminated_last_row_is_not_parsed(fmt: LogFormat) -> None:
    data = b"epoch,step,train_loss_step\r\n0,49,1.451\r\n0,99,1.4"
    assert values(read_whole(fmt, data), "loss", "train") == [(49, 1.451)]


def test_cell_with_unicode_digit_or_underscore_is_no_number(fmt: LogFormat) -> None:
    # fuzz seeds 10019693, 10036913: "\u06f10.08" was read as 10.08, "0.1575_17" as 0.157517
    data = "epoch,step,train_loss_step,val_mIoU\r\n0,49,\u06f10.08,0.1575_17\r\n0,99,1.4,NaN\r\n"
    table = read_whole(fmt, data.encode())
    assert values(table, "loss", "train") == [(99, 1.4)]
    miou = values(table, "miou", "val")
    assert [s for s, _ in miou] == [99] and math.isnan(miou[0][1])


def test_whole_file_parse_is_deterministic(tmp_path: Path, fmt: LogFormat) -> None:
    data = metrics_csv(tmp_path).read_bytes()
    whole = read_whole(fmt, data)
    pd.testing.assert_frame_equal(feed_in_pieces(fmt, data, [3, 100, 101, 500]), whole)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"epoch,step,train_loss_step\r\n0,49,1.4\r\n", True),
        (b"epoch,step,train_loss_step\n0,49,1.4\n", False),  # LF: generic CSV
        (b"step,loss\r\n1,2\r\n", False),  # no epoch column
        (b'{"step": 1, "epoch": 0}\r\n', False),
    ],
)
def test_sniff(fmt: LogFormat, head: bytes, expected: bool) -> None:
    assert fmt.sniff(head, "metrics.csv") is expected
