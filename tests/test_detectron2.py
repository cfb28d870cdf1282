"""Detectron2 metrics.json: the real appended instance-seg sample and written semantic ones."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics.readers.base import LogFormat
from metrics.readers.registry import get_format, read_log
from tests.readers_util import feed_in_pieces, read_whole

SAMPLE = "detectron2/mask2former_instance_3runs_appended_metrics.json"
CLASSES = ("road", "sidewalk", "traffic light")
MAX_ITER = 4000


@pytest.fixture(scope="module")
def fmt() -> LogFormat:
    return get_format("detectron2")


def jsonwriter_line(iteration: int, scalars: dict[str, float]) -> bytes:
    """One line as ``JSONWriter.write`` writes it."""
    return (json.dumps({"iteration": iteration, **scalars}, sort_keys=True) + "\n").encode()


def train_scalars(it: int, with_eta: bool = True) -> dict[str, float]:
    """A single-loss SemanticSegmentor's train scalars (only ``total_loss`` for one loss)."""
    scalars = {
        "data_time": 0.0025,
        "lr": round(0.01 * (1 - it / MAX_ITER), 8),
        "rank_data_time": 0.0025,
        "time": 0.25,
        "total_loss": round(2.5 - it * 0.0005, 6),
    }
    if with_eta:
        scalars["eta_seconds"] = (MAX_ITER - it - 1) * 0.25
    return scalars


def sem_seg_eval(miou: float, road: float, sidewalk: float) -> dict[str, float]:
    """``flatten_results_dict`` of ``SemSegEvaluator`` (percent; absent class → NaN)."""
    return {
        "sem_seg/mIoU": miou,
        "sem_seg/fwIoU": 80.5,
        "sem_seg/mACC": miou + 10.0,
        "sem_seg/pACC": 88.5,
        "sem_seg/IoU-road": road,
        "sem_seg/IoU-sidewalk": sidewalk,
        "sem_seg/IoU-traffic light": math.nan,
        "sem_seg/ACC-road": 95.5,
        "sem_seg/ACC-sidewalk": 40.0,
        "sem_seg/ACC-traffic light": math.nan,
    }


def semantic_metrics_json(with_eta: bool = True) -> bytes:
    """4000 iters, a train line every 20, eval period 2000: periodic eval merged into the
    train line of iteration 1999, final eval alone at iteration 4000."""
    lines = []
    for it in range(19, MAX_ITER, 20):
        scalars = train_scalars(it, with_eta)
        if it == 1999:
            scalars |= sem_seg_eval(41.25, 90.0, 33.75)
        lines.append(jsonwriter_line(it, scalars))
    lines.append(jsonwriter_line(MAX_ITER, sem_seg_eval(63.5, 97.25, 55.5)))
    return b"".join(lines)


def values(table: pd.DataFrame, metric: str, split: str) -> list[tuple[int, float]]:
    rows = table[(table["metric"] == metric) & (table["split"] == split)]
    return list(zip(rows["step"].tolist(), rows["value"].tolist(), strict=True))


# -- the real sample: three launches appended --------------------------------------------


def test_real_sample_keeps_only_the_third_launch(public_logs: Path) -> None:
    data = read_log(str(public_logs / SAMPLE))
    assert data.format == "detectron2"
    assert [(r.step, r.line) for r in data.restarts] == [(20, 102), (20, 128)]
    assert data.bad_lines == ()
    table = data.table
    train = table[table["split"] == "train"]
    assert np.array_equal(np.unique(train["step"]), np.arange(20, 4001, 20))
    loss = values(table, "loss", "train")
    assert len(loss) == 200
    assert loss[0] == (20, 109.52720859530382)  # the third launch's first total_loss
    assert loss[-1] == (4000, 12.89893745048903)
    assert values(table, "loss_ce", "train")[-1] == (4000, 0.14530779421329498)
    assert values(table, "lr", "train")[-1] == (4000, 1.0000000000000002e-07)
    assert values(table, "eta_seconds", "train")[-1] == (4000, 0.0)


def test_real_sample_final_eval_lands_on_max_iter_in_its_own_unit(public_logs: Path) -> None:
    table = read_log(str(public_logs / SAMPLE)).table
    val = table[table["split"] == "val"]
    assert set(val["step"]) == {4000}
    assert values(table, "segm/AP", "val") == [(4000, 65.11574610396931)]
    assert values(table, "bbox/AP50", "val") == [(4000, 0.0)]
    assert math.isnan(values(table, "segm/APs", "val")[0][1])
    assert not table["metric"].isin(["miou", "macc", "aacc"]).any()  # no sem_seg keys
    assert table["wall_time"].isna().all()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cuts=st.lists(st.integers(0, 418_858), max_size=6))
def test_real_sample_fed_in_pieces_equals_one_read(
    public_logs: Path, fmt: LogFormat, cuts: list[int]
) -> None:
    data = (public_logs / SAMPLE).read_bytes()
    pd.testing.assert_frame_equal(feed_in_pieces(fmt, data, cuts), read_whole(fmt, data))


# -- written semantic-segmentation samples -----------------------------------------------


