"""Walk a data folder: find image files, pair two folders by name, read a class-names file.

Files are keyed by their path relative to the folder, without the suffix (``aachen/0001`` for
``aachen/0001.png``), so a prediction ``0001.png`` pairs with a label ``0001.png`` or ``0001.tif``
and nested city folders pair too. Work on the pairs runs in a small thread pool with a bounded
window (Pillow decodes without the GIL), so memory stays flat whatever the number of files.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from metrics.errors import InputError, LogReadError
from metrics.masks.images import IMAGE_SUFFIXES

__all__ = [
    "FolderIndex",
    "Pairing",
    "default_workers",
    "index_folder",
    "ordered_map",
    "pair_folders",
    "read_class_names",
]

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class FolderIndex:
    """Image files under a folder by key (relative path without suffix), sorted by key."""

    root: Path
    files: dict[str, Path]
    duplicates: tuple[str, ...]  # keys held by more than one file (the first by name is kept)


@dataclass(frozen=True)
class Pairing:
    """Files of two folders matched by key, and the keys found on one side only."""

    pairs: tuple[tuple[str, Path, Path], ...]
    only_first: tuple[str, ...]
    only_second: tuple[str, ...]


def index_folder(root: str | Path) -> FolderIndex:
    """Every image file under ``root`` (recursively, hidden files skipped); refuse an empty one."""
    base = Path(root)
    if not base.is_dir():
        raise LogReadError(f"{base}: no such folder")
    files: dict[str, Path] = {}
    dups: list[str] = []
    for path in sorted(_walk(base)):
        key = path.relative_to(base).with_suffix("").as_posix()
        if key in files:
            dups.append(key)
        else:
            files[key] = path
    if not files:
        kinds = ", ".join(sorted(IMAGE_SUFFIXES))
        raise InputError(f"{base}: no image files in the folder (looked for {kinds})")
    return FolderIndex(base, dict(sorted(files.items())), tuple(sorted(set(dups))))


def _walk(base: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if not name.startswith(".") and Path(name).suffix.lower() in IMAGE_SUFFIXES:
                yield Path(dirpath) / name


def pair_folders(first: FolderIndex, second: FolderIndex) -> Pairing:
    """Match files by key; keys present in only one folder are listed, not dropped silently."""
    a, b = first.files, second.files
    pairs = tuple((k, a[k], b[k]) for k in a if k in b)
    return Pairing(pairs, tuple(k for k in a if k not in b), tuple(k for k in b if k not in a))


def read_class_names(path: str | Path, num_classes: int) -> tuple[str, ...]:
    """One class name per line (blank lines at the end ignored); must give ``num_classes``."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise LogReadError(f"{p}: no such class-names file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LogReadError(f"{p}: cannot read the class-names file ({exc})") from None
    while lines and not lines[-1].strip():
        lines.pop()
    names = tuple(line.strip() for line in lines)
    if len(names) != num_classes:
        raise InputError(
            f"{p}: expected {num_classes} class names (one per line, for --num-classes "
            f"{num_classes}), got {len(names)}"
        )
    return names


def default_workers() -> int:
    """Threads for decoding: the CPU count, at most 4 (decoding is the bottleneck)."""
    return max(1, min(4, os.cpu_count() or 1))


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """``map(fn, items)`` on ``workers`` threads, in order, with at most 2×workers in flight."""
    if workers <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        window: deque[Future[R]] = deque()
        for item in items:
            window.append(pool.submit(fn, item))
            if len(window) >= 2 * workers:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
