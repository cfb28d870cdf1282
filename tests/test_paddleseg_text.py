"""PaddleSeg text logs: the real ESPNet and ENCNet logs, and lines written as PaddleSeg prints."""

from __future__ import annotations

import calendar
import math
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.readers.base import RecordBuilder
from metrics.readers.paddleseg_text import PaddleSegText
from metrics.readers.registry import finalize
from tests.readers_util import feed_in_pieces, read_whole

FMT = PaddleSegText()
ENCNET_EVALS = [0.2776, 0.3019, 0.2867, 0.3038, 0.3268, 0.2989, 0.3344]


def read(data: bytes) -> tuple[pd.DataFrame, list, list, dict]:
    """Table, restarts, bad lines and meta of one whole read (as ``read_log`` does it)."""
    parser = FMT.new_parser()
    first, used = parser.feed(data, 0)
    return finalize([first, parser.finish(data[used:], used)], "run")


def series(table: pd.DataFrame, metric: str, split: str = "train") -> pd.DataFrame:
    rows = table[(table["metric"] == metric) & (table["split"] == split)]
    return rows.sort_values("step", kind="stable").reset_index(drop=True)


def utc(text: str) -> float:
    return float(calendar.timegm(pd.Timestamp(text).timetuple()))


def train_line(i: int, sep: str = ": ", prefix: str = "{} [INFO]\t", extra: str = "") -> str:
    """A train line as PaddleSeg 2.x prints it (v2.0 spells ``key=value``)."""
    stamp = prefix.format(f"2021-10-08 23:{i // 60 % 60:02d}:{i % 60:02d}")
    if prefix.startswith("["):
        stamp = prefix.format(f"2024/01/02 03:{i // 60 % 60:02d}:{i % 60:02d}")
    f = [("epoch", f"{i // 30 + 1}"), ("iter", f"{10 * i}/1000"), ("loss", f"{1 / i:.4f}")]
    f += [("lr", f"{0.01 - i / 1e4:.6f}"), ("batch_cost", f"{0.18 + i / 1e3:.4f}")]
    f += [("reader_cost", f"{i / 1e5:.5f}"), ("ips", f"{20 + i / 7:.4f} samples/sec")]
    body = ", ".join(f"{k}{sep}{v}" for k, v in f)
    return f"{stamp}[TRAIN] {body}{extra} | ETA 00:06:{i % 60:02d}\n"


def eval_block(
    miou: str, it: int, sep: str = ": ", stamp: str = "2021-10-08 23:20:29 [INFO]\t"
) -> str:
    """An eval summary, per-class arrays (numpy print, wrapped) and the "best" line."""
    return (
        f"{stamp}[EVAL] #Images{sep}76 mIoU{sep}{miou} Acc{sep}0.9933 Kappa{sep}0.7989 \n"
        f"{stamp}[EVAL] Class IoU: \n"
        "[0.9932 0.     nan    0.252  0.0003 0.1415 0.7978 0.3468 0.8191\n"
        " 0.3474 0.5   ]\n"
        f"{stamp}[EVAL] Class Acc: \n[0.9951 0.8816]\n"
        f"{stamp}[EVAL] The model with the best validation mIoU ({miou}) was saved at iter {it}.\n"
    )


# --- the real logs -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def espnet(public_logs: Path) -> bytes:
    return (public_logs / "paddleseg" / "espnet_cityscapes_120k_trainer-0.log").read_bytes()


@pytest.fixture(scope="module")
def encnet(public_logs: Path) -> bytes:
    return (public_logs / "paddleseg" / "encnet_appended_runs_resumed_workerlog.0.log").read_bytes()


def test_espnet_train_series(espnet: bytes) -> None:
    table, restarts, bad, meta = read(espnet)
    assert restarts == [] and bad == []
    loss, lr = series(table, "loss"), series(table, "lr")
    assert len(loss) == 2400 and loss["step"].tolist() == list(range(50, 120001, 50))
    assert loss["value"].iloc[0] == 2.6943 and loss["value"].iloc[-1] == 0.2707
    assert lr["value"].iloc[-1] == 0.0 and lr["value"].iloc[0] == 0.001
    for name, first in (("batch_cost", 0.4023), ("reader_cost", 0.20281), ("ips", 9.9425)):
        assert series(table, name)["value"].iloc[0] == first
    assert "epoch" not in set(table["metric"])
    assert loss["wall_time"].iloc[0] == utc("2021-12-06 01:52:16")
    assert meta.planned_steps == 120000 and meta.last_epoch == 646


