"""The bulk path of the MMSeg text readers gives exactly what reading every line gives.

Oracle: the same parser with the bulk path off (every line through ``line``), on logs made of
lines the way mmcv and mmengine print them, mixed with the lines that trip a parser (odd keys
and values, relaunches, redraws, colour, CRLF, tables, console copies, broken stamps), fed whole
and in pieces; records (in their order, with offsets), restarts, bad lines and meta must match.
A planted bug shows the oracle can fail; a count shows the bulk path is taken.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from metrics.readers import _mmseg_text_bulk as bulk_module
from metrics.readers._mmseg_common import utc_seconds, utc_seconds_array
from metrics.readers._mmseg_text_bulk import TRAIN, scan
from metrics.readers.mmseg0_text import MMSeg0TextParser
from metrics.readers.mmseg1_text import MMSeg1TextParser
from tests.readers_util import piece_outputs, same

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Bulk0(MMSeg0TextParser):
    piece_bytes = 600  # several scans per feed: layouts carried from one to the next


class Each0(MMSeg0TextParser):
    bulk = False


class Bulk1(MMSeg1TextParser):
    piece_bytes = 600


class Each1(MMSeg1TextParser):
    bulk = False


PAIRS = {0: (Bulk0, Each0), 1: (Bulk1, Each1)}

# ---------------------------------------------------------------- lines as the frameworks print

_NUMBERS = st.one_of(
    st.floats(0, 100).map(lambda x: f"{x:.4f}"),
    st.floats(1e-7, 1).map(lambda x: f"{x:.4e}"),
    st.integers(0, 30000).map(str),
    st.sampled_from(["nan", "inf", "-0.5", "1e-03", "0.", ".5", "-nan", "+1", "NaN", "1e400"]),
)
_TEXTS = st.sampled_from(["abc", "1.5x", "12 MB", "a: 1", "1_0", "1,5", "-", "inf!"])
_ODD_VALUES = st.one_of(_TEXTS, st.sampled_from(["", "1 day, 2:03:04", "2:03:04", "Infinity"]))
_KEYS = ["lr", "eta", "time", "data_time", "memory", "loss", "decode.loss_ce", "decode.acc_seg"]
_ODD_KEYS = ["mIoU", "IoU.road", "miou", "grad_norm", "lr_backbone", "loss ce", "a:b", "eta", "x_y"]
_ETAS = st.sampled_from(["1 day, 2:03:04", "0:14:11", "10 days, 0:00:01", "12", "-1 day, 23:59:59"])


@st.composite
def stamp(draw: st.DrawFn, version: int) -> str:
    y, mo, d = draw(st.sampled_from([(2024, 2, 8), (2023, 12, 31), (0, 1, 1), (2024, 13, 5)]))
    h, mi, s = draw(st.sampled_from([(13, 6, 26), (0, 0, 0), (23, 59, 59), (99, 61, 99)]))
    if version == 0:
        ms = draw(st.integers(0, 999))
        return f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d},{ms:03d} - mmseg - INFO - "
    year = draw(st.sampled_from([f"{y:04d}/", f"{y:04d}/", ""]))  # "": a console copy
    return f"{year}{mo:02d}/{d:02d} {h:02d}:{mi:02d}:{s:02d} - mmengine - INFO - "


@st.composite
def fields(draw: st.DrawFn, version: int, mode: str) -> str:
    """The fields of a train line: "std" as printed (a value now and then odd), "void" (no
    number at all), "odd" (other keys, separators)."""
    keys = list(_KEYS)
    if mode == "odd":
        keys = draw(st.permutations(keys + draw(st.lists(st.sampled_from(_ODD_KEYS), max_size=2))))
    parts = []
    for key in keys:
        if key == "eta":
            value = draw(_ETAS)
        elif mode == "void":
            value = draw(_TEXTS)
        elif mode == "odd" or draw(st.integers(0, 6)) == 0:
            value = draw(_ODD_VALUES)
        else:
            value = draw(_NUMBERS)
        parts.append(f"{key}: {value}")
    sep = ", " if version == 0 else "  "
    if mode == "odd":
        sep = draw(st.sampled_from([sep, sep, ",", " ", "   ", ",  ", "\t"]))
    return sep.join(parts)


@st.composite
def train_line(draw: st.DrawFn, version: int, step: int) -> str:
    mode = draw(st.sampled_from(["std"] * 8 + ["void", "odd"]))
    total = draw(st.sampled_from([20000, 40000]))
    if draw(st.integers(0, 9)) == 0:  # epoch-based
        e, i, n = step // 100 + 1, step % 100 + 1, 100
        head = f"Epoch [{e}][{i}/{n}]\t" if version == 0 else f"Epoch(train) [{e}][{i:>3}/{n}]  "
    else:
        head = f"Iter [{step}/{total}]\t" if version == 0 else f"Iter(train) [{step:>5}/{total}]  "
    if mode == "odd" and draw(st.booleans()):
        head = head.replace("\t", " ").replace("  ", draw(st.sampled_from([" ", "   ", "\t"])))
    return draw(stamp(version)) + head + draw(fields(version, mode))


@st.composite
def dressed(draw: st.DrawFn, line: str) -> str:
    """A line as a terminal copy may hold it: coloured, redrawn, trailing blanks."""
    how = draw(st.integers(0, 12))
    if how == 0:
        return f"\x1b[32m{line}\x1b[0m"
    if how == 1:
        return f"[>>>>   ] 10/70, 5.0 task/s\r{line}"
    if how == 2:
        return f"abc\x08\x08\x08{line}"
    if how == 3:
        return f"{line}  \r"
    if how == 4:
        return f"{line}\r[>>  ] 2/7"
    return line


@st.composite
def eval_block(draw: st.DrawFn, version: int, step: int) -> list[str]:
    pre = draw(stamp(version))
    rows = ["+-------+-------+-------+", "| Class |  IoU  |  Acc  |", "+-------+-------+-------+"]
    rows += [f"|  {c}  | {draw(_NUMBERS)} | 94.44 |" for c in ("road", "sky", "car")]
    rows += ["+-------+-------+-------+"]
    if draw(st.integers(0, 3)) == 0:  # another rank's train line amid the table
        rows.insert(draw(st.integers(0, len(rows))), draw(train_line(version, step)))
    lines = [f"{pre}Iter(val) [ 50/500]    eta: 0:00:04  time: 0.0602  data_time: 0.0019  "]
    lines += [f"{pre}Iter(val) [100/500]    eta: 0:00:01  time: 1_0  memory: 12 MB"]
    lines += [f"{pre}per class results:", pre, *rows]
    if version == 0:
        lines.append(f"{pre}Iter(val) [70]\taAcc: 0.9500, mIoU: {draw(_NUMBERS)}, mAcc: 0.6000")
    else:
        lines.append(f"{pre}Iter(val) [11/11]    aAcc: 96.57  mIoU: {draw(_NUMBERS)}  mAcc: 77.25")
        lines.append(f"{pre}The best checkpoint with 41.2400 mIoU at 1000 iter is saved.")
    return lines


_NOISE = st.sampled_from(
    [
        "",
        "    norm_cfg=dict(type='SyncBN', requires_grad=True),",
        "2024 is not a stamp",
        "Traceback (most recent call last):",
        "\u4e2d\u6587 GBK or not",
    ]
)


@st.composite
def log(draw: st.DrawFn, version: int) -> bytes:
    lines: list[str] = []
    step = draw(st.integers(1, 50))
    for _ in range(draw(st.integers(1, 40))):
        what = draw(st.integers(0, 9))
        if what <= 5:
            lines.append(draw(train_line(version, step)))
            step = max(0, step + draw(st.sampled_from([10, 10, 10, 0, -30, 10**17])))
        elif what <= 7:
            lines += draw(eval_block(version, step))
        elif what == 8:
            lines.append(draw(_NOISE))
        else:
            lines.append(draw(stamp(version)) + draw(st.sampled_from(["Saving checkpoint", ""])))
    lines = [draw(dressed(line)) for line in lines]
    text = ("\r\n" if draw(st.booleans()) else "\n").join(lines) + "\n"
    data = text.encode("utf-8", "surrogateescape")
    if draw(st.integers(0, 3)) == 0:  # a byte mutated somewhere
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    return data


# ---------------------------------------------------------------- the comparison


def check(version: int, data: bytes, cuts: list[int]) -> None:
    bulk, each = PAIRS[version]
    for pieces in ([], cuts):
        assert same(piece_outputs(bulk, data, pieces), piece_outputs(each, data, pieces)), (
            pieces,
            data,
        )


@SETTINGS
@given(st.data(), st.lists(st.integers(0, 20000), max_size=6))
def test_bulk_equals_every_line_mmseg0(data: st.DataObject, cuts: list[int]) -> None:
    check(0, data.draw(log(0)), cuts)


@SETTINGS
@given(st.data(), st.lists(st.integers(0, 20000), max_size=6))
def test_bulk_equals_every_line_mmseg1(data: st.DataObject, cuts: list[int]) -> None:
    check(1, data.draw(log(1)), cuts)


# ---------------------------------------------------------------- the oracle is not vacuous

PLAIN0 = b"".join(
    b"2023-02-13 22:06:%02d,444 - mmseg - INFO - Iter [%d/20000]\tlr: 9.978e-03, "
    b"eta: 1 day, 2:21:48, time: 0.427, data_time: 0.008, memory: 7603, loss: %d.5\n"
    % (k % 60, 50 * k, k)
    for k in range(1, 60)
)
PLAIN1 = b"".join(
    b"2024/02/08 13:06:%02d - mmengine - INFO - Iter(train) [%5d/20000]  lr: 9.9629e-03  "
    b"eta: 4:25:41  time: 0.7991  data_time: 0.0093  memory: 9634  loss: %d.8195\n"
    % (k % 60, 50 * k, k)
    for k in range(1, 60)
)

ETA_LAST = b"".join(
    b"2023-02-13 22:06:%02d,444 - mmseg - INFO - Iter [%d/20000]\tlr: 9.978e-03, "
    b"time: 0.427, loss: %d.5, eta: 2:21:%02d\n" % (k % 60, 50 * k, k, k)
    for k in range(1, 60)
)


@pytest.mark.parametrize(("version", "data"), [(0, PLAIN0), (1, PLAIN1), (0, ETA_LAST)])
def test_plain_train_lines_are_read_in_bulk(version: int, data: bytes) -> None:
    parser = PAIRS[version][0]()
    found = scan(data, parser.dialect, parser.layouts)
    assert (found.kind == TRAIN).all() and len(parser.layouts) == 1
    check(version, data, [len(data) // 3])


def _swap(data: bytes, old: bytes, new: bytes, count: int = 1) -> bytes:
    assert old in data
    return data.replace(old, new, count)


EDGES = {
    "an underscore": (1, _swap(PLAIN1, b"loss: 7.8195", b"loss: 7_8")),
    "an underscore 0": (0, _swap(PLAIN0, b"loss: 7.5", b"loss: 7_5")),
    "no number": (
        1,
        _swap(
            PLAIN1,
            b"lr: 9.9629e-03  eta: 4:25:41  time: 0.7991  data_time: 0.0093  memory: 9634  "
            b"loss: 7.8195",
            b"lr: a  eta: 4:25:41  time: b  data_time: c  memory: d  loss: e",
        ),
    ),
    "a relaunch": (1, PLAIN1 + b"2024/02/08 13:07:00 - mmengine - INFO - relaunched\n" + PLAIN1),
    "a relaunch in one block": (0, PLAIN0 + PLAIN0),
    "a table across train lines": (
        1,
        _swap(
            _swap(
                PLAIN1,
                b"2024/02/08 13:06:09",
                b"2024/02/08 13:06:08 - mmengine - INFO - per class results:\n| Class | IoU |\n"
                b"| road | 1.5 |\n2024/02/08 13:06:09",
            ),
            b"2024/02/08 13:06:10",
            b"2024/02/08 13:06:10 - mmengine - INFO - \n| sky | 2 |\n2024/02/08 13:06:10",
        )
        + b"2024/02/08 13:07:00 - mmengine - INFO - Iter(val) [1/1]  mIoU: 2.0\n",
    ),
    "text values": (1, PLAIN1.replace(b"data_time: 0.0093", b"data_time: 12 MB")),
    "a blank last value": (0, _swap(PLAIN0, b"loss: 7.5\n", b"loss:   \r\n")),
    "a blank eta last": (0, _swap(ETA_LAST, b"eta: 2:21:07\n", b"eta:   \n")),
    "lr of groups": (
        0,
        PLAIN0.replace(b"lr: 9.978e-03,", b"lr_backbone: 1.000e-03 lr_head: 9.978e-03,"),
    ),
    "lr of one group": (0, PLAIN0.replace(b"lr: 9.978e-03,", b"lr_backbone: 1.000e-03,")),
    "coloured": (1, _swap(PLAIN1, b"2024/02/08 13:06:07", b"\x1b[32m2024/02/08 13:06:07")),
    "redrawn": (0, _swap(PLAIN0, b"2023-02-13 22:06:07", b"[>>  ] 1/7\r2023-02-13 22:06:07")),
    "a table amid train lines": (
        1,
        _swap(
            PLAIN1,
            b"2024/02/08 13:06:09",
            b"2024/02/08 13:06:09 - mmengine - INFO - per class results:\n"
            b"| Class | IoU |\n| road | 1.5 |\n2024/02/08 13:06:09",
        )
        + b"| sky | 2.5 |\n2024/02/08 13:06:09 - mmengine - INFO - Iter(val) [1/1]  mIoU: 2.0\n",
    ),
    "a quiet line of other keys": (
        1,
        PLAIN1 + b"2024/02/08 13:07:00 - mmengine - INFO - Iter(val) [1/9]  eta: 1  miou: 3\n",
    ),
}


@pytest.mark.parametrize("case", EDGES)
def test_edge_cases(case: str) -> None:
    version, data = EDGES[case]
    for cut in (0, len(data) // 2):
        check(version, data, [cut])


@pytest.mark.parametrize(
    "plant",
    [
        lambda mp: mp.setattr(
            bulk_module, "utc_seconds_array", lambda *a: utc_seconds_array(*a) + 1
        ),
        lambda mp: mp.setattr(bulk_module, "_POWERS", bulk_module._POWERS * 2),
    ],
)
def test_a_planted_bug_is_caught(
    plant: Callable[[pytest.MonkeyPatch], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    plant(monkeypatch)
    with pytest.raises(AssertionError):
        check(1, PLAIN1, [])


# ---------------------------------------------------------------- wall times


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(*(st.integers(0, hi) for hi in (9999, 99, 99, 99, 99, 99))),
        min_size=1,
        max_size=20,
    )
)
@example(
    [
        (1970, 1, 1, 0, 0, 0),
        (1, 1, 1, 0, 0, 0),
        (9999, 12, 31, 23, 59, 59),
        (2024, 2, 31, 25, 61, 61),
    ]
)
@example([(0, 1, 1, 0, 0, 0), (2024, 0, 1, 0, 0, 0), (2024, 13, 1, 0, 0, 0), (2024, 2, 0, 0, 0, 0)])
def test_utc_seconds_array_is_calendar_timegm(stamps: list[tuple[int, ...]]) -> None:
    columns = [np.array(c, np.int64) for c in zip(*stamps, strict=True)]
    got = utc_seconds_array(*columns).tolist()
    want = [utc_seconds(*s) for s in stamps]
    assert same(got, want), (stamps, got, want)
    for s, w in zip(stamps, want, strict=True):
        if not math.isnan(w):
            assert w == calendar.timegm((*s, 0, 0, 0))
