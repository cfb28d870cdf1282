"""Audit a folder of label masks: pixels and images per class, and flags with their fixes.

Finds mechanically what is painful to find by eye: 0/255 binary masks, ids ≥ num_classes,
RGB masks, JPEG masks, labels whose size differs from their image, classes that never appear,
extreme imbalance (rules and thresholds in ``metrics.masks.label_flags``). The folder is streamed:
memory stays flat whatever the number of files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from metrics.errors import InputError, MetricsError
from metrics.masks.folders import default_workers, index_folder, ordered_map, pair_folders
from metrics.masks.images import image_info, read_array, value_counts
from metrics.masks.label_flags import DOMINANT_SHARE, RARE_SHARE, Context, Flag, build_flags
from metrics.masks.label_tally import FileScan, LabelTally
from metrics.masks.miou import MAX_CLASSES

__all__ = ["ClassStat", "LabelAudit", "audit_labels"]

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ClassStat:
    """One class: labelled pixels, images holding it, share of all labelled pixels."""

    id: int
    name: str
    pixels: int
    images: int
    share: float  # NaN when no pixel is labelled at all


@dataclass(frozen=True)
class LabelAudit:
    """The result of ``audit_labels``; ``clean`` when no flag was raised."""

    root: str
    num_classes: int
    ignore_index: int | None
    files: int
    labelled_pixels: int
    ignored_pixels: int
    out_of_range_pixels: int
    classes: tuple[ClassStat, ...]
    flags: tuple[Flag, ...]
    modes: dict[str, int] = field(default_factory=dict)  # "PNG P": number of files

    @property
    def clean(self) -> bool:
        return not self.flags

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN shares become None)."""
        return {
            "root": self.root,
            "num_classes": self.num_classes,
            "ignore_index": self.ignore_index,
            "files": self.files,
            "labelled_pixels": self.labelled_pixels,
            "ignored_pixels": self.ignored_pixels,
            "out_of_range_pixels": self.out_of_range_pixels,
            "modes": dict(self.modes),
            "classes": [
                {
                    "id": c.id,
                    "name": c.name,
                    "pixels": c.pixels,
                    "images": c.images,
                    "share": None if np.isnan(c.share) else c.share,
                }
                for c in self.classes
            ],
            "flags": [f.to_dict() for f in self.flags],
        }


def audit_labels(
    gt_dir: str | Path,
    num_classes: int,
    ignore_index: int | None = 255,
    *,
    images_dir: str | Path | None = None,
    class_names: Sequence[str] | None = None,
    rare_share: float = RARE_SHARE,
    dominant_share: float = DOMINANT_SHARE,
    workers: int | None = None,
    on_progress: Progress | None = None,
) -> LabelAudit:
    """Read every mask under ``gt_dir`` once and report per-class counts and flags.

    With ``images_dir``, each mask is paired with the image of the same name (header only) to
    compare sizes. ``on_progress(done, total)`` is called after each file.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise InputError(f"expected num_classes to be an int >= 1, got {num_classes!r}")
    if num_classes > MAX_CLASSES:
        raise InputError(f"expected num_classes <= {MAX_CLASSES}, got {num_classes}")
    if class_names is not None and len(class_names) != num_classes:
        raise InputError(f"expected {num_classes} class names, got {len(class_names)}")
    labels = index_folder(gt_dir)
    ctx = Context(class_names or (), rare_share, dominant_share, duplicates=labels.duplicates)
    images: dict[str, Path] = {}
    if images_dir is not None:
        img_index = index_folder(images_dir)
        pairing = pair_folders(labels, img_index)
        images = img_index.files
        ctx = Context(
            ctx.names,
            rare_share,
            dominant_share,
            _names(labels.files, pairing.only_first),
            _names(img_index.files, pairing.only_second),
            labels.duplicates,
        )
    root = labels.root
    items = [(p.relative_to(root).as_posix(), p, images.get(k)) for k, p in labels.files.items()]
    tally = LabelTally(num_classes, ignore_index)
    for done, scan in enumerate(ordered_map(_scan, items, workers or default_workers()), 1):
        tally.add(scan)
        if on_progress is not None:
            on_progress(done, len(items))
    return _result(str(root), tally, ctx)


def _names(files: dict[str, Path], keys: Sequence[str]) -> tuple[str, ...]:
    return tuple(k + files[k].suffix for k in keys)


def _scan(item: tuple[str, Path, Path | None]) -> FileScan:
    """Everything the audit needs from one mask (and its image's header); runs in a worker."""
    name, path, image = item
    image_hw, image_error = None, None
    if image is not None:
        try:
            info = image_info(image)
            image_hw = (info.height, info.width)
        except MetricsError as exc:
            image_error = str(exc)
    try:
        info = image_info(path)
        if info.channels > 1:
            _, arr = read_array(path)
            rgb = arr[..., :3]
            equal = info.channels >= 3 and bool(
                np.array_equal(rgb[..., 0], rgb[..., 1])
                and np.array_equal(rgb[..., 1], rgb[..., 2])
            )
            return FileScan(
                name, info, equal_channels=equal, image_hw=image_hw, image_error=image_error
            )
        counts = value_counts(path)
    except MetricsError as exc:
        return FileScan(name, error=str(exc), image_hw=image_hw, image_error=image_error)
    return FileScan(name, counts.info, counts, image_hw=image_hw, image_error=image_error)


def _result(root: str, t: LabelTally, ctx: Context) -> LabelAudit:
    total = int(t.pixels.sum())
    classes = tuple(
        ClassStat(
            c,
            ctx.names[c] if ctx.names else str(c),
            int(t.pixels[c]),
            int(t.images[c]),
            float(t.pixels[c] / total) if total else float("nan"),
        )
        for c in range(t.num_classes)
    )
    return LabelAudit(
        root,
        t.num_classes,
        t.ignore_index,
        t.files,
        total,
        t.ignored,
        t.out_of_range,
        classes,
        build_flags(t, ctx),
        dict(sorted(t.modes.items())),
    )