def test_espnet_evals(espnet: bytes) -> None:
    table, _, _, meta = read(espnet)
    miou = series(table, "miou", "val")
    assert miou["step"].tolist() == list(range(4000, 120001, 4000))
    assert miou["value"].iloc[0] == 0.3015 and miou["value"].iloc[-1] == 0.6365
    assert miou["value"].tolist()[-5:] == [0.6168, 0.6141, 0.6214, 0.6264, 0.6365]
    assert series(table, "aacc", "val")["value"].iloc[0] == 0.8607
    assert series(table, "kappa", "val")["value"].iloc[0] == 0.8191
    assert miou["wall_time"].iloc[0] == utc("2021-12-06 02:08:59")
    assert meta.best_miou == 0.6365 and meta.best_step == 120000
    assert meta.val_images == 500
    first = table[(table["step"] == 4000) & (table["split"] == "val")].set_index("metric")["value"]
    # [0.9271 0.5373 0.7514 0.0011 0.0187 0.252  0.0003 ... \n 0.8191 0.3474 0.  ... 0.0214]
    assert first["iou/0"] == 0.9271 and first["iou/5"] == 0.252 and first["iou/12"] == 0.0
    assert first["iou/18"] == 0.0214 and first["acc/6"] == 0.32 and first["acc/0"] == 0.9776
    assert sum(m.startswith("iou/") for m in first.index) == 19


def test_espnet_best_lines_agree_with_eval_steps(espnet: bytes) -> None:
    table, _, _, _ = read(espnet)
    miou = series(table, "miou", "val")
    best_so_far = miou["value"].cummax()
    new_best = miou[miou["value"] == best_so_far]
    lines = [ln for ln in espnet.split(b"\n") if b"best validation mIoU" in ln]
    named = {int(ln.rsplit(b" ", 1)[1].rstrip(b".")) for ln in lines}
    assert set(new_best["step"]) <= named


def test_encnet_restarts_keep_the_resumed_run(encnet: bytes) -> None:
    table, restarts, bad, meta = read(encnet)
    assert [(r.step, r.line) for r in restarts] == [(10, 290), (10, 398)]
    steps = series(table, "loss")["step"].tolist()
    assert steps == list(range(10, 51, 10)) + list(range(10010, 13731, 10))
    assert series(table, "loss")["value"].iloc[0] == 4.2893  # the 3rd launch, not the 2nd
    miou = series(table, "miou", "val")
    assert miou["step"].tolist() == list(range(10500, 13501, 500))
    assert miou["value"].tolist() == ENCNET_EVALS
    assert meta.planned_steps == 50000 and bad == []
    assert meta.best_miou == 0.3344 and meta.best_step == 13500


def test_encnet_first_launch_before_restarts(encnet: bytes) -> None:
    parsed, _ = FMT.new_parser().feed(encnet, 0)
    rec = parsed.records
    first = rec[(rec["metric"] == "miou")].sort_values("offset")["value"].tolist()
    assert first[:2] == [0.8315, 0.8587]  # dropped later by the restarts, not by the parser


def test_sniff_by_content(espnet: bytes, encnet: bytes, public_logs: Path) -> None:
    assert FMT.sniff(espnet[: 256 * 1024], "renamed.txt")
    assert FMT.sniff(encnet[: 256 * 1024], "workerlog.0")
    mmseg = (public_logs / "mmseg0x" / "deeplab_voc12_15k.log").read_bytes()
    assert not FMT.sniff(mmseg[: 256 * 1024], "train.log")
    vdl = (
        public_logs / "paddleseg" / "espnet_cityscapes_120k_vdlrecords.1638726716.log"
    ).read_bytes()
    assert not FMT.sniff(vdl[: 256 * 1024], "x.log")


@settings(max_examples=12, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=6))
def test_chunked_feed_equals_whole_read_encnet(encnet: bytes, fractions: list[float]) -> None:
    cuts = [int(f * len(encnet)) for f in fractions]
    pd.testing.assert_frame_equal(feed_in_pieces(FMT, encnet, cuts), read_whole(FMT, encnet))


# --- written samples -------------------------------------------------------------------------


