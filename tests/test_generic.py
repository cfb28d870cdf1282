"""Generic CSV and JSON-lines logs: step column, mapping, percent, errors, fed in pieces."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.errors import ColumnMappingError
from metrics.readers.base import LogFormat
from metrics.readers.registry import get_format, read_log, sniff_format
from tests.readers_util import feed_in_pieces, read_whole


@pytest.fixture(scope="module")
def csv_fmt() -> LogFormat:
    return get_format("csv")


@pytest.fixture(scope="module")
def jsonl_fmt() -> LogFormat:
    return get_format("jsonl")


def values(table: pd.DataFrame, metric: str, split: str) -> list[tuple[int, float]]:
    rows = table[(table["metric"] == metric) & (table["split"] == split)]
    return list(zip(rows["step"].tolist(), rows["value"].tolist(), strict=True))


def script_csv() -> bytes:
    """A training script's own CSV (LF, as ``pandas.to_csv`` writes), eval cells every 50."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["step", "epoch", "loss", "lr", "val_loss", "mIoU", "IoU.road", "wall_time"])
    for step in range(10, 101, 10):
        row: list[object] = [step, step // 50, 2.0 - step / 100, 0.01, "", "", "", 1.7e9 + step]
        if step % 50 == 0:
            row[4:7] = [1.0 - step / 200, 0.25 + step / 400, 0.875]
        writer.writerow(row)
    return buf.getvalue().encode()


# -- CSV -----------------------------------------------------------------------------------


def test_csv_columns_map_and_sparse_cells_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(script_csv())
    data = read_log(str(path))
    assert data.format == "csv"
    table = data.table
    assert values(table, "loss", "train")[:2] == [(10, 1.9), (20, 1.8)]
    assert values(table, "lr", "train")[-1] == (100, 0.01)
    assert values(table, "loss", "val") == [(50, 0.75), (100, 0.5)]
    assert values(table, "miou", "val") == [(50, 0.375), (100, 0.5)]  # unprefixed IoU → val
    assert values(table, "iou/road", "val") == [(50, 0.875), (100, 0.875)]
    assert values(table, "epoch", "train")[:5] == [
        (10, 0.0),
        (20, 0.0),
        (30, 0.0),
        (40, 0.0),
        (50, 1.0),
    ]
    walls = table[table["metric"] == "loss"]["wall_time"].tolist()
    assert walls[0] == 1.7e9 + 10
    assert "wall_time" not in set(table["metric"]) and "step" not in set(table["metric"])


def test_csv_user_mapping_and_percent(csv_fmt: LogFormat) -> None:
    data = b"it,ep,score,road_score,note\n100,1,45.5,90.25,ok\n200,2,50.0,91.0,best\n"
    parser = csv_fmt.new_parser(
        {
            "step": "it",
            "columns": {"score": "miou", "road_score": "val/iou/road", "ep": None},
            "percent": ["score", "iou/*"],
        }
    )
    parsed, used = parser.feed(data, 0)
    assert used == len(data)
    frame = parsed.records
    rows = set(
        zip(frame["step"], frame["split"], frame["metric"].astype(str), frame["value"], strict=True)
    )
    assert rows == {
        (100, "val", "miou", 0.455),
        (200, "val", "miou", 0.5),
        (100, "val", "iou/road", 0.9025),
        (200, "val", "iou/road", 0.91),
    }  # the text column "note" is ignored, "ep" dropped


def test_csv_missing_step_column_names_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "per_epoch.csv"
    path.write_bytes(b"epoch,loss,miou\n1,0.5,0.4\n")
    with pytest.raises(ColumnMappingError, match=r"columns found: 'epoch', 'loss', 'miou'"):
        read_log(str(path), format="csv")
    with pytest.raises(ColumnMappingError, match=r"the step column 'global_step'"):
        read_log(str(path), format="csv", options={"step": "global_step"})
    data = read_log(str(path), format="csv", options={"step": "epoch"})
    assert values(data.table, "miou", "val") == [(1, 0.4)]


def test_csv_unknown_option_is_an_error(csv_fmt: LogFormat) -> None:
    with pytest.raises(ColumnMappingError, match="unknown column-mapping option"):
        csv_fmt.new_parser({"colums": {"a": "miou"}})


def test_csv_bad_rows_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(b"step,loss\n1,0.9\n2,0.8,extra\nx,0.7\n\n3,0.6\n4.5,0.5\n")
    with pytest.warns(UserWarning, match="skipped 3 malformed"):
        data = read_log(str(path))
    assert [(b.line, b.reason) for b in data.bad_lines] == [
        (3, "expected 2 fields, got 3"),
        (4, "step 'x' is not an integer"),
        (7, "step '4.5' is not an integer"),
    ]
    assert values(data.table, "loss", "train") == [(1, 0.9), (3, 0.6)]


def test_csv_repeated_header_and_step_going_back(csv_fmt: LogFormat) -> None:
    data = b"step,loss\r\n1,0.9\r\n2,0.8\r\n3,0.7\r\nstep,miou,loss\r\n2,0.5,0.65\r\n"
    table = read_whole(csv_fmt, data)
    assert values(table, "loss", "train") == [(1, 0.9), (2, 0.65)]
    assert values(table, "miou", "val") == [(2, 0.5)]


def test_csv_bom_and_padded_header(csv_fmt: LogFormat) -> None:
    data = "\ufeff step , train/loss , val/mIoU \n 5 , 0.5 , nan \n".encode()
    table = read_whole(csv_fmt, data)
    assert values(table, "loss", "train") == [(5, 0.5)]
    assert math.isnan(values(table, "miou", "val")[0][1])


def test_csv_number_is_an_ascii_decimal_not_any_python_float(csv_fmt: LogFormat) -> None:
    # fuzz seed 10097004: float() reads "0.00_3" as 0.003 and the Arabic-Indic "\u06f1" as 1
    data = "step,loss,lr\n1,0.00_3,\u06f10.5\n2,+1.5e-1, -inf \n3_0,0.1,0.2\n\u06f14,0.1,0.2\n"
    table = read_whole(csv_fmt, data.encode())
    assert values(table, "loss", "train") == [(2, 0.15)]
    assert values(table, "lr", "train") == [(2, -math.inf)]


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(0, 700), max_size=8))
def test_csv_fed_in_pieces_equals_one_read(csv_fmt: LogFormat, cuts: list[int]) -> None:
    data = script_csv() + b"step,loss\n5,1.0\nbad,row\n"  # a restart, a new header, a bad row
    pd.testing.assert_frame_equal(feed_in_pieces(csv_fmt, data, cuts), read_whole(csv_fmt, data))


