"""LogTailer: only new bytes, partial lines held back, truncation/replacement, whole-file logs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics import LogTailer, read_log
from metrics.schema import concat_tables, sort_table
from tests.fake_format import fake_formats


@pytest.fixture(autouse=True)
def _fakes():
    with fake_formats():
        yield


def lines(steps, miou_every=0):
    out = []
    for s in steps:
        extra = f" miou={s / 1000:.3f}" if miou_every and s % miou_every == 0 else ""
        out.append(f"FAKE step={s} loss={1 / s:.5f}{extra}\n")
    return "".join(out)


def test_poll_returns_only_new_records(tmp_path: Path) -> None:
    p = tmp_path / "a.log"
    p.write_text(lines(range(1, 4)))
    t = LogTailer(str(p))
    first = t.poll()
    assert sorted(first["step"]) == [1, 2, 3]
    assert len(t.poll()) == 0
    with open(p, "a") as fh:
        fh.write(lines([4, 5], miou_every=5))
    new = t.poll()
    assert sorted(zip(new["step"], new["metric"].astype(str), strict=True)) == [
        (4, "loss"),
        (5, "loss"),
        (5, "miou"),
    ]
    assert t.format == "fake"


def test_partial_line_is_held_back_until_complete(tmp_path: Path) -> None:
    p = tmp_path / "a.log"
    p.write_text("FAKE step=1 loss=0.5\nFAKE step=2 loss=0.2")
    t = LogTailer(str(p))
    assert list(t.poll()["step"]) == [1]
    with open(p, "a") as fh:
        fh.write("5\n")
    new = t.poll()
    assert list(new["step"]) == [2] and new["value"].iloc[0] == pytest.approx(0.25)


def test_truncated_and_restarted_file_starts_over(tmp_path: Path) -> None:
    p = tmp_path / "a.log"
    p.write_text(lines(range(1, 50)))
    t = LogTailer(str(p))
    t.poll()
    p.write_text(lines(range(1, 3)))  # a relaunch writing the same name
    new = t.poll()
    assert t.resets == 1
    assert sorted(new["step"]) == [1, 2]
    assert sorted(t.table["step"]) == [1, 2]


def test_same_size_rewrite_is_noticed_by_its_first_bytes(tmp_path: Path) -> None:
    p = tmp_path / "a.log"
    p.write_text("FAKE step=1 loss=0.5\n")
    t = LogTailer(str(p))
    t.poll()
    tmp = tmp_path / "b.log"
    tmp.write_text("FAKE step=7 loss=0.5\nFAKE step=8 loss=0.1\n")
    os.replace(tmp, p)  # rotation: a new file under the old name
    new = t.poll()
    assert t.resets == 1 and sorted(new["step"]) == [7, 8]


def test_deleted_file_keeps_what_was_read(tmp_path: Path) -> None:
    p = tmp_path / "a.log"
    p.write_text(lines(range(1, 4)))
    t = LogTailer(str(p))
    t.poll()
    p.unlink()
    assert len(t.poll()) == 0
    assert t.missing and len(t.table) == 3


def test_file_that_does_not_exist_yet(tmp_path: Path) -> None:
    p = tmp_path / "later.log"
    t = LogTailer(str(p))
    assert len(t.poll()) == 0 and t.format is None
    p.write_text(lines([1]))
    assert list(t.poll()["step"]) == [1]


def test_whole_file_document_is_diffed(tmp_path: Path) -> None:
    p = tmp_path / "state.json"
    p.write_text("FAKEDOC\n" + lines([1, 2]))
    t = LogTailer(str(p))
    assert sorted(t.poll()["step"]) == [1, 2]
    p.write_text("FAKEDOC\n" + lines([1, 2, 3]))
    assert list(t.poll()["step"]) == [3]
    assert sorted(t.table["step"]) == [1, 2, 3]


def test_restarts_in_one_file_match_a_full_read(tmp_path: Path) -> None:
    p = tmp_path / "a.log"
    p.write_text(lines(range(1, 11)))
    t = LogTailer(str(p))
    t.poll()
    with open(p, "a") as fh:
        fh.write(lines(range(5, 8)))  # relaunch from step 5
    t.poll()
    assert sorted(t.table["step"]) == [1, 2, 3, 4, 5, 6, 7]
    assert sort_table(t.table).equals(sort_table(read_log(str(p)).table))


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=2000), max_size=30))
def test_growing_in_random_pieces_equals_one_full_read(tmp_path_factory, cuts) -> None:
    body = (lines(range(1, 30), miou_every=7) + lines(range(10, 40), miou_every=5)).encode()
    p = tmp_path_factory.mktemp("grow") / "a.log"
    p.write_bytes(b"")
    t = LogTailer(str(p))
    polled = []
    prev = 0
    for c in [*sorted({c for c in cuts if c < len(body)}), len(body)]:
        with open(p, "ab") as fh:
            fh.write(body[prev:c])
        prev = c
        polled.append(t.poll())
    full = read_log(str(p)).table
    assert sort_table(t.table).equals(sort_table(full))
    # the polls together hold every record appended, each exactly once
    raw = concat_tables(polled)
    assert len(raw) == sum(1 for line in body.splitlines() for _ in line.split()[2:])