def synthetic(sep: str = ": ", prefix: str = "{} [INFO]\t", extra: str = "") -> bytes:
    """40 train lines (enough for the bulk path), an eval after iter 200, the rest."""
    lines = [train_line(i, sep, prefix, extra) for i in range(1, 21)]
    stamp = prefix.format("2021-10-08 23:20:29") if not prefix.startswith("[") else prefix
    lines.append(eval_block("0.8315", 200, sep, stamp if "{" not in stamp else ""))
    lines += [train_line(i, sep, prefix, extra) for i in range(21, 41)]
    return "".join(lines).encode()


@pytest.mark.parametrize("sep", [": ", "="])
def test_written_log_both_spellings(sep: str) -> None:
    table, _, bad, meta = read(synthetic(sep))
    loss = series(table, "loss")
    assert loss["step"].tolist() == list(range(10, 401, 10)) and bad == []
    assert loss["value"].tolist() == [float(f"{1 / i:.4f}") for i in range(1, 41)]
    assert series(table, "ips")["value"].iloc[-1] == float(f"{20 + 40 / 7:.4f}")
    assert series(table, "reader_cost")["value"].iloc[2] == 0.00003
    assert loss["wall_time"].iloc[1] == utc("2021-10-08 23:00:02")
    val = table[table["split"] == "val"].set_index("metric")
    assert set(val["step"]) == {200}
    assert val.loc["miou", "value"] == 0.8315 and val.loc["aacc", "value"] == 0.9933
    assert val.loc["iou/3", "value"] == 0.252 and val.loc["iou/1", "value"] == 0.0
    assert math.isnan(val.loc["iou/2", "value"]) and val.loc["iou/10", "value"] == 0.5
    assert val.loc["acc/1", "value"] == 0.8816 and "acc/2" not in val.index
    assert meta.planned_steps == 1000


def test_develop_prefix_and_max_mem() -> None:
    extra = ", max_mem_reserved: 1234 MB, max_mem_allocated: 987 MB"
    data = synthetic(prefix="[{}] INFO: ", extra=extra)
    table, _, bad, _ = read(data)
    assert bad == []
    loss = series(table, "loss")
    assert len(loss) == 40 and loss["wall_time"].iloc[0] == utc("2024-01-02 03:00:01")
    assert series(table, "max_mem_reserved")["value"].tolist() == [1234.0] * 40
    assert series(table, "max_mem_allocated")["value"].iloc[-1] == 987.0


def test_eval_between_train_lines_takes_the_best_line_iteration() -> None:
    data = "".join(train_line(i) for i in range(1, 40)) + eval_block("0.5000", 395)
    table, _, _, _ = read(data.encode())
    assert series(table, "miou", "val")["step"].tolist() == [395]  # last train line: 390


def test_eval_not_best_stays_at_last_train_line() -> None:
    block = eval_block("0.4000", 100).replace(
        "(0.4000) was saved at iter 100", "(0.5) was saved at iter 100"
    )
    data = "".join(train_line(i) for i in range(1, 40)) + block
    table, _, _, meta = read(data.encode())
    assert series(table, "miou", "val")["step"].tolist() == [390]
    assert meta.best_step == 100


def test_ema_eval_is_named_apart() -> None:
    stamp = "[2024/01/02 03:00:00] INFO: "
    ema = f"{stamp}[EVAL] #Images: 76 mIoU: 0.7000 Acc: 0.9 Kappa: 0.8 Dice: 0.75\n"
    data = "".join(train_line(i) for i in range(1, 40)) + eval_block("0.5000", 390) + ema
    table, _, _, _ = read(data.encode())
    val = table[table["split"] == "val"].set_index("metric")["value"]
    assert val["miou"] == 0.5 and val["ema_miou"] == 0.7 and val["ema_dice"] == 0.75


def test_nan_values_and_progress_bar_on_the_same_line() -> None:
    lines = [train_line(i) for i in range(1, 40)]
    lines[5] = lines[5].replace("loss: 0.1667", "loss: nan")
    bar = "\r 76/76 [==============================] - ETA: 0s - batch_cost: 0.04" + "\b" * 3000
    lines[7] = bar + lines[7]
    lines.insert(9, "W1018 07:38:40.358167 40345 device_context.cc:404] Please NOTE: device: 0\n")
    lines[20] = lines[20].replace("\n", "\r\n")
    block = eval_block("0.5000", 390).replace("Acc: 0.9933", "Acc: nan")
    table, _, bad, _ = read(("".join(lines) + block).encode())
    loss = series(table, "loss")
    assert len(loss) == 39 and bad == []
    assert math.isnan(loss["value"].iloc[5]) and loss["value"].iloc[7] == 0.125
    assert loss["value"].iloc[19] == 0.05 and not math.isnan(loss["wall_time"].iloc[7])
    assert math.isnan(series(table, "aacc", "val")["value"].iloc[0])


