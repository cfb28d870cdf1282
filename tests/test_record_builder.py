"""RecordBuilder keeps records in the order they were added, one at a time or as arrays."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from metrics.readers.base import RecordBuilder, assemble

_SERIES = [("train", "loss"), ("train", "lr"), ("val", "miou"), ("val", "iou/road")]


@st.composite
def additions(draw: st.DrawFn) -> list[tuple[str, list[tuple[int, int, str, str, float]]]]:
    """Records added one by one, per metric (``add_many``) or mixed (``add_rows``)."""
    out = []
    offset = 0
    for _ in range(draw(st.integers(0, 8))):
        how = draw(st.sampled_from(["add", "add_many", "add_rows"]))
        size = 1 if how == "add" else draw(st.integers(0, 5))
        fixed = draw(st.sampled_from(_SERIES))
        recs = []
        for _ in range(size):
            split, metric = fixed if how == "add_many" else draw(st.sampled_from(_SERIES))
            recs.append((offset, offset // 2, split, metric, draw(st.floats(-1, 1))))
            offset += 1
        out.append((how, recs))
    return out


@given(additions())
def test_records_come_out_in_the_order_added(adds: list[tuple[str, list]]) -> None:
    out = RecordBuilder()
    for how, recs in adds:
        if how == "add":
            out.add(*recs[0])
            continue
        offs = np.array([r[0] for r in recs], np.int64)
        steps = np.array([r[1] for r in recs], np.int64)
        values = np.array([r[4] for r in recs])
        if how == "add_many":
            if recs:
                out.add_many(recs[0][2], recs[0][3], offs, steps, values)
            continue
        codes = np.array([_SERIES.index((r[2], r[3])) for r in recs], np.int64)
        out.add_rows(_SERIES, codes, offs, steps, values, np.full(len(recs), 7.0))
    table = assemble([out])
    want = [r for _, recs in adds for r in recs]
    got = list(
        zip(
            table["offset"],
            table["step"],
            table["split"].astype(str),
            table["metric"].astype(str),
            table["value"],
            strict=True,
        )
    )
    assert got == [tuple(r) for r in want]
    used = {r[3] for r in want}  # series given to add_rows but not used add no category
    assert set(table["metric"].cat.categories) == used
    walls = table["wall_time"].tolist()
    kinds = [how for how, recs in adds for _ in recs]
    for wall, how in zip(walls, kinds, strict=True):
        assert wall == 7.0 if how == "add_rows" else math.isnan(wall)
