"""Tests of metrics.masks.miou against slow per-pixel references and hand-worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from metrics.errors import InputError, MetricsError
from metrics.masks import miou
from metrics.masks.miou import (
    SegScores,
    class_accuracy,
    confusion_matrix,
    dice_per_class,
    iou_per_class,
    kappa,
    mean_accuracy,
    mean_dice,
    mean_iou,
    pixel_accuracy,
    scores,
)

IGNORE = 255


# ---- independent slow references: one Python loop over pixels ----------------------------


def slow_counts(pred, gt, k, ignore=IGNORE):
    """Per-class TP, FP, FN, gt count, pred count and the matrix, one pixel at a time."""
    cm = [[0] * k for _ in range(k)]
    for p, g in zip(np.ravel(pred).tolist(), np.ravel(gt).tolist(), strict=True):
        if g == ignore:
            continue
        cm[g][p] += 1
    return np.array(cm, dtype=np.int64)


def slow_scores(pred, gt, k, ignore=IGNORE):
    """Every score from per-pixel counting, with the MMSeg / PaddleSeg formulas spelled out."""
    tp, fp, fn, n_gt, n_pred = ([0] * k for _ in range(5))
    total = agree = 0
    for p, g in zip(np.ravel(pred).tolist(), np.ravel(gt).tolist(), strict=True):
        if g == ignore:
            continue
        total += 1
        n_gt[g] += 1
        n_pred[p] += 1
        if p == g:
            tp[g] += 1
            agree += 1
        else:
            fp[p] += 1
            fn[g] += 1

    def div(a, b):
        return a / b if b else math.nan

    iou = [div(tp[c], tp[c] + fp[c] + fn[c]) for c in range(k)]
    acc = [div(tp[c], n_gt[c]) for c in range(k)]
    dice = [div(2 * tp[c], 2 * tp[c] + fp[c] + fn[c]) for c in range(k)]
    po = div(agree, total)
    pe = sum(n_gt[c] * n_pred[c] for c in range(k)) / total**2 if total else math.nan
    return {
        "iou": iou,
        "acc": acc,
        "dice": dice,
        "aacc": po,
        "kappa": (po - pe) / (1 - pe) if total and pe != 1 else math.nan,
    }


def nanmean(xs):
    xs = [x for x in xs if not math.isnan(x)]
    return sum(xs) / len(xs) if xs else math.nan


def label_maps(k, max_side=6, batch=True):
    """A (pred, gt) pair of equal shape; gt has some ignore pixels."""
    dims = 3 if batch else 2
    shape = hnp.array_shapes(min_dims=dims, max_dims=dims, min_side=1, max_side=max_side)
    return shape.flatmap(
        lambda s: st.tuples(
            hnp.arrays(np.int64, s, elements=st.integers(0, k - 1)),
            hnp.arrays(np.int64, s, elements=st.sampled_from([*range(k), IGNORE])),
        )
    )


# ---- confusion_matrix ---------------------------------------------------------------------


def test_confusion_matrix_rows_are_ground_truth():
    gt = np.array([[0, 0, 1], [1, 2, 255]])
    pred = np.array([[0, 1, 1], [2, 2, 0]])
    assert confusion_matrix(pred, gt, 3).tolist() == [[1, 1, 0], [0, 1, 1], [0, 0, 1]]


@settings(max_examples=60, deadline=None)
@given(label_maps(4))
def test_confusion_matrix_matches_pixel_loop(pair):
    pred, gt = pair
    np.testing.assert_array_equal(confusion_matrix(pred, gt, 4), slow_counts(pred, gt, 4))


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.int64, np.uint64])
def test_confusion_matrix_integer_dtypes(dtype):
    rng = np.random.default_rng(1)
    gt = rng.integers(0, 5, (3, 7, 9)).astype(dtype)
    gt[0, :2] = 255
    pred = rng.integers(0, 5, gt.shape).astype(dtype)
    expected = slow_counts(pred.astype(np.int64), gt.astype(np.int64), 5)
    got = confusion_matrix(pred, gt, 5)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected)


def test_confusion_matrix_in_chunks_and_non_contiguous(monkeypatch):
    rng = np.random.default_rng(2)
    gt = rng.integers(0, 6, (4, 13, 11))
    gt[gt == 5] = IGNORE
    pred = rng.integers(0, 5, gt.shape)
    expected = slow_counts(pred, gt, 5)
    monkeypatch.setattr(miou, "_CHUNK", 7)  # many chunks, split mid-row
    np.testing.assert_array_equal(confusion_matrix(pred, gt, 5), expected)
    # transposed views: not contiguous, same pixels pairwise
    pt, gtt = pred.transpose(2, 1, 0), gt.transpose(2, 1, 0)
    assert not pt.flags.c_contiguous
    np.testing.assert_array_equal(confusion_matrix(pt, gtt, 5), expected)
    np.testing.assert_array_equal(
        confusion_matrix(pred[:, ::2], gt[:, ::2], 5), slow_counts(pred[:, ::2], gt[:, ::2], 5)
    )


def test_confusion_matrix_ignore_index_none_and_in_range():
    gt = np.array([0, 1, 2, 2])
    pred = np.array([0, 2, 2, 1])
    assert confusion_matrix(pred, gt, 3, ignore_index=None).tolist() == [
        [1, 0, 0],
        [0, 0, 1],
        [0, 1, 1],
    ]
    # an ignore index inside the class range just drops that class's ground truth
    assert confusion_matrix(pred, gt, 3, ignore_index=2).tolist() == [
        [1, 0, 0],
        [0, 0, 1],
        [0, 0, 0],
    ]


def test_confusion_matrix_empty_and_all_ignored():
    assert confusion_matrix(np.zeros((0, 4), int), np.zeros((0, 4), int), 3).sum() == 0
    cm = confusion_matrix(np.zeros((2, 2), int), np.full((2, 2), 255), 3)
    assert cm.sum() == 0
    assert math.isnan(mean_iou(cm))


@settings(max_examples=40, deadline=None)
@given(label_maps(3), label_maps(3))
def test_matrices_add_up_across_images(a, b):
    (pa, ga), (pb, gb) = a, b
    whole = np.concatenate([pa.ravel(), pb.ravel()]), np.concatenate([ga.ravel(), gb.ravel()])
    np.testing.assert_array_equal(
        confusion_matrix(*whole, 3), confusion_matrix(pa, ga, 3) + confusion_matrix(pb, gb, 3)
    )


@settings(max_examples=40, deadline=None)
@given(label_maps(4), st.integers(0, 3))
def test_ignored_pixels_do_not_count(pair, other):
    pred, gt = pair
    changed = pred.copy()
    changed[gt == IGNORE] = other  # whatever the model says there
    cm = confusion_matrix(changed, gt, 4)
    np.testing.assert_array_equal(cm, confusion_matrix(pred, gt, 4))
    keep = gt != IGNORE
    np.testing.assert_array_equal(cm, confusion_matrix(pred[keep], gt[keep], 4))
    assert cm.sum() == keep.sum()


# ---- scores -------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(label_maps(4))
def test_scores_match_slow_reference(pair):
    pred, gt = pair
    ref = slow_scores(pred, gt, 4)
    s = scores(confusion_matrix(pred, gt, 4))
    for name in ("iou", "acc", "dice"):
        np.testing.assert_allclose(getattr(s, name), ref[name], rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(
        [s.miou, s.macc, s.mdice, s.aacc, s.kappa],
        [nanmean(ref["iou"]), nanmean(ref["acc"]), nanmean(ref["dice"]), ref["aacc"], ref["kappa"]],
        rtol=1e-12,
        equal_nan=True,
    )


def test_scores_hand_worked():
    # rows = gt, cols = pred; class 2 appears only as a wrong prediction, class 3 nowhere
    cm = np.array([[3, 1, 0, 0], [0, 2, 2, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_allclose(iou_per_class(cm), [3 / 4, 2 / 5, 0.0, math.nan])
    assert mean_iou(cm) == pytest.approx((3 / 4 + 2 / 5 + 0) / 3)
    np.testing.assert_allclose(class_accuracy(cm), [3 / 4, 2 / 4, math.nan, math.nan])
    assert mean_accuracy(cm) == pytest.approx((3 / 4 + 1 / 2) / 2)
    assert pixel_accuracy(cm) == pytest.approx(5 / 8)
    np.testing.assert_allclose(dice_per_class(cm), [6 / 7, 4 / 7, 0.0, math.nan])
    assert mean_dice(cm) == pytest.approx((6 / 7 + 4 / 7) / 3)
    po, pe = 5 / 8, (4 * 3 + 4 * 3 + 0 * 2) / 64
    assert kappa(cm) == pytest.approx((po - pe) / (1 - pe))


def test_mean_iou_is_from_the_summed_matrix_not_per_image():
    gt_a, pred_a = np.array([0, 0, 0, 1]), np.array([0, 0, 0, 0])  # IoU 0.75, 0
    gt_b, pred_b = np.array([1, 1]), np.array([1, 1])  # class 1 perfect (class 0 absent)
    cm = confusion_matrix(pred_a, gt_a, 2) + confusion_matrix(pred_b, gt_b, 2)
    assert mean_iou(cm) == pytest.approx((3 / 4 + 2 / 3) / 2)
    per_image = (
        mean_iou(confusion_matrix(pred_a, gt_a, 2)) + mean_iou(confusion_matrix(pred_b, gt_b, 2))
    ) / 2
    assert per_image == pytest.approx((3 / 8 + 1) / 2)
    assert mean_iou(cm) != pytest.approx(per_image)


@settings(max_examples=50, deadline=None)
@given(label_maps(5))
def test_iou_between_zero_and_one(pair):
    iou = iou_per_class(confusion_matrix(*pair, 5))
    present = ~np.isnan(iou)
    assert np.all((iou[present] >= 0) & (iou[present] <= 1))


@settings(max_examples=40, deadline=None)
@given(label_maps(5, batch=False))
def test_perfect_prediction_scores_one(pair):
    _, gt = pair
    pred = np.where(gt == IGNORE, 0, gt)
    s = scores(confusion_matrix(pred, gt, 5))
    present = np.isin(np.arange(5), gt)
    np.testing.assert_array_equal(s.iou[present], 1.0)
    assert np.isnan(s.iou[~present]).all()
    if present.any():
        assert s.miou == s.macc == s.aacc == s.mdice == 1.0


@settings(max_examples=40, deadline=None)
@given(label_maps(5), st.permutations(range(5)))
def test_permuting_class_ids_permutes_iou(pair, perm):
    pred, gt = pair
    lut = np.array(perm)
    gt_p = np.where(gt == IGNORE, IGNORE, lut[np.minimum(gt, 4)])
    iou = iou_per_class(confusion_matrix(pred, gt, 5))
    iou_p = iou_per_class(confusion_matrix(lut[pred], gt_p, 5))
    np.testing.assert_array_equal(iou_p[lut], iou)


def test_kappa_degenerate_and_perfect():
    assert math.isnan(kappa(np.array([[5, 0], [0, 0]])))  # pe == 1
    assert kappa(np.array([[5, 0], [0, 5]])) == 1.0
    assert math.isnan(kappa(np.zeros((3, 3), int)))
    assert math.isnan(pixel_accuracy(np.zeros((3, 3), int)))


def test_seg_scores_frozen_and_read_only():
    s = scores(np.array([[2, 1], [0, 3]]))
    assert isinstance(s, SegScores)
    with pytest.raises(AttributeError):
        s.miou = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        s.iou[0] = 0.0


# ---- bad input ----------------------------------------------------------------------------


def test_shape_mismatch_says_what_was_expected():
    with pytest.raises(InputError) as e:
        confusion_matrix(np.zeros((512, 1024), np.uint8), np.zeros((1024, 2048), np.uint8), 19)
    assert str(e.value) == (
        "expected `gt` of shape (H, W) like `pred` (512, 1024), got (1024, 2048)"
    )
    assert isinstance(e.value, MetricsError) and isinstance(e.value, ValueError)


def test_scores_instead_of_labels_hint_argmax():
    logits = np.zeros((2, 19, 4, 4), np.float32)
    with pytest.raises(InputError, match=r"float32.*logits or probabilities.*argmax\(axis=1\)"):
        confusion_matrix(logits, np.zeros((2, 4, 4), np.uint8), 19)
    with pytest.raises(InputError, match="one more axis than `gt`"):
        confusion_matrix(np.zeros((2, 19, 4, 4), int), np.zeros((2, 4, 4), int), 19)
    with pytest.raises(InputError, match="`gt`, got a float64 array"):
        confusion_matrix(np.zeros((4, 4), int), np.zeros((4, 4)), 19)
    with pytest.raises(InputError, match="dtype <U1"):
        confusion_matrix(np.array(["a"]), np.array([0]), 2)


def test_out_of_range_labels_named_with_counts():
    gt = np.zeros((3, 4, 4), np.int64)
    gt[0, 0, :3] = 19
    gt[1, 1, 0] = -1
    gt[2] = 255
    pred = np.zeros_like(gt)
    pred[1, 2, :2] = 20
    pred[2, 0, 0] = 99  # where gt is ignored: not an error
    with pytest.raises(InputError) as e:
        confusion_matrix(pred, gt, 19)
    msg = str(e.value)
    assert (
        "`gt` has 4 pixels with labels outside [0, 19) other than ignore_index=255: "
        "values [-1, 19]" in msg
    )
    assert (
        "`pred` has 2 pixels where gt is not ignored with labels outside [0, 19): "
        "values [20]" in msg
    )


def test_out_of_range_counted_across_chunks(monkeypatch):
    monkeypatch.setattr(miou, "_CHUNK", 5)
    gt = np.arange(50) % 25
    with pytest.raises(InputError, match=r"`gt` has 10 pixels .*values \[20, 21, 22, 23, 24\]"):
        confusion_matrix(np.zeros(50, int), gt, 20)
    gt = np.arange(30)
    with pytest.raises(InputError, match=r"values \[2, 3, .*, 11\] and 18 more"):
        confusion_matrix(np.zeros(30, int), gt, 2, ignore_index=None)


@pytest.mark.parametrize("k", [0, -3, 2.0, True])
def test_num_classes_checked(k):
    with pytest.raises(InputError, match="num_classes"):
        confusion_matrix(np.zeros(3, int), np.zeros(3, int), k)


def test_score_functions_need_a_square_matrix():
    with pytest.raises(InputError, match=r"square confusion matrix \(K, K\), got shape \(2, 3\)"):
        mean_iou(np.zeros((2, 3)))