def test_malformed_train_line_is_bad_not_a_record() -> None:
    lines = [train_line(i) for i in range(1, 40)]
    lines[3] = lines[3].replace("iter: 40/1000", "iter: forty/1000")
    lines[4] = lines[4][: len(lines[4]) // 2] + "\n"  # cut off mid-line
    table, _, bad, _ = read("".join(lines).encode())
    assert [b.line for b in bad] == [4, 5]
    assert 40 not in set(series(table, "loss")["step"])
    assert series(table, "loss")["step"].tolist()[:4] == [10, 20, 30, 60]


def test_array_cut_short_is_reported() -> None:
    block = eval_block("0.5000", 390).replace(" 0.3474 0.5   ]\n", "")
    table, _, bad, _ = read(("".join(train_line(i) for i in range(1, 40)) + block).encode())
    assert [b.reason for b in bad] == ["per-class array cut short"]
    val = table[table["split"] == "val"]
    assert not val["metric"].astype(str).str.startswith("iou/").any()
    assert (val["metric"] == "acc/1").sum() == 1


def test_garbage_yields_nothing() -> None:
    rng = random.Random(7)
    noise = bytes(rng.randrange(256) for _ in range(20000))
    for data in (noise, noise.replace(b"\n", b"") + b"[TRAIN] [EVAL] #Images\n", b"", b"\n\n"):
        table, _, _, _ = read(data)
        assert table.empty


def test_eval_cut_across_pieces_and_held_until_its_block_ends() -> None:
    data = synthetic()
    parser = FMT.new_parser()
    at = data.index(b"[EVAL] Class IoU")
    first, used = parser.feed(data[:at], 0)
    assert (first.records["split"] == "val").sum() == 0  # held: the block has not ended
    rest, _ = parser.feed(data[used:], used)
    assert (rest.records["split"] == "val").sum() == 3 + 11 + 2


def test_finish_flushes_an_eval_at_the_end_of_the_file() -> None:
    data = ("".join(train_line(i) for i in range(1, 5)) + eval_block("0.5", 40)).encode()
    data = data[: data.index(b"2021-10-08 23:20:29 [INFO]\t[EVAL] The model")]
    table, _, _, _ = read(data)
    assert series(table, "miou", "val")["step"].tolist() == [40]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 20000), max_size=8), st.sampled_from([": ", "="]))
def test_chunked_feed_equals_whole_read_written(cuts: list[int], sep: str) -> None:
    data = synthetic(sep) + b"".join(
        train_line(i).replace("loss: ", "loss: -" if i % 5 else "loss: ").encode()
        for i in range(41, 50)
    )
    pd.testing.assert_frame_equal(feed_in_pieces(FMT, data, cuts), read_whole(FMT, data))


def test_bulk_and_line_by_line_paths_agree() -> None:
    data = synthetic()
    bulk, _, _, _ = read(data)
    parser = FMT.new_parser()
    parts = []
    pos = 0
    for line in data.splitlines(keepends=True):  # one line at a time: never the bulk path
        out = RecordBuilder()
        parser.parse_lines(line, pos, out)
        parser.lines_before += 1
        parts.append(out.build())
        pos += len(line)
    parts.append(parser.finish(b"", pos))
    one_by_one = finalize(parts, "run")[0]
    key = ["split", "metric", "step"]
    a = bulk.sort_values(key).reset_index(drop=True)
    b = one_by_one.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_categorical=False)
    assert np.array_equal(a["wall_time"], b["wall_time"], equal_nan=True)


def test_unknown_level_stamp_reads_the_same_at_a_piece_start() -> None:
    # fuzz seed 10016701: "[IKFO]" is no logger stamp mid-chunk, but was read as one (with its
    # wall time) when the line started a piece
    data = (train_line(1) + train_line(2).replace("[INFO]", "[IKFO]")).encode()
    cut = data.index(b"2021-10-08 23:00:02")
    whole = read_whole(FMT, data)
    pd.testing.assert_frame_equal(feed_in_pieces(FMT, data, [cut]), whole)
    walls = series(whole, "loss")["wall_time"].tolist()
    assert walls[0] == utc("2021-10-08 23:00:01") and math.isnan(walls[1])
