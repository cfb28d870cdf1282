"""A live refresh appends only the new records: the table grows in place of a rebuild, equal
to a full read, and tables handed out earlier do not change."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from metrics.readers.registry import read_log
from metrics.runs import LogTailer
from metrics.schema import sort_table


def _lines(sample_logs: Path) -> list[bytes]:
    log = sample_logs / "paddleseg" / "pp_liteseg_cityscapes_rising_noisy" / "train.log"
    return log.read_bytes().splitlines(keepends=True)


def test_appends_equal_a_full_read_and_old_tables_stay(sample_logs: Path, tmp_path: Path) -> None:
    lines = _lines(sample_logs)
    path = tmp_path / "train.log"
    path.write_bytes(b"".join(lines[:200]))
    tailer = LogTailer(str(path), run="r")
    tailer.poll()
    first = tailer.table
    snapshot = first.copy()
    assert tailer._growing is not None
    for end in range(400, len(lines) + 200, 200):
        with open(path, "ab") as fh:
            fh.write(b"".join(lines[end - 200 : end]))
        tailer.poll()
        grown = tailer.table
        assert tailer._growing is not None  # appended, not rebuilt
        full = read_log(str(path), run="r").table
        # the same records (rows of different metrics may interleave otherwise), each
        # series in the same order
        pd.testing.assert_frame_equal(sort_table(grown), sort_table(full))
        for key, g in grown.groupby(["split", "metric"], observed=True):
            f = full[(full["split"] == key[0]) & (full["metric"] == key[1])]
            assert np.array_equal(g["step"].to_numpy(), f["step"].to_numpy())
            assert np.array_equal(g["value"].to_numpy(), f["value"].to_numpy(), equal_nan=True)
    pd.testing.assert_frame_equal(first, snapshot)  # handed out before: unchanged
    assert len(tailer.table) > len(first)


def test_a_relaunch_rebuilds(sample_logs: Path, tmp_path: Path) -> None:
    lines = [ln for ln in _lines(sample_logs) if b"[TRAIN]" in ln]
    path = tmp_path / "train.log"
    path.write_bytes(b"".join(lines[:100]))
    tailer = LogTailer(str(path), run="r")
    tailer.poll()
    _ = tailer.table
    with open(path, "ab") as fh:  # the training restarts from an earlier step
        fh.write(b"".join(lines[20:40]))
    tailer.poll()
    full = read_log(str(path), run="r").table
    pd.testing.assert_frame_equal(sort_table(tailer.table), sort_table(full))


def test_refresh_after_100_lines_does_not_grow_with_the_log(tmp_path: Path) -> None:
    """Appending 100 lines costs about the same on a 10k-line and a 200k-line log."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from bench_readers import gen_paddleseg

    costs = []
    for n in (10_000, 200_000):
        path = tmp_path / f"train_{n}.log"
        gen_paddleseg(path, n)
        tail = path.read_bytes().splitlines(keepends=True)[-100:]
        tailer = LogTailer(str(path), run="r")
        tailer.poll()
        _ = tailer.table
        times = []
        for _ in range(5):
            with open(path, "ab") as fh:
                fh.write(b"".join(tail))
            t0 = time.perf_counter()
            tailer.poll()
            _ = tailer.table
            times.append(time.perf_counter() - t0)
        costs.append(sorted(times)[2])
    assert costs[1] < 5 * costs[0] + 0.01, costs  # 20× the lines, not 20× the cost
