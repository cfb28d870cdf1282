"""The bulk path of the Detectron2 reader gives exactly what parsing every line gives.

Oracle: the same parser with the bulk path off (each line through ``parse_line`` and
``json.loads``), on ``metrics.json`` lines written as ``JSONWriter`` writes them (sorted keys,
full-precision floats, bare ``NaN``, eval-only and final-eval lines, appended launches) mixed
with lines that trip a parser (numbers beyond a double or an int64, duplicate keys, a BOM,
nesting, non-objects, odd iterations, cut lines), fed whole and in pieces.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics.readers import _detectron2_bulk as bulk_module
from metrics.readers.detectron2_json import Detectron2Parser
from tests.readers_util import piece_outputs, same

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Bulk(Detectron2Parser):
    batch_bytes = 700  # several batches per feed


class Each(Detectron2Parser):
    bulk = False


_FLOATS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(0, 10),
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, 0.0, -0.0, 1e-320, 1.7976931348623157e308]),
)
_ODD = st.sampled_from(
    [
        "NaN",
        "Infinity",
        "-Infinity",
        "1e400",
        "-1e400",
        "1" + "0" * 400,
        "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649"
        "017977587207096330286416692887910946555547851940402630657488671505820681908902000708383"
        "676273854845817711531764475730270069855571366959622842914819860834936475292719074168444"
        "6446446511856",
        "true",
        "null",
        '"text"',
        "[1, 2]",
        '{"a": 1}',
        "18446744073709551616",
    ]
)
_TRAIN_KEYS = ["data_time", "eta_seconds", "loss_ce", "lr", "rank_data_time", "time", "total_loss"]
_EVAL_KEYS = ["sem_seg/mIoU", "sem_seg/IoU-road", "sem_seg/ACC-road", "sem_seg/pACC", "segm/AP"]


@st.composite
def value(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 7)) == 0:
        return draw(_ODD)
    return json.dumps(draw(_FLOATS))


@st.composite
def record_line(draw: st.DrawFn, iteration: int) -> str:
    kind = draw(st.sampled_from(["train", "train", "train", "eval", "both", "final"]))
    keys = []
    if kind in ("train", "both"):
        keys += draw(st.lists(st.sampled_from(_TRAIN_KEYS), min_size=1, max_size=7, unique=True))
    if kind in ("eval", "both", "final"):
        keys += draw(st.lists(st.sampled_from(_EVAL_KEYS), min_size=0, max_size=5, unique=True))
    fields = {k: draw(value()) for k in keys}
    if kind == "train" and "eta_seconds" in fields and draw(st.booleans()):
        fields["eta_seconds"] = draw(st.sampled_from(["0", "0.0", "-0.0", "1" + "0" * 400]))
    it = draw(
        st.one_of(
            st.just(str(iteration)),
            st.sampled_from(["true", "1.0", '"5"', str(2**62), str(-(2**62) + 1), "1" + "0" * 30]),
        )
        if draw(st.integers(0, 9)) == 0
        else st.just(str(iteration))
    )
    fields["iteration"] = it
    items = sorted(fields.items()) if draw(st.integers(0, 4)) else list(fields.items())
    if draw(st.integers(0, 12)) == 0 and items:  # a key twice
        items.append((items[0][0], draw(value())))
    return "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in items) + "}"


_JUNK = st.sampled_from(
    [
        "",
        "   ",
        "[1, 2]",
        "42",
        '{"iteration": 3',
        "\ufeff" + '{"iteration": 7, "lr": 0.1}',
        '{"iteration": 8, "x": ' + "[" * 300 + "]" * 300 + "}",
        '{"iteration": 9, "lr": "\\ud800"}',
        "not json",
    ]
)


@st.composite
def metrics_json(draw: st.DrawFn) -> bytes:
    lines = []
    iteration = draw(st.integers(0, 100))
    for _ in range(draw(st.integers(1, 30))):
        if draw(st.integers(0, 7)) == 0:
            lines.append(draw(_JUNK))
            continue
        lines.append(draw(record_line(iteration)))
        iteration += draw(st.sampled_from([20, 20, 1, 0, -60]))
    end = "\n" if draw(st.integers(0, 3)) else ""  # a last line without its newline
    data = ("\r\n" if draw(st.integers(0, 5)) == 0 else "\n").join(lines) + end
    encoded = data.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 5)) == 0:
        at = draw(st.integers(0, max(0, len(encoded) - 1)))
        encoded = encoded[:at] + bytes([draw(st.integers(0, 255))]) + encoded[at + 1 :]
    return encoded


def check(data: bytes, cuts: list[int]) -> None:
    for pieces in ([], cuts):
        want = piece_outputs(Each, data, pieces)
        for bulk in (Detectron2Parser, Bulk):
            assert same(piece_outputs(bulk, data, pieces), want), (bulk, pieces, data)


@SETTINGS
@given(metrics_json(), st.lists(st.integers(0, 5000), max_size=5))
def test_bulk_equals_every_line(data: bytes, cuts: list[int]) -> None:
    check(data, cuts)


SAMPLE = b"".join(
    b'{"data_time": 0.0035863923840224743, "eta_seconds": %d.5, "iteration": %d, '
    b'"loss_ce": 1.8551841974258423, "lr": 9.98e-05, "total_loss": 5.712295413017273}\n'
    % (100 - k, 20 * k + 19)
    for k in range(5)
) + (
    b'{"data_time": 0.003, "eta_seconds": 0.0, "iteration": 119, "sem_seg/IoU-road": 97.5, '
    b'"sem_seg/mIoU": NaN, "total_loss": 5.1}\n'
    b'{"iteration": 120, "sem_seg/IoU-road": 98.25, "sem_seg/mIoU": 45.1, "segm/AP": 3}\n'
)


@pytest.mark.parametrize(
    "plant",
    [
        lambda mp: mp.setattr(bulk_module, "MAX_STEP", 100),
        lambda mp: mp.setattr(bulk_module, "as_number", lambda v: 1.0),
    ],
)
def test_a_planted_bug_is_caught(
    plant: Callable[[pytest.MonkeyPatch], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    check(SAMPLE, [])
    plant(monkeypatch)
    with pytest.raises(AssertionError):
        check(SAMPLE, [])


@pytest.mark.parametrize("depth", [300, 1010, 5000])
def test_nesting_json_loads_refuses_is_refused(depth: int) -> None:
    # json.loads runs out of recursion near 1000 levels, orjson only beyond 1023
    nested = b'{"iteration": 9, "x": ' + b"[" * depth + b"]" * depth + b"}\n"
    check(SAMPLE + nested + SAMPLE, [len(SAMPLE) + 5])
