"""Evaluate a folder of predictions against a folder of ground truth, file by file, streamed.

Segmentation: one confusion matrix summed over every pair (``metrics.masks.miou``), scored once.
Image-to-image: MSE and PSNR per image and overall (``metrics.masks.pixel``). Files pair by name
without suffix; a missing partner, a size mismatch, a colour mask or out-of-range labels is
reported for that file (a ``FileProblem``) and the file is left out, never guessed at.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from metrics.errors import InputError, MetricsError
from metrics.masks.folders import default_workers, index_folder, ordered_map, pair_folders
from metrics.masks.images import ImageInfo, describe, read_array
from metrics.masks.miou import SegScores, confusion_matrix, scores
from metrics.masks.pixel import mse, psnr

__all__ = [
    "FileProblem",
    "ImageEvaluation",
    "ImageScore",
    "SegEvaluation",
    "evaluate_images",
    "evaluate_segmentation",
]

Progress = Callable[[int, int], None]
Array = NDArray[np.generic]
_INT_PEAK = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


@dataclass(frozen=True)
class FileProblem:
    """A file left out of the evaluation, and why."""

    file: str
    code: str  # missing_pred, missing_gt, unreadable, not_index_map, size_mismatch, ...
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"file": self.file, "code": self.code, "message": self.message}


@dataclass(frozen=True, eq=False)
class SegEvaluation:
    """Scores of a segmentation folder from one summed confusion matrix (rows = ground truth)."""

    num_classes: int
    ignore_index: int | None
    class_names: tuple[str, ...]
    images: int
    confusion: NDArray[np.int64]
    scores: SegScores
    problems: tuple[FileProblem, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: fractions, NaN as None."""
        s, cm = self.scores, self.confusion
        classes = [
            {
                "id": c,
                "name": self.class_names[c],
                "iou": _num(s.iou[c]),
                "acc": _num(s.acc[c]),
                "dice": _num(s.dice[c]),
                "gt_pixels": int(cm[c].sum()),
                "pred_pixels": int(cm[:, c].sum()),
            }
            for c in range(self.num_classes)
        ]
        return {
            "task": "segmentation",
            "images": self.images,
            "num_classes": self.num_classes,
            "ignore_index": self.ignore_index,
            "miou": _num(s.miou),
            "aacc": _num(s.aacc),
            "macc": _num(s.macc),
            "mdice": _num(s.mdice),
            "kappa": _num(s.kappa),
            "classes": classes,
            "confusion_matrix": cm.tolist(),
            "problems": [p.to_dict() for p in self.problems],
        }


@dataclass(frozen=True)
class ImageScore:
    """MSE and PSNR (dB; +inf for identical images) of one image pair."""

    file: str
    mse: float
    psnr: float


