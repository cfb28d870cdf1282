"""PaddleSeg text lines one at a time: the time prefix and the fields of a ``[TRAIN]`` line.

Used for the odd lines the bulk reader cannot take, and to learn a run's line layout.
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass

TRAIN_TAG = b"[TRAIN] "
EVAL_TAG = b"[EVAL] "

# "2021-12-06 02:08:34 [INFO]\t" (<= 2.9) or "[2024/01/01 00:00:00] INFO: " (develop)
_PREFIX = re.compile(
    rb"(?:(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d) \[[A-Z]+\]\t"
    rb"|\[(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)\] [A-Z]+: )\Z"
)
_PART = re.compile(rb"([A-Za-z_]\w*)(: ?|=)([^\s/,]+)(?:/(\d+))?((?: [^\s,]+)*)")
_INT = re.compile(rb"\d+")
_MAX_INT_DIGITS = 18  # an int64 step


@dataclass(frozen=True)
class Part:
    """One ``key: value [unit]`` field as printed (the literal includes ``", "`` and the key)."""

    literal: bytes
    numbers: tuple[tuple[str, bytes], ...]
    unit: bytes


@dataclass(frozen=True)
class TrainLine:
    """The fields of one ``[TRAIN]`` line."""

    step: int
    planned: int | None
    epoch: int | None
    values: dict[str, float]
    parts: tuple[Part, ...]


def to_float(text: bytes) -> float:
    """``float(text)`` without Python's literal extras (``28_0`` is not 280): else ValueError."""
    if b"_" in text:
        raise ValueError(f"not a number: {text!r}")
    return float(text)


def prefix_time(before: bytes) -> tuple[float, int]:
    """UTC seconds of the logger stamp ending ``before``, and its length (NaN, 0 if none)."""
    m = _PREFIX.search(before[-40:])
    if m is None:
        return math.nan, 0
    g = [int(x) for x in m.groups() if x is not None]
    month, day, hour, minute, sec = g[1:]
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and sec < 61):
        return math.nan, m.end() - m.start()
    try:
        seconds = calendar.timegm((g[0], month, day, hour, minute, sec, 0, 0, 0))
    except (ValueError, OverflowError):
        return math.nan, m.end() - m.start()
    return float(seconds), m.end() - m.start()


def parse_train_body(body: bytes) -> TrainLine | str:
    """The fields of a train line after ``[TRAIN] ``, or the reason it does not parse."""
    main, eta, _ = body.partition(b" | ETA ")
    if not eta:  # every PaddleSeg version ends the line with the ETA
        return "train line cut short (no ETA)"
    parts: list[Part] = []
    values: dict[str, float] = {}
    ints: dict[str, int] = {}
    for i, text in enumerate(main.split(b", ")):
        m = _PART.fullmatch(text)
        if m is None:
            return f"unrecognised train field {text[:40]!r}"
        key, sep, value, total, unit = m.groups()
        name = key.decode()
        if name in values or name in ints:
            return f"train field {name!r} repeated"
        numbers = [(name, value)]
        if total is not None:
            numbers.append(("planned", total))
        for field, number in numbers:
            if field in values or field in ints:  # e.g. a second "/N" total
                return f"train field {field!r} repeated"
            if field in ("iter", "planned", "epoch"):
                if _INT.fullmatch(number) is None or len(number) > _MAX_INT_DIGITS:
                    return f"{field} {number!r} is not an integer in range"
                ints[field] = int(number)
            else:
                try:
                    values[field] = to_float(number)
                except ValueError:
                    return f"train field {field!r} has no number: {number!r}"
        parts.append(Part((b", " if i else b"") + key + sep, tuple(numbers), unit))
    if "iter" not in ints:
        return "train line without iter"
    return TrainLine(ints["iter"], ints.get("planned"), ints.get("epoch"), values, tuple(parts))
