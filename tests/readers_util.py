"""Test helpers for readers: feed a file in pieces the way a tailer does."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pandas as pd

from metrics.readers.base import LogFormat, Parsed
from metrics.readers.registry import finalize
from metrics.schema import sort_table


def feed_in_pieces(fmt: LogFormat, data: bytes, cuts: Sequence[int]) -> pd.DataFrame:
    """The tidy table from feeding ``data`` cut at ``cuts`` (sorted byte positions)."""
    parser = fmt.new_parser()
    parts: list[Parsed] = []
    pending = b""
    pending_at = 0
    bounds = [0, *sorted(set(c for c in cuts if 0 < c < len(data))), len(data)]
    for a, b in itertools.pairwise(bounds):
        pending += data[a:b]
        parsed, used = parser.feed(pending, pending_at)
        parts.append(parsed)
        pending = pending[used:]
        pending_at += used
    parts.append(parser.finish(pending, pending_at))
    return sort_table(finalize(parts, "run")[0])


def read_whole(fmt: LogFormat, data: bytes) -> pd.DataFrame:
    """The tidy table from one whole read of ``data``."""
    return feed_in_pieces(fmt, data, [])