@dataclass(frozen=True)
class ImageEvaluation:
    """Per-image scores, the MSE over all pixels and the mean of the per-image PSNRs."""

    images: tuple[ImageScore, ...]
    mse: float
    psnr: float
    problems: tuple[FileProblem, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: a non-finite PSNR (identical images) becomes None."""
        return {
            "task": "image",
            "images": len(self.images),
            "mse": _num(self.mse),
            "psnr": _num(self.psnr),
            "per_image": [
                {"file": s.file, "mse": _num(s.mse), "psnr": _num(s.psnr)} for s in self.images
            ],
            "problems": [p.to_dict() for p in self.problems],
        }


def evaluate_segmentation(
    pred_dir: str | Path,
    gt_dir: str | Path,
    num_classes: int,
    ignore_index: int | None = 255,
    *,
    class_names: Sequence[str] | None = None,
    workers: int | None = None,
    on_progress: Progress | None = None,
) -> SegEvaluation:
    """Sum one confusion matrix over every (prediction, label) pair and score it."""
    if class_names is not None and len(class_names) != num_classes:
        raise InputError(f"expected {num_classes} class names, got {len(class_names)}")
    confusion_matrix(np.zeros(0, np.uint8), np.zeros(0, np.uint8), num_classes)  # validates k
    items, problems = _pairs(pred_dir, gt_dir)

    def one(item: tuple[str, Path, Path]) -> NDArray[np.int64] | FileProblem:
        return _seg_pair(item, num_classes, ignore_index)

    total = np.zeros((num_classes, num_classes), np.int64)
    images = 0
    for done, out in enumerate(ordered_map(one, items, workers or default_workers()), 1):
        if isinstance(out, FileProblem):
            problems.append(out)
        else:
            total += out
            images += 1
        if on_progress is not None:
            on_progress(done, len(items))
    names = tuple(class_names) if class_names else tuple(str(c) for c in range(num_classes))
    return SegEvaluation(
        num_classes, ignore_index, names, images, total, scores(total), tuple(problems)
    )


def evaluate_images(
    pred_dir: str | Path,
    gt_dir: str | Path,
    *,
    data_range: float | None = None,
    workers: int | None = None,
    on_progress: Progress | None = None,
) -> ImageEvaluation:
    """MSE and PSNR of each output image against its target, and over the whole folder.

    ``data_range`` defaults to the integer type's range when both files share it (255 for 8-bit
    PNGs), else ``metrics.masks.pixel`` infers it and refuses a 0–1 vs 0–255 pair.
    """
    items, problems = _pairs(pred_dir, gt_dir)

    def one(item: tuple[str, Path, Path]) -> tuple[ImageScore, int] | FileProblem:
        return _image_pair(item, data_range)

    per_image: list[ImageScore] = []
    sq_sum, count = 0.0, 0
    for done, out in enumerate(ordered_map(one, items, workers or default_workers()), 1):
        if isinstance(out, FileProblem):
            problems.append(out)
        else:
            per_image.append(out[0])
            sq_sum += out[0].mse * out[1]
            count += out[1]
        if on_progress is not None:
            on_progress(done, len(items))
    overall = sq_sum / count if count else float("nan")
    mean_psnr = float(np.mean([s.psnr for s in per_image])) if per_image else float("nan")
    return ImageEvaluation(tuple(per_image), overall, mean_psnr, tuple(problems))


def _pairs(pred_dir: str | Path, gt_dir: str | Path) -> tuple[list[Any], list[FileProblem]]:
    """Pairs by name, and a problem for each file whose partner is missing."""
    preds, gts = index_folder(pred_dir), index_folder(gt_dir)
    pairing = pair_folders(preds, gts)
    problems = [
        FileProblem(_rel(gts.files[k], gts.root), "missing_pred", "no prediction of this name")
        for k in pairing.only_second
    ]
    problems += [
        FileProblem(_rel(preds.files[k], preds.root), "missing_gt", "no ground truth of this name")
        for k in pairing.only_first
    ]
    items = [(_rel(g, gts.root), p, g) for _, p, g in pairing.pairs]
    return items, problems


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _read_pair(
    name: str, pred: Path, gt: Path, need_index: bool
) -> tuple[Array, Array] | FileProblem:
    """Both arrays, or the problem that stops this pair (unreadable, colour mask, size)."""
    arrays: list[Array] = []
    infos: list[ImageInfo] = []
    for side, path in (("prediction", pred), ("ground truth", gt)):
        try:
            info, arr = read_array(path)
        except MetricsError as exc:
            return FileProblem(name, "unreadable", str(exc))
        if need_index and not info.is_index_map:
            return FileProblem(
                name,
                "not_index_map",
                f"the {side} {path.name} is {describe(info)}, not an index map of class ids: "
                f"convert colours to ids with the dataset palette (never by a grey conversion)",
            )
        infos.append(info)
        arrays.append(arr.astype(np.uint8) if arr.dtype == np.bool_ else arr)
    p, g = infos
    if (p.height, p.width) != (g.height, g.width):
        return FileProblem(
            name,
            "size_mismatch",
            f"prediction is {p.width}×{p.height}, ground truth {g.width}×{g.height}: evaluate "
            f"at the label's size (resize logits before the argmax, or the prediction with "
            f"nearest-neighbour)",
        )
    return arrays[0], arrays[1]


def _seg_pair(
    item: tuple[str, Path, Path], k: int, ignore: int | None
) -> NDArray[np.int64] | FileProblem:
    name, pred, gt = item
    pair = _read_pair(name, pred, gt, need_index=True)
    if isinstance(pair, FileProblem):
        return pair
    try:
        return confusion_matrix(pair[0], pair[1], k, ignore)
    except InputError as exc:
        return FileProblem(name, "out_of_range", str(exc))


def _image_pair(
    item: tuple[str, Path, Path], data_range: float | None
) -> tuple[ImageScore, int] | FileProblem:
    name, pred, gt = item
    pair = _read_pair(name, pred, gt, need_index=False)
    if isinstance(pair, FileProblem):
        return pair
    p, t = pair
    if p.shape != t.shape:
        return FileProblem(
            name, "shape_mismatch", f"prediction has shape {p.shape}, target {t.shape}"
        )
    same_int = p.dtype == t.dtype and p.dtype in _INT_PEAK
    peak = data_range if data_range is not None else _INT_PEAK.get(p.dtype) if same_int else None
    try:
        err = float(mse(p, t, peak, check_range=not same_int))
        db = float(psnr(p, t, peak, check_range=not same_int))
    except InputError as exc:
        return FileProblem(name, "range_mismatch", str(exc))
    return ImageScore(name, err, db), int(p.size)


def _num(x: float | np.floating[Any]) -> float | None:
    return float(x) if np.isfinite(x) else None
