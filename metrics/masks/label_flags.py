"""The rules of the label audit: each turns a tally into a flag with its files and its fix.

Thresholds are relative to the data, never absolute pixel counts: a class is *rare* below
``RARE_SHARE`` (0.1%) of the labelled pixels (ignored and out-of-range pixels excluded) and
*dominant* above ``DOMINANT_SHARE`` (95%). Masks of only 0 and 255 are flagged when they are at
least half of the masks, or when no mask holds any class but 0 (a few all-background-and-ignore
masks are normal).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from metrics.masks.label_tally import FIRST_FILES, LabelTally

__all__ = ["DOMINANT_SHARE", "RARE_SHARE", "Flag", "build_flags"]

RARE_SHARE = 0.001
DOMINANT_SHARE = 0.95


@dataclass(frozen=True)
class Flag:
    """One problem of a label set: a stable code, what was seen, the first files, the fix."""

    code: str
    message: str
    files: tuple[str, ...]
    fix: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "files": list(self.files),
            "fix": self.fix,
        }


@dataclass(frozen=True)
class Context:
    """What the rules need besides the tally."""

    names: Sequence[str]
    rare_share: float = RARE_SHARE
    dominant_share: float = DOMINANT_SHARE
    labels_only: tuple[str, ...] = ()  # label files without an image
    images_only: tuple[str, ...] = ()  # image files without a label
    duplicates: tuple[str, ...] = ()


def build_flags(t: LabelTally, ctx: Context) -> tuple[Flag, ...]:
    """Every flag the tally raises, most fundamental first."""
    rules: list[Callable[[LabelTally, Context], Flag | None]] = [
        _unreadable,
        _rgb,
        _jpeg,
        _binary,
        _out_of_range,
        _size,
        _unpaired,
        _duplicates,
        _absent,
        _rare,
        _dominant,
    ]
    return tuple(f for f in (rule(t, ctx) for rule in rules) if f is not None)


def _of(n: int, t: LabelTally) -> str:
    return f"{n} of {t.files} masks"


def _unreadable(t: LabelTally, ctx: Context) -> Flag | None:
    h, hi = t.hits.get("unreadable"), t.hits.get("unreadable_image")
    if h is None and hi is None:
        return None
    parts, files, details = [], [], []
    for hits, what in ((h, "label files"), (hi, "images")):
        if hits is not None:
            parts.append(f"{hits.count} {what}")
            files += hits.files
            details += hits.details
    return Flag(
        "unreadable",
        f"{' and '.join(parts)} could not be read, e.g. {details[0] if details else files[0]}",
        tuple(files[:FIRST_FILES]),
        "re-export or remove the broken files; a training loader would crash or skip them",
    )


def _rgb(t: LabelTally, ctx: Context) -> Flag | None:
    h = t.hits.get("rgb_mask")
    if h is None:
        return None
    gray = t.hits.get("rgb_gray")
    how = (
        "their channels are equal (a grey mask saved as RGB)"
        if gray is not None and gray.count == h.count
        else "a colour-coded (palette-coloured) mask holds colours, not class ids"
    )
    return Flag(
        "rgb_mask",
        f"{_of(h.count, t)} have 3 or 4 channels where an index map was expected: {how}; their "
        f"pixels are not counted here",
        tuple(h.files),
        "save one channel of class ids (PNG mode L, or mode P to keep colours for viewing): "
        "map each colour to its class id with the dataset palette; if the channels are equal, "
        "keep one: np.asarray(Image.open(p))[..., 0]",
    )


def _jpeg(t: LabelTally, ctx: Context) -> Flag | None:
    h = t.hits.get("jpeg_mask")
    if h is None:
        return None
    return Flag(
        "jpeg_mask",
        f"{_of(h.count, t)} are JPEG: lossy compression smears class borders into stray "
        f"in-between values, read as wrong or out-of-range class ids",
        tuple(h.files),
        "re-export the masks as PNG from the source annotations (converting these JPEGs to "
        "PNG keeps the stray values)",
    )


def _binary(t: LabelTally, ctx: Context) -> Flag | None:
    h = t.hits.get("binary_0_255")
    if h is None or not (2 * h.count >= t.counted_files or not t.pixels[1:].any()):
        return None
    why = (
        "255 is the ignore index, so their foreground is never trained on nor scored"
        if t.ignore_index == 255
        else f"255 is out of range for --num-classes {t.num_classes}"
    )
    return Flag(
        "binary_0_255",
        f"{_of(h.count, t)} hold only the values 0 and 255 (a binary mask saved for viewing): "
        f"{why}",
        tuple(h.files),
        "store the foreground as class 1: "
        "Image.fromarray((np.asarray(Image.open(p)) > 127).astype(np.uint8)).save(p)",
    )


def _out_of_range(t: LabelTally, ctx: Context) -> Flag | None:
    h = t.hits.get("out_of_range")
    if h is None:
        return None
    ignore = "" if t.ignore_index is None else f" other than the ignore index {t.ignore_index}"
    return Flag(
        "out_of_range",
        f"{_of(h.count, t)} hold values outside 0…{t.num_classes - 1}{ignore}: "
        f"{sorted(h.values)} on {t.out_of_range:,} pixels",
        tuple(h.files),
        f"check --num-classes ({t.num_classes}); remap raw ids to training ids (e.g. "
        f"Cityscapes labelIds → trainIds); set pixels meant to be ignored to the ignore index",
    )


def _size(t: LabelTally, ctx: Context) -> Flag | None:
    h = t.hits.get("size_mismatch")
    if h is None:
        return None
    return Flag(
        "size_mismatch",
        f"{_of(h.count, t)} differ in size from their images, e.g. {h.details[0]}",
        tuple(h.files),
        "re-export the labels at their images' size, or resize them with nearest-neighbour "
        "(Image.NEAREST), never bilinear, which invents class ids along borders",
    )


def _unpaired(t: LabelTally, ctx: Context) -> Flag | None:
    a, b = ctx.labels_only, ctx.images_only
    if not a and not b:
        return None
    return Flag(
        "unpaired",
        f"{len(a)} masks have no image and {len(b)} images have no mask "
        f"(files are paired by name without suffix)",
        tuple([*a, *b][:FIRST_FILES]),
        "check that both folders hold the same split with the same file names (a suffix such "
        "as _gtFine_labelTrainIds must be removed from one side)",
    )


def _duplicates(t: LabelTally, ctx: Context) -> Flag | None:
    if not ctx.duplicates:
        return None
    return Flag(
        "duplicate_name",
        f"{len(ctx.duplicates)} names occur with two suffixes (e.g. a.png and a.jpg); the "
        f"first by name was used",
        tuple(ctx.duplicates[:FIRST_FILES]),
        "keep one file per name",
    )


def _absent(t: LabelTally, ctx: Context) -> Flag | None:
    if not t.counted_files:
        return None
    ids = [c for c in range(t.num_classes) if t.pixels[c] == 0 and c != t.ignore_index]
    if not ids:
        return None
    them = "it and its" if len(ids) == 1 else "them and their"
    return Flag(
        "absent_class",
        f"{_classes(ids, ctx)} in none of the {t.counted_files} masks: the model cannot learn "
        f"{them} IoU stays NaN or 0 (what a dead_class finding on the training curves shows)",
        (),
        "check --num-classes and the id mapping (a class goes missing when its ids were "
        "remapped or merged); if the split truly lacks it, drop the class or add data",
    )


def _rare(t: LabelTally, ctx: Context) -> Flag | None:
    share = _shares(t)
    ids = [c for c in range(t.num_classes) if 0 < share[c] < ctx.rare_share]
    if not ids:
        return None
    what = ", ".join(f"{_name(c, ctx)} {share[c]:.3%} in {t.images[c]} images" for c in ids[:8])
    files = [f for c in ids for f in t.class_files[c]]
    return Flag(
        "rare_class",
        f"{len(ids)} classes cover less than {ctx.rare_share:.1%} of the labelled pixels each: "
        f"{what}",
        tuple(dict.fromkeys(files))[:FIRST_FILES],
        "oversample images that contain them (class-aware sampling, crops around them), "
        "weight the loss (class weights, OHEM, Lovász or Dice), or merge them into a neighbour",
    )


def _dominant(t: LabelTally, ctx: Context) -> Flag | None:
    share = _shares(t)
    if np.count_nonzero(share > 0) < 2 or not np.nanmax(share) > ctx.dominant_share:
        return None  # one class alone is an absent_class problem, not imbalance
    c = int(np.nanargmax(share))
    return Flag(
        "dominant_class",
        f"{_name(c, ctx)} covers {share[c]:.1%} of the labelled pixels (more than "
        f"{ctx.dominant_share:.0%}): a model predicting it everywhere already scores a high aAcc",
        (),
        "judge the run by per-class IoU and mIoU, not aAcc; weight the loss or crop around the "
        "other classes",
    )


def _shares(t: LabelTally) -> np.ndarray:
    total = int(t.pixels.sum())
    return t.pixels / total if total else np.full(t.num_classes, np.nan)


def _name(c: int, ctx: Context) -> str:
    return f"class {c} ({ctx.names[c]})" if ctx.names else f"class {c}"


def _classes(ids: Sequence[int], ctx: Context) -> str:
    shown = ", ".join(_name(c, ctx).removeprefix("class ") for c in ids[:12])
    more = f" and {len(ids) - 12} more" if len(ids) > 12 else ""
    if len(ids) == 1:
        return f"class {shown} appears"
    return f"classes {shown}{more} appear"
