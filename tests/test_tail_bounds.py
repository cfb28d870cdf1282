"""Issue 14, items 3, 9, 10, 12: the live reader reads in bounded pieces under the size and
line limits, notices an in-place relaunch that kept the first bytes, survives a rotation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from metrics import LogTailer, read_log
from metrics.errors import LogReadError
from metrics.readers.limits import MAX_LINE_BYTES_ENV, MAX_LOG_BYTES_ENV
from tests.fake_format import fake_formats


@pytest.fixture(autouse=True)
def _fakes():
    with fake_formats():
        yield


def lines(steps, loss=1.0) -> str:
    return "".join(f"FAKE step={s} loss={loss / s:.5f}\n" for s in steps)


def test_reads_in_pieces_and_equals_one_full_read(tmp_path: Path) -> None:
    p = tmp_path / "a.log"
    p.write_text(lines(range(1, 200)))
    t = LogTailer(str(p))
    t.piece_bytes = 37  # many pieces, lines cut anywhere
    calls = []
    real = t._src.read_range
    t._src.read_range = lambda a, b=None: calls.append((a, b)) or real(a, b)  # type: ignore[method-assign]
    got = t.poll()
    assert list(got["step"]) == list(range(1, 200))
    assert all(b is not None for a, b in calls)  # never "to the end of the file"
    assert sum(b - a == 37 for a, b in calls) >= p.stat().st_size // 37  # in pieces
    assert t.table.equals(read_log(str(p)).table)


def test_live_reader_applies_the_size_limit(tmp_path: Path, monkeypatch) -> None:
    p = tmp_path / "a.log"
    p.write_text(lines(range(1, 50)))
    monkeypatch.setenv(MAX_LOG_BYTES_ENV, "200")
    with pytest.raises(LogReadError, match=r"a\.log: .* larger than the limit of 200 bytes"):
        LogTailer(str(p)).poll()
    t = LogTailer(str(p), max_bytes=10_000)
    assert len(t.poll()) == 49


def test_a_line_over_the_bound_is_refused_with_a_clear_message(tmp_path: Path, monkeypatch) -> None:
    p = tmp_path / "a.log"
    p.write_text(lines([1]) + "FAKE step=2 loss=0." + "1" * 5000 + "\n")
    monkeypatch.setenv(MAX_LINE_BYTES_ENV, "1000")
    t = LogTailer(str(p))
    t.piece_bytes = 256
    with pytest.raises(LogReadError, match=r"line starting at byte 25 is .* longer than the limit"):
        t.poll()
    p.write_text(p.read_text().rstrip("\n"))  # in one piece, not yet ended: still held
    with pytest.raises(LogReadError, match="longer than the limit of 1,000 bytes"):
        read_log(str(p))


def test_relaunch_with_same_header_grown_past_old_offset_is_noticed(tmp_path: Path) -> None:
    p = tmp_path / "a.log"
    header = "FAKE step=1 loss=0.5\n" * 30  # > 512 bytes, identical in both launches
    p.write_text(header + lines(range(2, 10)))
    t = LogTailer(str(p))
    t.poll()
    with open(p, "r+") as fh:  # same inode: truncate, relaunch, grow past the old offset
        fh.truncate(0)
        fh.write(header + lines(range(2, 40), loss=9.0))
    os.utime(p, (1, 1))
    t.poll()
    assert t.resets == 1
    assert t.table.equals(read_log(str(p)).table)  # no stale values, no repeated steps


def test_log_deleted_mid_poll_is_missing_not_an_error(tmp_path: Path) -> None:
    p = tmp_path / "a.log"
    p.write_text(lines(range(1, 5)))
    t = LogTailer(str(p))
    assert len(t.poll()) == 4
    with open(p, "a") as fh:
        fh.write(lines([5, 6]))
    real = t._src.read_range

    def vanish(a, b=None):  # the rotation happens between the stat and the read
        p.unlink()
        return real(a, b)

    t._src.read_range = vanish  # type: ignore[method-assign]
    assert len(t.poll()) == 0
    assert t.missing and sorted(t.table["step"].unique()) == [1, 2, 3, 4]
