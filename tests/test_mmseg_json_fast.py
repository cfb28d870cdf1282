"""The numpy fast path of the MMSeg JSON readers gives exactly what parsing every line gives.

Oracles: the number decoder against ``float(text)`` / ``orjson``; whole reads with the fast
path against the same parser with it off (every line through orjson / ``json.loads``), on logs
written the way mmcv and mmengine write them and on mutated copies of those logs.
"""

from __future__ import annotations

import json
import math
import random
import re
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics.readers._json_numbers import fixed_number, number, shape_of
from metrics.readers._jsonl_layout import layout_of
from metrics.readers.base import Parsed, Parser
from metrics.readers.mmseg0_json import MMSeg0JsonParser
from metrics.readers.mmseg1_json import MMSeg1JsonParser
from tests.readers_util import parse_pieces

PLAIN = re.compile(rb"(0|[1-9][0-9]{0,7})(\.[0-9]{1,7})?")
SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Fast0(MMSeg0JsonParser):
    min_run = 1  # every layout is tried, even on a few lines
    batch_bytes = 1500  # several pieces per test log


class Slow0(MMSeg0JsonParser):
    fast = False
    batch_bytes = 1500


class Fast1(MMSeg1JsonParser):
    min_run = 1
    batch_bytes = 1500


class Slow1(MMSeg1JsonParser):
    fast = False
    batch_bytes = 1500


