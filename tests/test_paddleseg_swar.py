"""The SWAR number decoder of the PaddleSeg bulk reader against Python's own parsing."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from metrics.readers import _paddleseg_swar as swar

STOP = ord(",")
# texts the decoder meets: numbers of the layout, others, and garbage that must be refused
_DIGITS = st.text("0123456789", min_size=0, max_size=10)
_TEXT = st.one_of(
    st.builds(lambda i, f: f"{i}.{f}" if f is not None else i, _DIGITS, st.none() | _DIGITS),
    st.text("0123456789.-+enaif ", min_size=0, max_size=17),
)


def expected(text: str, frac: int) -> float | None:
    """What the decoder must return for ``text`` (the bytes before the first stop): its value,
    or None where it must refuse it. Its stop must fall inside the 16 bytes it sees, so a text of
    16 bytes (8 digits, the point, 7 decimals) is refused too: the reader parses such a line
    alone, so nothing is lost."""
    pattern = r"\d{1,8}" if frac < 0 else rf"\d{{1,8}}\.\d{{{frac}}}"
    return float(text) if re.fullmatch(pattern, text) and len(text) < 16 else None


def decode(texts: list[str], frac: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    data = b"".join(t.encode() + b",x" + b" " * 16 for t in texts)
    starts, at = [], 0
    for t in texts:
        starts.append(at)
        at += len(t) + 2 + 16
    pos = np.array(starts, np.int64)
    ok = np.ones(len(pos), bool)
    rows = swar.gather(swar.blocks(data, 16), pos, ok)
    value, length = swar.number(rows[:, 0], rows[:, 1], frac, STOP, ok)
    return value, length, ok


@settings(max_examples=300)
@given(st.lists(_TEXT, min_size=1, max_size=40), st.integers(-1, 7))
@example(["00000000.0000000", "12345678.1234567", "1234567.1234567"], 7)  # 16 bytes: refused
def test_number_equals_float_of_the_text(texts: list[str], frac: int) -> None:
    value, length, ok = decode(texts, frac)
    for i, text in enumerate(texts):
        want = expected(text, frac)
        if want is None:
            assert not ok[i], (text, frac)
        else:
            assert ok[i] and value[i] == want and length[i] == len(text), (text, frac, value[i])


@given(st.lists(st.integers(0, 10**8 - 1), min_size=1, max_size=20), st.integers(0, 7))
def test_short_and_long_texts_in_one_block(ints: list[int], frac: int) -> None:
    # one text longer than 8 bytes sends the block down the general path: same values
    texts = [f"{n / 10**frac:.{frac}f}" for n in ints] if frac else [str(n) for n in ints]
    long = "1234567." + "9" * frac if frac else "12345678"  # 9-15 bytes when frac > 0
    for block in (texts, [*texts, long]):
        value, _, ok = decode(block, frac if frac else -1)
        assert ok.all()
        assert value.tolist() == [float(t) for t in block]


def test_find_byte_positions() -> None:
    words = np.frombuffer(b"ab,cdefg" + b"abcdefgh" + b",bcdefgh" + b"abcdefg,", "<u8")
    assert swar.find_byte(words, STOP).tolist() == [2, 8, 0, 7]
