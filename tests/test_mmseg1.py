"""MMSegmentation 1.x readers: ``scalars.json`` (mmseg1-json) and ``<ts>.log`` (mmseg1-text)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics.readers.base import LogFormat
from metrics.readers.mmseg1_json import MMSeg1JsonFormat
from metrics.readers.mmseg1_text import MMSeg1TextFormat
from metrics.readers.registry import LogData, read_log
from tests.readers_util import feed_in_pieces, read_whole

JSON_FMT = MMSeg1JsonFormat()
TEXT_FMT = MMSeg1TextFormat()
WATERMELON_MIOU = [0.45, 0.559, 0.5313, 0.4477, 0.4488, 0.5829, 0.5722, 0.5765, 0.5709, 0.5764]
PREFIX = "2023/06/14 06:55:19 - mmengine - INFO - "


def series(table: pd.DataFrame, metric: str, split: str = "val") -> pd.DataFrame:
    rows = table[(table["metric"] == metric) & (table["split"] == split)]
    return rows.sort_values("step")[["step", "value"]].reset_index(drop=True)


def best(table: pd.DataFrame) -> tuple[int, float]:
    miou = series(table, "miou")
    row = miou.loc[miou["value"].idxmax()]
    return int(row["step"]), float(row["value"])


def read_bytes(tmp_path: Path, name: str, data: bytes, fmt: str) -> LogData:
    path = tmp_path / name
    path.write_bytes(data)
    if b"BROKEN" not in data:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no malformed lines expected
            return read_log(str(path), format=fmt)
    with pytest.warns(UserWarning, match="malformed"):
        return read_log(str(path), format=fmt)


def train_line(step: int, loss: float, **extra: Any) -> str:
    rec = {"lr": 0.01, "data_time": 0.02, "loss": loss, "decode.loss_ce": loss / 2}
    rec.update({"decode.acc_seg": 91.5, "time": 0.47, "iter": step, "memory": 3982, "step": step})
    rec.update(extra)
    return json.dumps(rec)


def val_line(step: int, miou: float) -> str:
    return json.dumps({"aAcc": 96.57, "mIoU": miou, "mAcc": 77.25, "data_time": 0.01, "step": step})


# ---------------------------------------------------------------- scalars.json, real samples


def test_watermelon_scalars(public_logs: Path) -> None:
    log = read_log(str(public_logs / "mmseg1x" / "pspnet_watermelon_400it_scalars.json"))
    table = log.table
    assert log.format == "mmseg1-json"
    miou = series(table, "miou")
    assert miou["value"].tolist() == WATERMELON_MIOU  # percent in the file, fractions here
    assert miou["step"].tolist() == list(range(40, 401, 40))  # shares its train line's step
    assert best(table) == (240, 0.5829)
    assert table["step"].max() == 400
    assert series(table, "aacc")["value"].iloc[0] == 0.838
    loss = series(table, "loss", "train")
    assert loss["step"].tolist() == list(range(8, 401, 8))
    assert loss["value"].iloc[0] == 0.9437768310308456
    assert series(table, "lr", "train")["value"].iloc[0] == 3e-08
    assert series(table, "decode.acc_seg", "train")["value"].iloc[0] == 11.985506057739258
    assert not any(m.startswith("iou/") for m in table["metric"].unique())
    assert log.bad_lines == () and log.restarts == ()


def test_wta_scalars_plateau(public_logs: Path) -> None:
    log = read_log(str(public_logs / "mmseg1x" / "deeplabv3_wta_40k_scalars.json"))
    table = log.table
    assert best(table) == (32000, 0.5756)
    assert table["step"].max() == 40000
    assert len(series(table, "loss", "train")) == 800
    assert series(table, "miou")["value"].iloc[0] == 0.442
    assert "iter" not in set(table["metric"]) and "step" not in set(table["metric"])


# ---------------------------------------------------------------- text log, real sample


def test_watermelon_text_agrees_with_scalars_and_has_the_class_table(public_logs: Path) -> None:
    text = read_log(str(public_logs / "mmseg1x" / "pspnet_watermelon_400it.log"))
    scalars = read_log(str(public_logs / "mmseg1x" / "pspnet_watermelon_400it_scalars.json"))
    assert text.format == "mmseg1-text"
    pd.testing.assert_frame_equal(series(text.table, "miou"), series(scalars.table, "miou"))
    t_loss, s_loss = series(text.table, "loss", "train"), series(scalars.table, "loss", "train")
    assert t_loss["step"].tolist() == s_loss["step"].tolist()
    assert t_loss["value"].iloc[0] == 0.9438  # 4 dp moving mean as printed
    seed_white = series(text.table, "iou/seed-white")
    assert seed_white["step"].tolist() == list(range(40, 401, 40))
    assert seed_white["value"].iloc[0] == 0.0
    assert seed_white["value"].iloc[-1] == 0.2556
    assert series(text.table, "iou/red")["value"].iloc[0] == 0.8342
    assert series(text.table, "acc/red")["value"].iloc[0] == 0.868
    assert text.meta.class_names == ["red", "green", "white", "seed-black", "seed-white"]
    assert text.meta.planned_steps == 400
    first = text.table.iloc[0]
    assert first["wall_time"] == pd.Timestamp("2023-06-14 06:55:19", tz="UTC").timestamp()
    assert text.bad_lines == () and text.restarts == ()


# ---------------------------------------------------------------- synthetic


def test_scalars_hierarchy_keys_restart_and_bad_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"train/lr": 0.01, "train/loss": 0.9, "train/time": 0.5, "step": 50}),
        json.dumps({"val/aAcc": 96.5, "val/mIoU": 45.0, "val/data_time": 0.01, "step": 50}),
        '{"lr": 0.01, "loss": 0.8, "BROKEN',  # a torn line
        json.dumps({"train/lr": 0.01, "train/loss": 0.7, "step": 100}),
        json.dumps({"train/lr": 0.01, "train/loss": 0.95, "step": 50}),  # relaunch
        json.dumps({"val/mIoU": 50.0, "val/mAcc": float("nan")}),  # BROKEN: no step
    ]
    log = read_bytes(tmp_path, "scalars.json", ("\n".join(lines) + "\n").encode(), "mmseg1-json")
    assert [b.line for b in log.bad_lines] == [3, 6]
    assert [(r.step, r.line) for r in log.restarts] == [(50, 5)]
    assert series(log.table, "loss", "train").values.tolist() == [[50, 0.95]]
    assert series(log.table, "miou").empty  # the val line of the voided launch is gone
    assert set(log.table["metric"]) == {"loss", "lr"}


def test_scalars_nan_and_val_before_train(tmp_path: Path) -> None:
    lines = [val_line(0, 10.0), train_line(8, 0.9), val_line(8, float("nan")), train_line(16, 0.8)]
    table = read_whole(JSON_FMT, ("\n".join(lines) + "\n").encode())
    miou = series(table, "miou")
    assert miou["step"].tolist() == [0, 8]
    assert miou["value"].iloc[0] == 0.1 and pd.isna(miou["value"].iloc[1])
    assert series(table, "data_time")["value"].tolist() == [0.01, 0.01]  # val timing kept


def test_text_console_copy_progress_lines_best_and_epoch(tmp_path: Path) -> None:
    level = "\x1b[4m\x1b[37mINFO\x1b[0m"
    console = f"06/14 06:55:19 - mmengine - {level} - "
    lines = [
        f"{console}Epoch(train)  [1][ 10/270]  lr: 1.0000e-02  eta: 1 day, 3:03:21  "
        "time: 0.4705  data_time: 0.0225  memory: 3982  loss: 0.6488  decode.acc_seg: 91.6858",
        f"{console}Epoch(train)  [2][270/270]  lr: 1.0000e-02  eta: 0:00:01  loss: 0.5000",
        f"{console}Epoch(val)  [2][ 50/500]    eta: 0:00:04  time: 0.0311  data_time: 0.0010",
        f"{console}per class results:",
        f"{console}",
        "+------------+-------+-------+",
        "|   Class    |  IoU  |  Acc  |",
        "+------------+-------+-------+",
        "| road       |  98.1 |  99.0 |",
        "| bus        |  nan  |  nan  |",
        "+------------+-------+-------+",
        f"{console}Epoch(val) [2][500/500]    aAcc: 96.5700  mIoU: 71.9000  mAcc: 77.2500  "
        "data_time: 0.0132  time: 0.7237",
        f"{console}The best checkpoint with 71.9000 mIoU at 2 epoch is saved to "
        "best_mIoU_epoch_2.pth.",
        f"{console}Iter(train) [BROKEN/400]  lr: 1.0000e-02",
    ]
    log = read_bytes(tmp_path, "stdout.txt", ("\n".join(lines) + "\n").encode(), "mmseg1-text")
    table = log.table
    loss = series(table, "loss", "train")
    assert loss.values.tolist() == [[10, 0.6488], [540, 0.5]]
    assert series(table, "time", "train")["value"].tolist() == [0.4705]  # eta's comma kept apart
    assert table["wall_time"].isna().all()  # console stamps have no year
    assert series(table, "miou").values.tolist() == [[540, 0.719]]
    assert series(table, "time")["value"].tolist() == [0.7237]  # progress line skipped
    assert series(table, "iou/road")["value"].tolist() == [0.981]
    assert pd.isna(series(table, "iou/bus")["value"].iloc[0])
    assert log.meta.best_checkpoint == {
        "metric": "miou",
        "value": 0.719,
        "step": 2,
        "unit": "epoch",
    }
    assert [b.line for b in log.bad_lines] == [14]


def test_text_relaunch_appended_is_a_restart(tmp_path: Path) -> None:
    lines = [
        f"{PREFIX}Iter(train) [ 8/400]  lr: 1.0000e-02  eta: 0:01:00  loss: 0.9000",
        f"{PREFIX}Iter(train) [16/400]  lr: 1.0000e-02  eta: 0:01:00  loss: 0.8000",
        f"{PREFIX}Iter(val) [11/11]    aAcc: 83.8000  mIoU: 45.0000  mAcc: 56.8600",
        f"{PREFIX}Iter(train) [ 8/400]  lr: 1.0000e-02  eta: 0:01:00  loss: 0.9500",
    ]
    log = read_bytes(tmp_path, "r.log", ("\r\n".join(lines) + "\r\n").encode(), "mmseg1-text")
    assert [(r.step, r.line) for r in log.restarts] == [(8, 4)]
    assert series(log.table, "loss", "train").values.tolist() == [[8, 0.95]]
    assert series(log.table, "miou").empty


# ---------------------------------------------------------------- pieces


REAL = {
    "mmseg1-json": "pspnet_watermelon_400it_scalars.json",
    "mmseg1-text": "pspnet_watermelon_400it.log",
}


@pytest.mark.parametrize("fmt", [JSON_FMT, TEXT_FMT], ids=lambda f: f.name)
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cuts=st.lists(st.floats(0, 1), max_size=12))
def test_fed_in_pieces_equals_one_read(
    fmt: LogFormat, cuts: list[float], public_logs: Path
) -> None:
    data = (public_logs / "mmseg1x" / REAL[fmt.name]).read_bytes()
    whole = read_whole(fmt, data)
    assert len(whole) >= 500
    pieces = feed_in_pieces(fmt, data, [int(c * len(data)) for c in cuts])
    pd.testing.assert_frame_equal(pieces, whole)


def test_renamed_scalars_detected_by_content(public_logs: Path, tmp_path: Path) -> None:
    path = tmp_path / "run3_scalars.log"
    path.write_bytes((public_logs / "mmseg1x" / "deeplabv3_wta_40k_scalars.json").read_bytes())
    assert read_log(str(path)).format == "mmseg1-json"
    path = tmp_path / "nohup.out"
    path.write_bytes((public_logs / "mmseg1x" / "pspnet_watermelon_400it.log").read_bytes())
    assert read_log(str(path)).format == "mmseg1-text"
