"""Folder evaluation: known confusion matrices written as PNG pairs, and per-file problems."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from metrics.errors import InputError, LogReadError
from metrics.masks.folder_eval import evaluate_images, evaluate_segmentation
from metrics.masks.miou import class_accuracy, iou_per_class, mean_iou, pixel_accuracy
from metrics.masks.pixel import mse as pixel_mse
from tests.masks_util import blocks, save_mask

CM1 = np.array([[3, 1, 0], [0, 2, 0], [1, 0, 1]])  # 8 pixels
CM2 = np.array([[2, 0, 0], [1, 3, 0], [0, 0, 1]])  # 7 pixels (+ 1 ignored)


def pair_from_cm(cm: np.ndarray, shape: tuple[int, int], ignored: int = 0, seed: int = 0):
    """A (pred, gt) pair of ``shape`` whose confusion matrix is ``cm`` (rows = gt)."""
    gt, pred = [], []
    for i, j in np.ndindex(cm.shape):
        gt += [i] * int(cm[i, j])
        pred += [j] * int(cm[i, j])
    gt += [255] * ignored
    pred += [0] * ignored
    order = np.random.default_rng(seed).permutation(len(gt))
    g = np.array(gt, np.uint8)[order].reshape(shape)
    p = np.array(pred, np.uint8)[order].reshape(shape)
    return p, g


@pytest.fixture
def known(tmp_path: Path) -> tuple[Path, Path]:
    pred, gt = tmp_path / "pred", tmp_path / "gt"
    p1, g1 = pair_from_cm(CM1, (2, 4))
    p2, g2 = pair_from_cm(CM2, (2, 4), ignored=1, seed=1)
    save_mask(pred / "a.png", p1)
    save_mask(gt / "a.png", g1, palette=True)  # palette ground truth: indices are read
    save_mask(pred / "b.png", p2)
    save_mask(gt / "b.png", g2)
    return pred, gt


def test_confusion_matrix_summed_over_the_folder_then_scored_once(known) -> None:
    pred, gt = known
    res = evaluate_segmentation(pred, gt, 3, class_names=["bg", "road", "car"])
    total = CM1 + CM2
    assert res.images == 2 and res.problems == ()
    np.testing.assert_array_equal(res.confusion, total)
    np.testing.assert_allclose(res.scores.iou, [5 / 8, 5 / 7, 2 / 3])
    np.testing.assert_allclose(res.scores.iou, iou_per_class(total))
    assert res.scores.miou == pytest.approx((5 / 8 + 5 / 7 + 2 / 3) / 3)
    assert res.scores.aacc == pytest.approx(12 / 15) == pixel_accuracy(total)
    np.testing.assert_allclose(res.scores.acc, class_accuracy(total))
    per_image = (mean_iou(CM1) + mean_iou(CM2)) / 2
    assert abs(res.scores.miou - per_image) > 1e-3  # not a mean of per-image mIoUs


def test_to_dict_gives_fractions_names_and_the_matrix(known) -> None:
    pred, gt = known
    d = json.loads(json.dumps(evaluate_segmentation(pred, gt, 4).to_dict()))
    assert d["confusion_matrix"][0] == [5, 1, 0, 0]
    assert d["classes"][3] == {
        "id": 3, "name": "3", "iou": None, "acc": None, "dice": None,
        "gt_pixels": 0, "pred_pixels": 0,
    }  # fmt: skip
    assert d["classes"][1]["iou"] == pytest.approx(5 / 7)
    assert d["miou"] == pytest.approx((5 / 8 + 5 / 7 + 2 / 3) / 3)


def test_each_problem_reported_by_file_and_left_out(tmp_path: Path, known) -> None:
    pred, gt = known
    save_mask(gt / "only_gt.png", blocks(2, 4, [0, 1]))
    save_mask(pred / "only_pred.png", blocks(2, 4, [0, 1]))
    save_mask(pred / "small.png", blocks(1, 4, [0, 1]))
    save_mask(gt / "small.png", blocks(2, 4, [0, 1]))
    save_mask(pred / "rgb.png", np.zeros((2, 4, 3), np.uint8))
    save_mask(gt / "rgb.png", blocks(2, 4, [0, 1]))
    save_mask(pred / "wide.png", blocks(2, 4, [0, 255]))  # 0/255 prediction
    save_mask(gt / "wide.png", blocks(2, 4, [0, 1]))
    res = evaluate_segmentation(pred, gt, 3)
    got = {p.file: p.code for p in res.problems}
    assert got == {
        "only_gt.png": "missing_pred",
        "only_pred.png": "missing_gt",
        "small.png": "size_mismatch",
        "rgb.png": "not_index_map",
        "wide.png": "out_of_range",
    }
    msg = {p.file: p.message for p in res.problems}
    assert "prediction is 4×1, ground truth 4×2" in msg["small.png"]
    assert "3-channel PNG (mode RGB)" in msg["rgb.png"]
    assert "values [255]" in msg["wide.png"]
    np.testing.assert_array_equal(res.confusion, CM1 + CM2)  # the bad pairs add nothing


def test_nested_folders_pair_by_relative_name(tmp_path: Path) -> None:
    for city in ("aachen", "bonn"):
        save_mask(tmp_path / "pred" / city / "0001.png", blocks(2, 4, [0, 1]))
        (tmp_path / "gt" / city).mkdir(parents=True)
        np.save(tmp_path / "gt" / city / "0001.npy", blocks(2, 4, [0, 1]).astype(np.int32))
    res = evaluate_segmentation(tmp_path / "pred", tmp_path / "gt", 2, workers=1)
    assert res.images == 2 and res.problems == ()
    np.testing.assert_array_equal(res.confusion, [[8, 0], [0, 8]])


def test_usage_errors(tmp_path: Path, known) -> None:
    pred, gt = known
    with pytest.raises(LogReadError, match="no such folder"):
        evaluate_segmentation(tmp_path / "nope", gt, 3)
    with pytest.raises(InputError, match="num_classes"):
        evaluate_segmentation(pred, gt, 0)
    with pytest.raises(InputError, match="expected 3 class names"):
        evaluate_segmentation(pred, gt, 3, class_names=["a"])


# ---- image-to-image ------------------------------------------------------------------------


def test_image_task_mse_psnr_per_image_and_overall(tmp_path: Path) -> None:
    pred, gt = tmp_path / "pred", tmp_path / "gt"
    t1 = np.full((4, 4, 3), 100, np.uint8)
    t2 = np.full((2, 2), 50, np.uint8)
    save_mask(gt / "a.png", t1)
    save_mask(pred / "a.png", t1 + 2)  # MSE 4
    save_mask(gt / "b.png", t2)
    save_mask(pred / "b.png", t2 + 10)  # MSE 100
    res = evaluate_images(pred, gt)
    assert [(s.file, s.mse) for s in res.images] == [("a.png", 4.0), ("b.png", 100.0)]
    assert res.images[0].psnr == pytest.approx(10 * np.log10(255**2 / 4))
    assert res.mse == pytest.approx((4 * 48 + 100 * 4) / 52)  # over all pixels
    assert res.psnr == pytest.approx(np.mean([s.psnr for s in res.images]))
    assert res.images[0].mse == pixel_mse(t1 + 2, t1)


def test_dark_8bit_target_is_still_read_as_0_255(tmp_path: Path) -> None:
    pred, gt = tmp_path / "pred", tmp_path / "gt"
    save_mask(gt / "a.png", np.ones((2, 2), np.uint8))  # max 1: looks 0–1 by value
    save_mask(pred / "a.png", np.full((2, 2), 3, np.uint8))
    res = evaluate_images(pred, gt)
    assert res.problems == () and res.images[0].psnr == pytest.approx(10 * np.log10(255**2 / 4))


def test_image_task_refuses_shape_and_range_mismatches(tmp_path: Path) -> None:
    pred, gt = tmp_path / "pred", tmp_path / "gt"
    save_mask(gt / "rgb.png", np.zeros((2, 2, 3), np.uint8))
    save_mask(pred / "rgb.png", np.zeros((2, 2), np.uint8))
    save_mask(gt / "unit.png", np.full((2, 2), 200, np.uint8))
    np.save(pred / "unit.npy", np.full((2, 2), 0.8, np.float32))  # 0–1 output vs 0–255 target
    save_mask(gt / "same.png", np.full((2, 2), 7, np.uint8))
    save_mask(pred / "same.png", np.full((2, 2), 7, np.uint8))
    res = evaluate_images(pred, gt)
    got = {p.file: (p.code, p.message) for p in res.problems}
    assert got["rgb.png"] == ("shape_mismatch", "prediction has shape (2, 2), target (2, 2, 3)")
    assert got["unit.png"][0] == "range_mismatch" and "0–1" in got["unit.png"][1]
    assert [s.file for s in res.images] == ["same.png"]
    assert res.images[0].psnr == float("inf")
    assert res.to_dict()["per_image"][0]["psnr"] is None
