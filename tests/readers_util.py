"""Test helpers for readers: feed a file in pieces the way a tailer does."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from metrics.readers.base import LogFormat, Parsed, Parser
from metrics.readers.registry import finalize
from metrics.schema import sort_table


def parse_pieces(
    parser: Parser, data: bytes, cuts: Sequence[int], mark_last: bool = False
) -> list[Parsed]:
    """What ``parser`` returns for ``data`` fed cut at ``cuts`` (leftover carried), then
    ``finish``; with ``mark_last`` the final piece is fed as the last one, as a whole read does."""
    parts: list[Parsed] = []
    pending, at = b"", 0
    bounds = [0, *sorted({c for c in cuts if 0 < c < len(data)}), len(data)]
    for a, b in itertools.pairwise(bounds):
        pending += data[a:b]
        parsed, used = parser.feed(pending, at, mark_last and b == len(data))
        parts.append(parsed)
        pending, at = pending[used:], at + used
    parts.append(parser.finish(pending, at))
    return parts


def piece_outputs(cls: type[Parser], data: bytes, cuts: Sequence[int]) -> list[tuple[Any, ...]]:
    """Each piece's records (in order, with offsets), restarts, bad lines and meta."""
    out = []
    for p in parse_pieces(cls(), data, cuts, mark_last=True):
        rec = p.records.astype({"split": str, "metric": str})
        out.append((rec.to_dict("list"), p.restarts, p.bad_lines, p.meta.stated()))
    return out


def same(a: Any, b: Any) -> bool:
    """Equal, NaN equal to NaN (and nothing else)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b) and type(a) is type(b)


def feed_in_pieces(fmt: LogFormat, data: bytes, cuts: Sequence[int]) -> pd.DataFrame:
    """The tidy table from feeding ``data`` cut at ``cuts`` (sorted byte positions)."""
    return sort_table(finalize(parse_pieces(fmt.new_parser(), data, cuts), "run")[0])


def read_whole(fmt: LogFormat, data: bytes) -> pd.DataFrame:
    """The tidy table from one whole read of ``data``."""
    return feed_in_pieces(fmt, data, [])
