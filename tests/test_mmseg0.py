"""MMSegmentation 0.x readers: ``*.log.json`` (mmseg0-json) and ``*.log`` (mmseg0-text)."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics.readers.base import LogFormat
from metrics.readers.mmseg0_json import MMSeg0JsonFormat, MMSeg0JsonParser
from metrics.readers.mmseg0_text import MMSeg0TextFormat
from metrics.readers.mmseg1_json import MMSeg1JsonFormat
from metrics.readers.mmseg1_text import MMSeg1TextFormat
from metrics.readers.registry import LogData, read_log
from tests.readers_util import feed_in_pieces, read_whole

JSON_FMT = MMSeg0JsonFormat()
TEXT_FMT = MMSeg0TextFormat()
VOC_MIOU = [0.4917, 0.5622, 0.6169, 0.6789, 0.7000]
PREFIX = "2023-01-20 01:51:43,988 - mmseg - INFO - "


def series(table: pd.DataFrame, metric: str, split: str = "val") -> pd.DataFrame:
    rows = table[(table["metric"] == metric) & (table["split"] == split)]
    return rows.sort_values("step")[["step", "value"]].reset_index(drop=True)


def read_bytes(tmp_path: Path, name: str, data: bytes, fmt: str) -> LogData:
    path = tmp_path / name
    path.write_bytes(data)
    if b"BROKEN" not in data:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no malformed lines expected
            return read_log(str(path), format=fmt)
    with pytest.warns(UserWarning, match="malformed"):
        return read_log(str(path), format=fmt)


def train_json(it: int, epoch: int = 1, **extra: object) -> str:
    rec = {"mode": "train", "epoch": epoch, "iter": it, "lr": 0.01, "memory": 21690}
    rec.update({"data_time": 0.01, "decode.loss_ce": 1.5, "loss": 2.0 - it / 1000, "time": 1.0})
    rec.update(extra)
    return json.dumps(rec)


def val_json(miou: float, epoch: int = 1, **extra: object) -> str:
    rec = {"mode": "val", "epoch": epoch, "iter": 1449, "lr": 0.01, "aAcc": 0.9, "mIoU": miou}
    rec.update({"mAcc": 0.8, "IoU.cat": 0.5, "IoU.traffic light": 0.25, "Acc.cat": 0.6})
    rec.update(extra)
    return json.dumps(rec)


# ---------------------------------------------------------------- JSON, real sample


@pytest.fixture(scope="module")
def voc_json(public_logs: Path) -> LogData:
    return read_log(str(public_logs / "mmseg0x" / "deeplab_voc12_15k.log.json"))


def test_voc_json_train_records(voc_json: LogData) -> None:
    table = voc_json.table
    assert voc_json.format == "mmseg0-json"
    train = table[table["split"] == "train"]
    counts = train.groupby("metric", observed=True).size()
    assert set(counts) == {300}
    assert sorted(counts.index) == [
        "aux.acc_seg", "aux.loss_ce", "data_time", "decode.acc_seg", "decode.loss_ce",
        "loss", "lr", "memory", "time",
    ]  # fmt: skip
    loss = series(table, "loss", "train")
    assert loss["step"].tolist() == list(range(50, 15001, 50))
    assert loss["value"].iloc[0] == 2.3157
    assert series(table, "lr", "train")["value"].iloc[0] == 0.00997
    assert series(table, "decode.acc_seg", "train")["value"].iloc[0] == 57.18525  # percent kept
    assert table["wall_time"].isna().all()
    assert table["step"].max() == 15000


def test_voc_json_evals_attach_to_last_train_iter(voc_json: LogData) -> None:
    table = voc_json.table
    miou = series(table, "miou")
    assert miou["step"].tolist() == [3000, 6000, 9000, 12000, 15000]  # not 1449
    assert miou["value"].tolist() == VOC_MIOU
    best = miou.loc[miou["value"].idxmax()]
    assert (best["step"], best["value"]) == (15000, 0.70)
    assert series(table, "iou/cat")["value"].tolist() == [0.6167, 0.5779, 0.7164, 0.8603, 0.8923]
    assert series(table, "aacc")["value"].iloc[0] == 0.8547
    assert series(table, "acc/background")["value"].iloc[0] == 0.8992
    assert "lr" not in set(table.loc[table["split"] == "val", "metric"])
    assert len(table[table["split"] == "val"]) == 5 * (3 + 2 * 21)


def test_voc_json_meta(voc_json: LogData) -> None:
    meta = voc_json.meta
    assert len(meta.class_names) == 21
    assert meta.class_names[:3] == ["background", "aeroplane", "bicycle"]
    assert meta.planned_steps == 15000
    assert voc_json.bad_lines == () and voc_json.restarts == ()


# ---------------------------------------------------------------- text, real samples


def test_voc_text_agrees_with_json_twin(public_logs: Path, voc_json: LogData) -> None:
    text = read_log(str(public_logs / "mmseg0x" / "deeplab_voc12_15k.log"))
    assert text.format == "mmseg0-text"
    t, j = text.table, voc_json.table
    pd.testing.assert_frame_equal(series(t, "miou"), series(j, "miou"))
    per_class = sorted(m for m in j["metric"].unique() if m.startswith(("iou/", "acc/")))
    assert len(per_class) == 42
    for metric in per_class:
        pd.testing.assert_frame_equal(series(t, metric), series(j, metric), obj=metric)
    assert (
        series(t, "loss", "train")["step"].tolist() == series(j, "loss", "train")["step"].tolist()
    )
    assert text.meta.class_names == voc_json.meta.class_names
    assert text.meta.planned_steps == 15000
    first = t[(t["split"] == "train") & (t["metric"] == "lr")].iloc[0]
    assert first["value"] == 9.971e-03  # the text prints 4 significant digits
    assert first["wall_time"] == pd.Timestamp("2023-01-20 01:51:43.988", tz="UTC").timestamp()


def test_voc12_windows_crlf_gbk(public_logs: Path) -> None:
    log = read_log(str(public_logs / "mmseg0x" / "pspnet_voc12_20k_windows_crlf_gbk.log"))
    miou = series(log.table, "miou")
    assert miou["step"].tolist() == list(range(2000, 20001, 2000))
    assert miou["value"].iloc[0] == 0.1744 and miou["value"].iloc[-1] == 0.6433
    assert miou["value"].tolist()[6:8] == [0.5815, 0.5779]
    assert miou.loc[miou["value"].idxmax(), "step"] == 20000
    assert log.table["step"].max() == 20000
    assert len(series(log.table, "loss", "train")) == 400
    assert log.bad_lines == () and log.meta.planned_steps == 20000


def test_glomeruli_degenerate_first_eval(public_logs: Path) -> None:
    log = read_log(str(public_logs / "mmseg0x" / "pspnet_glomeruli_2k_windows_crlf_gbk.log"))
    table = log.table
    miou = series(table, "miou")
    assert (miou["step"].iloc[0], miou["value"].iloc[0]) == (200, 0.4905)
    assert series(table, "iou/glomeruli")["value"].iloc[0] == 0.0
    assert series(table, "aacc")["value"].iloc[0] == 0.981
    best = miou.loc[miou["value"].idxmax()]
    assert (best["step"], best["value"]) == (2000, 0.9032)
    assert log.meta.class_names == ["background", "glomeruli"]


# ---------------------------------------------------------------- JSON, synthetic


def test_json_nan_lr_groups_and_malformed_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"env_info": "x", "config": "runner = dict(max_iters=40000)", "CLASSES": ["a"]}),
        train_json(50, lr={"backbone": 0.001, "head": 0.01}),
        '{"mode": "train", "epoch": 1, "iter": 100, "lr": 0.01, "loss": 1.',  # BROKEN
        "",
        val_json(0.5).replace('"IoU.cat": 0.5', '"IoU.cat": NaN'),
        '["BROKEN"]',
        train_json(150, loss=float("inf")),
    ]
    log = read_bytes(tmp_path, "r.log.json", ("\n".join(lines) + "\n").encode(), "mmseg0-json")
    table = log.table
    assert [b.line for b in log.bad_lines] == [3, 6]
    assert series(table, "lr", "train")["value"].tolist() == [0.001, 0.01]
    assert series(table, "lr/head", "train")["value"].tolist() == [0.01]
    assert series(table, "lr/backbone", "train")["step"].tolist() == [50]
    assert math.isnan(series(table, "iou/cat")["value"].iloc[0])
    assert series(table, "iou/traffic light")["value"].tolist() == [0.25]
    assert series(table, "miou")["step"].tolist() == [50]
    assert series(table, "loss", "train")["value"].iloc[-1] == math.inf
    assert log.meta.stated() == {"class_names": ["a"], "planned_steps": 40000}


def test_json_appended_launch_is_a_restart(tmp_path: Path) -> None:
    lines = [train_json(50), train_json(100), val_json(0.3), train_json(150)]
    lines += [train_json(100, epoch=1), val_json(0.4), train_json(150)]
    log = read_bytes(tmp_path, "r.log.json", ("\n".join(lines) + "\n").encode(), "mmseg0-json")
    assert [(r.step, r.line) for r in log.restarts] == [(100, 5)]
    miou = series(log.table, "miou")
    assert miou["step"].tolist() == [100] and miou["value"].tolist() == [0.4]
    assert series(log.table, "loss", "train")["step"].tolist() == [50, 100, 150]


def test_json_epoch_based_inner_iters(tmp_path: Path) -> None:
    lines = [train_json(10, 1), train_json(20, 1), val_json(0.3, 1)]
    lines += [train_json(10, 2), train_json(20, 2), val_json(0.4, 2), train_json(10, 3)]
    log = read_bytes(tmp_path, "r.log.json", ("\n".join(lines) + "\n").encode(), "mmseg0-json")
    assert series(log.table, "loss", "train")["step"].tolist() == [10, 20, 30, 40, 50]
    assert series(log.table, "miou")["step"].tolist() == [20, 40]
    assert log.restarts == ()


def test_json_epoch_steps_turn_on_at_the_line_that_shows_them_in_any_pieces() -> None:
    """Fuzz seed 10067470: an iteration-based run whose ``epoch`` counts loader passes, until
    a line's ``iter`` goes back as ``epoch`` grows. Steps before that line stay ``iter`` and
    the epoch base counts every earlier epoch, however the file is cut."""
    lines = [train_json(50, 1), train_json(100, 2), train_json(50, 3), train_json(100, 3)]
    data = ("\n".join(lines) + "\n").encode()
    whole = read_whole(JSON_FMT, data)
    assert series(whole, "loss", "train")["step"].tolist() == [50, 100, 200, 250]
    for cut in range(1, len(data)):
        pd.testing.assert_frame_equal(feed_in_pieces(JSON_FMT, data, [cut]), whole)


def test_json_unterminated_last_line(tmp_path: Path) -> None:
    data = (train_json(50) + "\n" + train_json(100)).encode()
    assert read_whole(JSON_FMT, data)["step"].unique().tolist() == [50, 100]
    parsed, used = JSON_FMT.new_parser().feed(data, 0)  # a live tail waits for the newline
    assert used == len(train_json(50)) + 1 and set(parsed.records["step"]) == {50}


# ---------------------------------------------------------------- text, synthetic


def test_text_old_table_only_format_eta_with_days_and_lr_groups(tmp_path: Path) -> None:
    lines = [
        f"{PREFIX}Iter [50/80000]\tlr_backbone: 1.000e-03 lr_head: 1.000e-02, "
        "eta: 1 day, 3:03:21, time: 1.072, data_time: 0.017, memory: 21690, loss: 2.3157",
        f"{PREFIX}Iter [100/80000]\tlr: 9.941e-03, eta: 23:59:00, time: 1.000, loss: 1.8057",
        f"{PREFIX}per class results:",
        "Class          IoU   Acc",
        "road           97.5  98.9",
        "traffic light  nan   0.0",
        f"{PREFIX}Summary:",
        "Scope  mIoU   mAcc   aAcc",
        "global 48.75  49.45  95.1",
        f"{PREFIX}Iter(val) [500]\tmIoU: 0.4875, mAcc: 0.4945, aAcc: 0.9510",
        f"{PREFIX}Iter [x/80000]\tBROKEN",
    ]
    log = read_bytes(tmp_path, "r.log", ("\r\n".join(lines) + "\r\n").encode(), "mmseg0-text")
    table = log.table
    assert series(table, "lr", "train")["value"].tolist() == [1e-3, 9.941e-03]
    assert series(table, "lr/head", "train")["value"].tolist() == [1e-2]
    assert series(table, "time", "train")["value"].tolist() == [1.072, 1.0]
    assert "eta" not in set(table["metric"])
    assert series(table, "iou/road")["value"].tolist() == [0.975]
    assert math.isnan(series(table, "iou/traffic light")["value"].iloc[0])
    assert series(table, "acc/traffic light")["value"].tolist() == [0.0]
    assert series(table, "miou").values.tolist() == [[100, 0.4875]]
    assert log.meta.class_names == ["road", "traffic light"]
    assert [b.line for b in log.bad_lines] == [11]


def test_text_epoch_based_and_restart(tmp_path: Path) -> None:
    lines = [
        f"{PREFIX}Epoch [1][10/20]\tlr: 1.000e-02, eta: 0:01:00, loss: 1.0000",
        f"{PREFIX}Epoch [1][20/20]\tlr: 1.000e-02, eta: 0:01:00, loss: 0.9000",
        f"{PREFIX}Epoch(val) [1][100]\taAcc: 0.9000, mIoU: 0.5000, mAcc: 0.6000",
        f"{PREFIX}Epoch [2][10/20]\tlr: 1.000e-02, eta: 0:01:00, loss: 0.8000",
        f"{PREFIX}Epoch [1][10/20]\tlr: 1.000e-02, eta: 0:01:00, loss: 1.1000",
    ]
    log = read_bytes(tmp_path, "r.log", ("\n".join(lines) + "\n").encode(), "mmseg0-text")
    assert [(r.step, r.line) for r in log.restarts] == [(10, 5)]
    loss = series(log.table, "loss", "train")
    assert loss.values.tolist() == [[10, 1.1]]  # the relaunch voids steps >= 10
    assert log.meta.planned_steps is None


# ---------------------------------------------------------------- pieces and sniffing

REAL = {
    "mmseg0-json": "deeplab_voc12_15k.log.json",
    "mmseg0-text": "pspnet_glomeruli_2k_windows_crlf_gbk.log",
}


@pytest.mark.parametrize("fmt", [JSON_FMT, TEXT_FMT], ids=lambda f: f.name)
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cuts=st.lists(st.floats(0, 1), max_size=12))
def test_fed_in_pieces_equals_one_read(
    fmt: LogFormat, cuts: list[float], public_logs: Path
) -> None:
    data = (public_logs / "mmseg0x" / REAL[fmt.name]).read_bytes()[:60_000]
    whole = read_whole(fmt, data)
    assert len(whole) > 100
    pieces = feed_in_pieces(fmt, data, [int(c * len(data)) for c in cuts])
    pd.testing.assert_frame_equal(pieces, whole)


def test_json_small_internal_batches_give_the_same_table(
    public_logs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = (public_logs / "mmseg0x" / "deeplab_voc12_15k.log.json").read_bytes()
    data = data.replace(b"\n", b"\r\n\n", 40)  # CRLF and empty lines in the first records
    whole = read_whole(JSON_FMT, data)
    monkeypatch.setattr(MMSeg0JsonParser, "batch_bytes", 700)  # pieces cut inside the file
    pd.testing.assert_frame_equal(read_whole(JSON_FMT, data), whole)
    assert len(whole) == 2925


ALL = [MMSeg0JsonFormat(), MMSeg0TextFormat(), MMSeg1JsonFormat(), MMSeg1TextFormat()]
SAMPLES = {
    "mmseg0x/deeplab_voc12_15k.log.json": "mmseg0-json",
    "mmseg0x/deeplab_voc12_15k.log": "mmseg0-text",
    "mmseg0x/pspnet_voc12_20k_windows_crlf_gbk.log": "mmseg0-text",
    "mmseg0x/pspnet_glomeruli_2k_windows_crlf_gbk.log": "mmseg0-text",
    "mmseg1x/pspnet_watermelon_400it.log": "mmseg1-text",
    "mmseg1x/pspnet_watermelon_400it_scalars.json": "mmseg1-json",
    "mmseg1x/deeplabv3_wta_40k_scalars.json": "mmseg1-json",
    "detectron2/mask2former_instance_3runs_appended_metrics.json": None,
    "detectron2/mask2former_instance_3runs_appended_log.txt": None,
    "paddleseg/espnet_cityscapes_120k_trainer-0.log": None,
    "paddleseg/encnet_appended_runs_resumed_workerlog.0.log": None,
    "paddleseg/espnet_cityscapes_120k_vdlrecords.1638726716.log": None,
}


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_each_sample_is_claimed_by_exactly_its_reader(public_logs: Path, sample: str) -> None:
    head = (public_logs / sample).read_bytes()[: 256 * 1024]
    claimed = [f.name for f in ALL if f.sniff(head, "renamed.txt")]  # content, not the name
    assert claimed == ([SAMPLES[sample]] if SAMPLES[sample] else [])


def test_renamed_file_is_detected_by_content(public_logs: Path, tmp_path: Path) -> None:
    path = tmp_path / "workerlog.0"
    path.write_bytes((public_logs / "mmseg0x" / "deeplab_voc12_15k.log.json").read_bytes())
    log = read_log(str(path))
    assert log.format == "mmseg0-json"
    assert np.isclose(series(log.table, "miou")["value"].iloc[-1], 0.70)


def test_text_backspace_overwrites_like_a_terminal() -> None:
    # fuzz seed 10055466: "86.39\b7" shows 86.37 on a terminal; deleting the \b read 86.397
    line = f"{PREFIX}Iter [50/4000]\tlr: 8.313e-03, eta: 0:06:35, time: 0.115, "
    line += "aux.acc_seg: 86.39\b7, loss: 0.2136\b\b\b\b\b\b0.3\n"
    table = read_whole(TEXT_FMT, line.encode())
    assert series(table, "aux.acc_seg", "train")["value"].tolist() == [86.37]
    assert series(table, "loss", "train")["value"].tolist() == [0.3136]