def test_semantic_sample_steps_and_percent_to_fraction(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    path.write_bytes(semantic_metrics_json())
    data = read_log(str(path))
    assert data.format == "detectron2"
    table = data.table
    assert values(table, "miou", "val") == [(2000, 0.4125), (4000, 0.635)]
    assert values(table, "macc", "val") == [(2000, 0.5125), (4000, 0.735)]
    assert values(table, "aacc", "val") == [(2000, 0.885), (4000, 0.885)]
    assert values(table, "fwiou", "val") == [(2000, 0.805), (4000, 0.805)]
    assert values(table, "iou/road", "val") == [(2000, 0.9), (4000, 0.9725)]
    assert values(table, "iou/sidewalk", "val") == [(2000, 0.3375), (4000, 0.555)]
    assert values(table, "acc/road", "val") == [(2000, 0.955), (4000, 0.955)]
    nan_iou = values(table, "iou/traffic light", "val")
    assert [s for s, _ in nan_iou] == [2000, 4000] and all(math.isnan(v) for _, v in nan_iou)
    loss = values(table, "loss", "train")
    assert loss[0] == (20, 2.4905) and loss[-1] == (4000, 0.5005) and len(loss) == 200
    assert values(table, "lr", "train")[0] == (20, 0.0099525)
    assert set(table["metric"]) >= {"time", "data_time", "rank_data_time", "eta_seconds"}
    assert data.restarts == ()


def test_final_eval_without_eta_still_lands_on_max_iter(fmt: LogFormat) -> None:
    table = read_whole(fmt, semantic_metrics_json(with_eta=False))
    assert values(table, "miou", "val") == [(2000, 0.4125), (4000, 0.635)]
    assert "eta_seconds" not in set(table["metric"])


def test_periodic_eval_only_line_is_one_based(fmt: LogFormat) -> None:
    # eval period 1010: the eval at iteration 1009 is its own line between train lines
    data = b"".join(
        [
            jsonwriter_line(999, train_scalars(999)),
            jsonwriter_line(1009, {"sem_seg/mIoU": 30.0}),
            jsonwriter_line(1019, train_scalars(1019)),
        ]
    )
    assert values(read_whole(fmt, data), "miou", "val") == [(1010, 0.3)]


def test_eval_right_after_a_train_line_with_eta_left_is_periodic(fmt: LogFormat) -> None:
    # eval period 21: eval at iteration 20 follows the train line of 19, but eta says
    # training goes on, so it is not the final eval
    data = jsonwriter_line(19, train_scalars(19)) + jsonwriter_line(20, {"sem_seg/mIoU": 5.0})
    assert values(read_whole(fmt, data), "miou", "val") == [(21, 0.05)]


def test_appended_launch_voids_the_abandoned_records(fmt: LogFormat) -> None:
    first = [jsonwriter_line(it, train_scalars(it)) for it in (19, 39, 59)]
    second = [jsonwriter_line(it, train_scalars(it)) for it in (19, 39)]
    table = read_whole(fmt, b"".join(first + second))
    assert values(table, "loss", "train") == [(20, 2.4905), (40, 2.4805)]


def test_partial_last_line_is_left_for_later(fmt: LogFormat) -> None:
    data = semantic_metrics_json()
    cut = data[:-40]  # the final eval line cut short, as a growing file shows it
    parser = fmt.new_parser()
    parsed, used = parser.feed(cut, 0)
    assert used == cut.rfind(b"\n") + 1
    tail = parser.finish(cut[used:], used)
    assert len(tail.records) == 0 and tail.bad_lines == []
    assert set(parsed.records["step"][parsed.records["split"] == "val"]) == {2000}
    # an unterminated but complete last line is parsed at the end of a full read
    whole = read_whole(fmt, data.rstrip(b"\n"))
    assert values(whole, "miou", "val") == [(2000, 0.4125), (4000, 0.635)]


def test_malformed_lines_are_counted_and_skipped(tmp_path: Path) -> None:
    lines = semantic_metrics_json().splitlines(keepends=True)
    lines.insert(3, b'{"iteration": 79, "total_loss": 2.46\n')  # torn write
    lines.insert(5, b'{"total_loss": 1.0, "data_time": 0.1}\n')  # no iteration
    path = tmp_path / "metrics.json"
    path.write_bytes(b"".join(lines))
    with pytest.warns(UserWarning, match="skipped 2 malformed"):
        data = read_log(str(path), format="detectron2")
    assert [(b.line, b.reason) for b in data.bad_lines] == [
        (4, "not a JSON object"),
        (6, "no integer 'iteration'"),
    ]
    assert len(values(data.table, "loss", "train")) == 200


@settings(max_examples=20, deadline=None)
@given(cuts=st.lists(st.integers(0, 60_000), max_size=8))
def test_semantic_sample_fed_in_pieces_equals_one_read(fmt: LogFormat, cuts: list[int]) -> None:
    data = semantic_metrics_json()
    pd.testing.assert_frame_equal(feed_in_pieces(fmt, data, cuts), read_whole(fmt, data))


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (jsonwriter_line(19, train_scalars(19)), True),
        (
            jsonwriter_line(4000, {"sem_seg/mIoU": 1.0}) + jsonwriter_line(19, train_scalars(19)),
            True,
        ),
        (b'{"iteration": 10, "loss": 0.5}\n', False),  # generic JSON lines
        (b'{"mode": "train", "iter": 50, "loss": 0.5, "data_time": 0.1}\n', False),  # MMSeg 0.x
        (b"iteration,total_loss\n19,2.0\n", False),
        (b"", False),
    ],
)
def test_sniff(fmt: LogFormat, head: bytes, expected: bool) -> None:
    assert fmt.sniff(head, "anything.json") is expected