def decode(texts: list[bytes], stop: bytes = b",") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``number`` on each text followed by ``stop`` (16 bytes per row, padded)."""
    rows = b"".join((t + stop).ljust(16, b"}")[:16] for t in texts)
    words = np.frombuffer(rows, "<u8").reshape(-1, 2)
    ok = np.ones(len(texts), bool)
    values, lengths = number(words[:, 0].copy(), words[:, 1].copy(), stop[0], ok)
    return ok, values, lengths


def read(cls: type[Parser], data: bytes, cuts: list[int] | None = None) -> list[Parsed]:
    """Parser output for ``data`` fed in pieces cut at ``cuts`` (leftover carried), then finish."""
    return parse_pieces(cls(), data, cuts or [])


def records(parts: list[Parsed]) -> pd.DataFrame:
    frames = [p.records.astype({"split": str, "metric": str}) for p in parts if len(p.records)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def assert_same(fast: list[Parsed], slow: list[Parsed]) -> None:
    """The same records in the same order, values equal bit for bit, same notes."""
    a, b = records(fast), records(slow)
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    for col in a.columns:
        x, y = a[col].to_numpy(), b[col].to_numpy()
        if x.dtype.kind == "f":
            assert np.array_equal(x.view(np.int64), y.view(np.int64)), col
        else:
            assert np.array_equal(x, y), col
    assert [r for p in fast for r in p.restarts] == [r for p in slow for r in p.restarts]
    assert [r for p in fast for r in p.bad_lines] == [r for p in slow for r in p.bad_lines]
    assert [p.meta for p in fast] == [p.meta for p in slow]


def mmcv_log(rng: random.Random, lines: int, by_epoch: bool = False, tiny: bool = True) -> bytes:
    """An MMSeg 0.x ``.log.json`` as mmcv's ``TextLoggerHook`` writes it (floats rounded to 5);
    ``tiny``: some values below 1e-4, which Python prints with an exponent (``2e-05``)."""
    meta = {"env_info": "sys.platform: linux", "seed": 0, "config": "max_iters = 400"}
    out = [json.dumps(meta | {"CLASSES": ["road", "car"]})]
    for k in range(1, lines + 1):
        it = (k - 1) % 7 + 1 if by_epoch else 10 * k
        loss = rng.choice([rng.uniform(0, 3), rng.uniform(0, 1e-4 if tiny else 3), 123456.7, 0.0])
        rec = {
            "mode": "train",
            "epoch": k // 7 + 1,
            "iter": it,
            "lr": round(rng.choice([0.01 * (1 - k / (lines + 1)), 2e-5 if tiny else 1e-3, 0.1]), 5),
            "memory": 21690,
            "data_time": round(rng.uniform(0, 0.1), 5),
            "decode.loss_ce": round(loss * 0.7, 5),
            "decode.acc_seg": round(rng.uniform(0, 100), 5),
            "loss": round(loss, 5),
            "time": round(rng.uniform(0.5, 2), 5),
        }
        out.append(json.dumps(rec))
        if k % 9 == 0:
            val = {"mode": "val", "epoch": rec["epoch"], "iter": 1449, "lr": rec["lr"]}
            val |= {"aAcc": 0.93, "mIoU": round(rng.random(), 4), "IoU.road": 0.5, "IoU.car": 0.25}
            out.append(json.dumps(val))
    return ("\n".join(out) + "\n").encode()


def mmengine_log(rng: random.Random, lines: int) -> bytes:
    """An MMSeg 1.x ``scalars.json`` with short floats (the fast path's case) and long ones."""
    out = []
    for k in range(1, lines + 1):
        digits = rng.choice([4, 5, 17])
        rec = {"lr": round(0.01 * rng.random(), digits), "data_time": round(rng.random(), digits)}
        rec |= {"loss": round(rng.uniform(0, 2), digits), "iter": 50 * k, "memory": 3982}
        out.append(json.dumps(rec | {"step": 50 * k}))
        if k % 6 == 0:
            val = {"aAcc": round(rng.uniform(90, 99), 2), "mIoU": round(rng.uniform(0, 80), 2)}
            out.append(json.dumps(val | {"data_time": 0.01, "step": 50 * k}))
    return ("\n".join(out) + "\n").encode()


MUTATIONS: tuple[bytes, ...] = (b"\n", b"0", b"00", b"1e-05", b"NaN", b"-", b".", b",", b" ")
MUTATIONS += (b"\r", b'"', b"}", b'{"0": 1}', b"\xff", b"9" * 12, b"true", b"null", b"1.", b".5")
MUTATIONS += (b"\t", b"-0", b"1E5")


def mutate(data: bytes, rng: random.Random, edits: int) -> bytes:
    """``data`` with random tokens replacing, inserted at or deleting random bytes."""
    buf = bytearray(data)
    for _ in range(edits):
        at = rng.randrange(len(buf) + 1)
        token = rng.choice(MUTATIONS)
        kind = rng.randrange(3)
        if kind == 0:
            buf[at : at + len(token)] = token
        elif kind == 1:
            buf[at:at] = token
        else:
            del buf[at : at + rng.randint(1, 4)]
    return bytes(buf)


# --- the number decoder --------------------------------------------------------------------


def test_numpy_shifts_past_the_width_give_zero() -> None:
    """The decoder's branch-free shifts rely on it (C leaves such shifts undefined)."""
    x = np.array([5, 2**63 + 7], np.uint64)
    assert (x << np.array([64, 72], np.uint64)).tolist() == [0, 0]
    assert (x >> np.array([64, 2**64 - 8], np.uint64)).tolist() == [0, 0]


def test_number_examples() -> None:
    texts = [b"0", b"7", b"21690", b"0.00997", b"57.18525", b"12345678", b"12345678.1234567"]
    texts += [b"1.0", b"0.5", b"01", b"1.", b".5", b"-1", b"1e-05", b"123456789", b"0.12345678"]
    ok, values, lengths = decode(texts)
    assert ok.tolist() == [True] * 6 + [False, True, True] + [False] * 7
    assert values[ok].tolist() == [0.0, 7.0, 21690.0, 0.00997, 57.18525, 12345678.0, 1.0, 0.5]
    assert lengths[ok].tolist() == [1, 1, 5, 7, 8, 8, 3, 3]


@SETTINGS
@given(st.lists(st.text("0123456789.-e+ ,}", max_size=17), min_size=1, max_size=40))
def test_number_is_float_of_plain_numbers_and_refuses_the_rest(raw: list[str]) -> None:
    texts = [t.encode() for t in raw]
    ok, values, lengths = decode(texts)
    for text, good, value, length in zip(texts, ok, values, lengths, strict=True):
        token = (text + b",")[:16].split(b",")[0]
        plain = PLAIN.fullmatch(token) is not None and len(token) < 16
        assert good == plain, text
        if plain:
            assert value == float(token) == orjson.loads(token) and length == len(token)


@SETTINGS
@given(st.lists(st.floats(0, 1e8, allow_nan=False), min_size=1, max_size=40), st.integers(0, 7))
def test_number_of_printed_floats_is_exact(xs: list[float], places: int) -> None:
    texts = [repr(round(x, places)).encode() for x in xs]
    ok, values, _ = decode(texts)
    for text, good, value in zip(texts, ok, values, strict=True):
        assert good == (PLAIN.fullmatch(text) is not None and len(text) < 16)
        if good:
            assert value == float(text)


def test_fixed_number_agrees_with_number() -> None:
    rng = random.Random(3)
    texts = [
        f"{rng.randint(0, 10 ** rng.randint(1, 8))}.{rng.randint(0, 10**5):05d}".encode()
        for _ in range(3000)
    ]
    texts += [t[: rng.randint(0, len(t))] for t in texts[:1000]]
    texts += [b"01.5", b"1..2", b"1.2.3", b"1e5", b"12345678.1234567"]
    rows = b"".join((t + b",").ljust(16, b"}")[:16] for t in texts)
    words = np.frombuffer(rows, "<u8").reshape(-1, 2)
    ok, ref, _ = decode(texts)
    for shape in {shape_of(t) for t in texts} - {None}:
        assert shape is not None
        fit = np.ones(len(texts), bool)
        values, fit = fixed_number(words[:, 0].copy(), words[:, 1].copy(), shape, 44, fit)
        want = ok & np.array([shape_of(t) == shape for t in texts])
        assert np.array_equal(fit, want), shape
        assert np.array_equal(values[fit], ref[fit])


# --- layouts ---------------------------------------------------------------------------------


def test_layout_of_a_train_line() -> None:
    line = b'{"mode": "train", "epoch": 1, "iter": 50, "lr": 0.00997, "loss": 2.3157}\r'
    layout = layout_of(line)
    assert layout is not None
    assert layout.literals == (
        b'{"mode": "train", "epoch": ',
        b', "iter": ',
        b', "lr": ',
        b', "loss": ',
        b"}\r",
    )
    assert layout.slots == ("epoch", "iter", "lr", "loss")
    assert layout.strings == {"mode": "train"}
    assert layout.shapes == ((1, 0), (2, 0), (1, 5), (1, 4))


@pytest.mark.parametrize(
    "line",
    [
        b'{"lr": {"backbone": 0.01}, "step": 1}',  # a dict value
        b'{"loss": NaN, "step": 1}',  # not JSON for orjson
        b'{"a": 1, "a": 2}',  # duplicate keys
        b'{"a": true, "b": 1}',
        b'{"a": null, "b": 1}',
        b'{"mode": "val"}',  # no number
        b'{"a": 1e-05, "b": 1}',  # a number numpy does not decode
        b'{"a": 1} {"b": 2}',
        b'{"a": 1,}',
        b"[1, 2]",
    ],
)
def test_layout_of_refuses_lines_it_cannot_decode(line: bytes) -> None:
    assert layout_of(line) is None


# --- whole reads: fast path against every line parsed -------------------------------------


class Counting(Fast0):
    parsed_lines = 0

    def _load(self, lines: list[bytes], *args: Any) -> Any:
        type(self).parsed_lines += len(lines)
        return super()._load(lines, *args)


def test_fast_path_decodes_the_train_and_val_lines() -> None:
    data = mmcv_log(random.Random(0), 300, tiny=False)
    Counting.parsed_lines = 0
    assert_same(read(Counting, data), read(Slow0, data))
    assert data.count(b"\n") == 334
    assert Counting.parsed_lines == 2  # the metadata line, the last ("lr": 3e-05)


def test_fast_path_values_equal_json_loads() -> None:
    data = mmcv_log(random.Random(1), 200)
    table = records(read(Fast0, data))
    train = table[table["split"] == "train"]
    recs = [json.loads(line) for line in data.splitlines()]
    want = {(r["iter"], k): v for r in recs if r.get("mode") == "train" for k, v in r.items()}
    got = {
        (s, m): v for s, m, v in zip(train["step"], train["metric"], train["value"], strict=True)
    }
    assert len(got) == len(train) == 200 * 7
    assert all(got[key] == float(want[key]) for key in got)


@pytest.mark.parametrize("by_epoch", [False, True])
def test_mmcv_logs_fed_at_once_and_in_pieces(by_epoch: bool) -> None:
    data = mmcv_log(random.Random(2), 150, by_epoch)
    cuts = list(range(0, len(data), 977))
    assert_same(read(Fast0, data), read(Slow0, data))
    assert_same(read(Fast0, data, cuts), read(Slow0, data, cuts))


def test_odd_lines_among_decoded_ones() -> None:
    """An lr dict, NaN, an exponent, odd spacing and a torn line amid a run of same lines."""
    rec = {"mode": "train", "epoch": 1, "iter": 0, "lr": 0.01, "loss": 0.5}
    rows = [json.dumps(rec | {"iter": 10 * k, "loss": k / 64}) for k in range(1, 60)]
    rows[5] = rows[5].replace('"lr": 0.01', '"lr": {"backbone": 0.01, "head": 0.1}')
    rows[9] = rows[9].replace("0.01", "NaN")
    rows[12] = rows[12].replace("0.01", "1e-05")
    rows[20] = rows[20].replace(": ", ":  ")
    rows[30] = rows[30][:25]  # torn
    rows[40] = rows[40].replace('"train"', '"test"')
    rows[44] = rows[44].replace('"iter": 450', '"iter": 4.5')
    data = ("\n".join(rows) + "\n").encode()
    fast = read(Fast0, data)
    assert_same(fast, read(Slow0, data))
    table = records(fast)
    assert table[(table["metric"] == "lr/head")]["value"].tolist() == [0.1]
    assert table[(table["step"] == 130) & (table["metric"] == "lr")]["value"].tolist() == [1e-05]
    assert math.isnan(table[(table["step"] == 100) & (table["metric"] == "lr")]["value"].iloc[0])
    assert [b.line for p in fast for b in p.bad_lines] == [31, 41, 45]


@SETTINGS
@given(st.integers(0, 2**32), st.integers(1, 12), st.booleans())
def test_mutated_mmcv_logs(seed: int, edits: int, by_epoch: bool) -> None:
    rng = random.Random(seed)
    data = mutate(mmcv_log(rng, 60, by_epoch), rng, edits)
    cuts = sorted(rng.randrange(len(data)) for _ in range(5))
    assert_same(read(Fast0, data), read(Slow0, data))
    assert_same(read(Fast0, data, cuts), read(Slow0, data, cuts))


@SETTINGS
@given(st.integers(0, 2**32), st.integers(0, 12))
def test_mutated_mmengine_logs(seed: int, edits: int) -> None:
    rng = random.Random(seed)
    data = mutate(mmengine_log(rng, 60), rng, edits)
    cuts = sorted(rng.randrange(len(data)) for _ in range(5))
    assert_same(read(Fast1, data), read(Slow1, data))
    assert_same(read(Fast1, data, cuts), read(Slow1, data, cuts))


def test_mmcv_reader_on_mmengine_lines_and_back() -> None:
    """Each reader on the other's lines (no record, or odd records) agrees with the slow path."""
    rng = random.Random(4)
    zero, one = mmcv_log(rng, 80), mmengine_log(rng, 80)
    assert_same(read(Fast0, one), read(Slow0, one))
    assert_same(read(Fast1, zero), read(Slow1, zero))
