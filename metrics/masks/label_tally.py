"""Running totals of a label audit: pixels and images per class, and the files behind each flag.

One ``FileScan`` per label file is added in turn; the tally keeps fixed-size counters and, per
kind of problem, only the count and the first few file names, so memory does not grow with the
number of files.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from metrics.masks.images import ImageInfo, ValueCounts

__all__ = ["FIRST_FILES", "FileScan", "Hits", "LabelTally"]

FIRST_FILES = 5  # file names kept per flag
_MAX_VALUES = 10  # distinct stray values kept per flag


@dataclass(frozen=True)
class FileScan:
    """What one label file showed (made in a worker thread, added to the tally in order)."""

    name: str  # path relative to the label folder
    info: ImageInfo | None = None
    counts: ValueCounts | None = None
    error: str | None = None  # the file could not be read
    equal_channels: bool = False  # a multi-channel mask whose channels are all equal
    image_hw: tuple[int, int] | None = None  # (height, width) of its image, when given
    image_error: str | None = None


@dataclass
class Hits:
    """How many files show one problem, the first of them, and a sample of the values seen."""

    count: int = 0
    files: list[str] = field(default_factory=list)
    values: set[int] = field(default_factory=set)
    details: list[str] = field(default_factory=list)

    def add(self, name: str, values: NDArray[np.int64] | None = None, detail: str = "") -> None:
        self.count += 1
        if len(self.files) < FIRST_FILES:
            self.files.append(name)
            if detail:
                self.details.append(detail)
        if values is not None:
            for v in values.tolist():
                if len(self.values) >= _MAX_VALUES:
                    break
                self.values.add(int(v))


class LabelTally:
    """Pixels and images per class, ignored and out-of-range pixels, and per-problem hits."""

    def __init__(self, num_classes: int, ignore_index: int | None) -> None:
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.pixels = np.zeros(num_classes, np.int64)
        self.images = np.zeros(num_classes, np.int64)
        self.class_files: list[list[str]] = [[] for _ in range(num_classes)]
        self.files = 0
        self.counted_files = 0  # single-channel masks whose pixels were counted
        self.ignored = 0
        self.out_of_range = 0
        self.modes: Counter[str] = Counter()
        self.hits: dict[str, Hits] = {}

    def hit(self, code: str) -> Hits:
        return self.hits.setdefault(code, Hits())

    def add(self, scan: FileScan) -> None:
        """Fold one file into the totals."""
        self.files += 1
        if scan.error is not None or scan.info is None:
            self.hit("unreadable").add(scan.name, detail=scan.error or "")
            return
        info = scan.info
        self.modes[f"{info.format} {info.mode}"] += 1
        if info.format == "JPEG":
            self.hit("jpeg_mask").add(scan.name)
        self._check_size(scan, info)
        if info.channels > 1:
            detail = "channels equal" if scan.equal_channels else "colours"
            self.hit("rgb_mask").add(scan.name, detail=detail)
            if scan.equal_channels:
                self.hit("rgb_gray").add(scan.name)
        if scan.counts is not None:
            self._count(scan.name, scan.counts)

    def _check_size(self, scan: FileScan, info: ImageInfo) -> None:
        if scan.image_error is not None:
            self.hit("unreadable_image").add(scan.name, detail=scan.image_error)
        elif scan.image_hw is not None and scan.image_hw != (info.height, info.width):
            h, w = scan.image_hw
            detail = f"{scan.name}: label {info.width}×{info.height}, image {w}×{h}"
            self.hit("size_mismatch").add(scan.name, detail=detail)

    def _count(self, name: str, vc: ValueCounts) -> None:
        self.counted_files += 1
        k, values, counts = self.num_classes, vc.values, vc.counts
        ignore = self.ignore_index
        ignored = np.zeros(values.shape, bool) if ignore is None else values == ignore
        inside = (values >= 0) & (values < k) & ~ignored
        stray = ~inside & ~ignored
        ids = values[inside]
        self.pixels[ids] += counts[inside]
        self.images[ids] += 1
        for c in ids.tolist():
            if len(self.class_files[c]) < FIRST_FILES:
                self.class_files[c].append(name)
        self.ignored += int(counts[ignored].sum())
        if stray.any():
            self.out_of_range += int(counts[stray].sum())
            self.hit("out_of_range").add(name, values[stray])
        if k <= 255 and values.tolist() == [0, 255]:
            self.hit("binary_0_255").add(name)