# -- JSON lines ------------------------------------------------------------------------------


def script_jsonl() -> bytes:
    lines = []
    for step in range(10, 101, 10):
        record: dict[str, object] = {"global_step": step, "train/loss": 2.0 - step / 100}
        if step % 50 == 0:
            record["val"] = {"mIoU": 0.25 + step / 400, "iou_road": 0.875, "iou_sky": math.nan}
        record["tag"] = "run-1"
        lines.append(json.dumps(record) + "\n")
    return "".join(lines).encode()


def test_jsonl_flattens_and_maps(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_bytes(script_jsonl())
    data = read_log(str(path))
    assert data.format == "jsonl"
    table = data.table
    assert values(table, "loss", "train")[:2] == [(10, 1.9), (20, 1.8)]
    assert values(table, "miou", "val") == [(50, 0.375), (100, 0.5)]
    assert values(table, "iou/road", "val") == [(50, 0.875), (100, 0.875)]
    assert math.isnan(values(table, "iou/sky", "val")[0][1])
    assert set(table["metric"]) == {"loss", "miou", "iou/road", "iou/sky"}


def test_jsonl_percent_and_user_step(jsonl_fmt: LogFormat) -> None:
    data = b'{"batch": 7, "val_miou": 41.25, "wall_time": 1700000000.5}\n'
    parser = jsonl_fmt.new_parser({"step": "batch", "percent": ["miou"]})
    parsed, _ = parser.feed(data, 0)
    frame = parsed.records
    assert frame[["step", "value", "wall_time"]].values.tolist() == [[7, 0.4125, 1700000000.5]]


def test_jsonl_missing_step_key_raises_with_keys(jsonl_fmt: LogFormat) -> None:
    parser = jsonl_fmt.new_parser()
    with pytest.raises(ColumnMappingError, match=r"keys found: 'epoch', 'loss'"):
        parser.feed(b'{"epoch": 1, "loss": 0.5}\n', 0)


def test_jsonl_bad_lines_and_partial_tail(jsonl_fmt: LogFormat) -> None:
    data = (
        b'{"step": 1, "loss": 0.9}\n'
        b"Traceback (most recent call last):\n"
        b'{"loss": 0.8}\n'
        b'{"step": 2, "loss": NaN}\n'
        b'{"step": 3, "lo'
    )
    parser = jsonl_fmt.new_parser()
    parsed, used = parser.feed(data, 0)
    assert [(b.line, b.reason) for b in parsed.bad_lines] == [
        (2, "not a JSON object"),
        (3, "no integer 'step'"),
    ]
    assert parsed.records["step"].tolist() == [1, 2]
    assert math.isnan(parsed.records["value"].iloc[1])
    tail = parser.finish(data[used:], used)
    assert len(tail.records) == 0 and tail.bad_lines == []
    done = parser.finish(b'{"step": 3, "loss": 0.7}', used)  # complete but unterminated
    assert done.records["value"].tolist() == [0.7]


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(0, 900), max_size=8))
def test_jsonl_fed_in_pieces_equals_one_read(jsonl_fmt: LogFormat, cuts: list[int]) -> None:
    data = script_jsonl() + b'{"global_step": 20, "train/loss": 1.0}\nnot json\n{"global_step": 30'
    pd.testing.assert_frame_equal(
        feed_in_pieces(jsonl_fmt, data, cuts), read_whole(jsonl_fmt, data)
    )


# -- detection: the generic readers are the fallbacks ------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"step,loss\n1,0.5\n", "csv"),
        (b"Iteration;loss\n", None),  # not comma-separated
        (b"epoch,loss\n1,0.5\n", None),  # no step-like column
        (b'{"iter": 3, "loss": 0.5}\n', "jsonl"),
        (b'{"epoch": 3, "loss": 0.5}\n', None),
        (b"2024-01-01 step 3, loss 0.5\n", None),
    ],
)
def test_fallback_detection(head: bytes, expected: str | None) -> None:
    found = sniff_format(head, "log.txt")
    assert (found.name if found else None) == expected
