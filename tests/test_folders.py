"""Walking data folders: keys, pairing, class-name files, the ordered bounded map."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from metrics.errors import InputError, LogReadError
from metrics.masks.folders import index_folder, ordered_map, pair_folders, read_class_names


def touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")


def test_index_keys_nested_paths_skip_hidden_and_other_files(tmp_path: Path) -> None:
    for name in ("b.png", "a/x.PNG", "a/x.jpg", ".hidden.png", ".git/y.png", "notes.txt"):
        touch(tmp_path / name)
    idx = index_folder(tmp_path)
    assert list(idx.files) == ["a/x", "b"]
    assert idx.files["a/x"].name == "x.PNG" and idx.duplicates == ("a/x",)


def test_pairing_lists_both_sides(tmp_path: Path) -> None:
    for name in ("p/1.png", "p/2.png", "g/2.png", "g/3.tif"):
        touch(tmp_path / name)
    pairing = pair_folders(index_folder(tmp_path / "p"), index_folder(tmp_path / "g"))
    assert [k for k, _, _ in pairing.pairs] == ["2"]
    assert pairing.only_first == ("1",) and pairing.only_second == ("3",)


def test_empty_or_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(LogReadError):
        index_folder(tmp_path / "nope")
    with pytest.raises(InputError, match="no image files"):
        index_folder(tmp_path)


def test_class_names(tmp_path: Path) -> None:
    f = tmp_path / "names.txt"
    f.write_text("road\r\nside walk\n\n")
    assert read_class_names(f, 2) == ("road", "side walk")
    with pytest.raises(InputError, match="expected 3 class names"):
        read_class_names(f, 3)


def test_ordered_map_keeps_order_and_bounds_the_window() -> None:
    live, peak, lock = 0, 0, threading.Lock()

    def slow(i: int) -> int:
        nonlocal live, peak
        with lock:
            live += 1
            peak = max(peak, live)
        time.sleep(0.002 * (i % 3))
        with lock:
            live -= 1
        return i * i

    assert list(ordered_map(slow, range(30), workers=3)) == [i * i for i in range(30)]
    assert 1 < peak <= 3
    assert list(ordered_map(slow, range(5), workers=1)) == [0, 1, 4, 9, 16]


def test_ordered_map_reads_ahead_at_most_two_windows() -> None:
    pulled = 0

    def items():
        nonlocal pulled
        for i in range(100):
            pulled += 1
            yield i

    ahead = []
    for done, _ in enumerate(ordered_map(lambda i: i, items(), workers=2), 1):
        ahead.append(pulled - done)
    assert max(ahead) <= 4  # 2 × workers in flight: memory flat in the number of files
