"""Tests of metrics.masks.pixel: MSE / PSNR against loops, and the range guard."""

from __future__ import annotations

import math

import numpy as np
import pytest

from metrics.errors import InputError
from metrics.masks.pixel import mse, psnr


def slow_sq_errors(pred, target):
    """Squared errors per (image, channel), by looping over every value."""
    n, c, h, w = pred.shape
    out = [[[] for _ in range(c)] for _ in range(n)]
    for i in range(n):
        for ch in range(c):
            for y in range(h):
                for x in range(w):
                    d = float(pred[i, ch, y, x]) - float(target[i, ch, y, x])
                    out[i][ch].append(d * d)
    return out


@pytest.fixture
def batch():
    rng = np.random.default_rng(3)
    target = rng.random((3, 2, 5, 4))
    pred = np.clip(target + rng.normal(0, 0.1, target.shape), 0, 1)
    return pred, target


def test_mse_hand_worked():
    pred = np.array([[0.0, 0.5], [1.0, 1.0]])
    target = np.array([[0.0, 0.0], [0.5, 1.0]])
    assert mse(pred, target) == pytest.approx((0.25 + 0.25) / 4)


def test_mse_reductions_match_loops(batch):
    pred, target = batch
    sq = slow_sq_errors(pred, target)
    per_image = [sum(sum(c) for c in img) / sum(len(c) for c in img) for img in sq]
    per_channel = [
        sum(sum(img[ch]) for img in sq) / sum(len(img[ch]) for img in sq) for ch in range(2)
    ]
    every = [v for img in sq for c in img for v in c]
    assert mse(pred, target) == pytest.approx(sum(every) / len(every), rel=1e-12)
    np.testing.assert_allclose(mse(pred, target, reduction="none"), per_image, rtol=1e-12)
    np.testing.assert_allclose(mse(pred, target, reduction="per_channel"), per_channel, rtol=1e-12)
    np.testing.assert_allclose(
        mse(pred[0], target[0], reduction="per_channel"),
        [sum(c) / len(c) for c in sq[0]],
        rtol=1e-12,
    )


def test_uint8_does_not_overflow():
    pred = np.zeros((1, 1, 2, 2), np.uint8)
    target = np.full((1, 1, 2, 2), 255, np.uint8)
    assert mse(pred, target) == 65025.0
    assert mse(target, pred) == 65025.0  # uint8 0 - 255 would wrap to 1


def test_shape_must_match_exactly():
    with pytest.raises(InputError) as e:
        mse(np.zeros((2, 3, 8, 8)), np.zeros((2, 1, 8, 8)))
    assert str(e.value) == (
        "expected `target` of shape (N, C, H, W) like `pred` (2, 3, 8, 8), got (2, 1, 8, 8) "
        "(batch, channels, height and width must all match)"
    )


def test_unit_against_byte_range_is_refused():
    target = np.array([[0, 128], [255, 64]], np.uint8)
    pred = target / 255.0
    with pytest.raises(InputError) as e:
        mse(pred, target)
    msg = str(e.value)
    assert "`pred` looks like a 0–1 image (values 0 to 1)" in msg
    assert "`target` looks like 0–255 (values 0 to 255)" in msg
    assert "rescale=True" in msg
    with pytest.raises(InputError, match=r"looks like a 0–255 image"):
        mse(target, pred)


def test_rescale_when_asked():
    target = np.array([[0, 128], [255, 64]], np.uint8)
    pred = target / 255.0
    assert mse(pred, target, rescale=True) == pytest.approx(0.0, abs=1e-20)
    assert mse(target, pred, rescale=True) == pytest.approx(0.0, abs=1e-20)
    off = (target.astype(float) + 3) / 255.0
    assert mse(off, target, rescale=True) == pytest.approx(9.0)
    assert mse(off, target, data_range=255, rescale=True) == pytest.approx(9.0)
    with pytest.raises(InputError, match="would rescale `target`"):
        mse(off, target, data_range=1.0, rescale=True)


def test_check_range_off_trusts_the_caller():
    pred, target = np.array([0.5, 1.0]), np.array([100.0, 200.0])
    assert mse(pred, target, check_range=False) == pytest.approx((99.5**2 + 199**2) / 2)


def test_same_range_pairs_are_accepted():
    # a 0–1 regression output slightly overshooting, and an all-black 0–1 prediction
    assert mse(np.array([0.0, 1.02]), np.array([0.0, 1.0])) == pytest.approx(0.0002)
    assert mse(np.zeros(3), np.array([0.0, 10.0, 200.0])) == pytest.approx(40100 / 3)
    # standardised data (negative values) has no 0–1/0–255 reading
    assert mse(np.array([-1.5, 2.0]), np.array([-1.0, 40.0])) == pytest.approx((0.25 + 38**2) / 2)


def test_data_range_too_small_for_the_values():
    target = np.array([0.0, 255.0])
    with pytest.raises(InputError, match=r"`pred` spans values 0 to 250.*data_range=1"):
        mse(np.array([0.0, 250.0]), target, data_range=1)
    with pytest.raises(InputError, match="positive finite `data_range`"):
        mse(target, target, data_range=0)


def test_bad_reduction_and_layout():
    x = np.zeros((2, 2))
    with pytest.raises(InputError, match=r"\(N, C, H, W\) batch for reduction='none'"):
        mse(x, x, reduction="none")
    with pytest.raises(InputError, match="per_channel"):
        mse(x, x, reduction="per_channel")
    with pytest.raises(InputError, match="expected reduction"):
        mse(x, x, reduction="sum")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="numeric image in `pred`"):
        mse(np.array(["a"]), np.array([1.0]))


def test_psnr_values():
    target = np.zeros((1, 1, 4, 4), np.uint8)
    pred = target.copy()
    pred[0, 0, 0, :] = 4  # 4 of 16 pixels off by 4 -> MSE 4
    pred = pred.astype(np.float64)
    target = np.full_like(pred, 100.0)
    pred += 100.0
    assert mse(pred, target) == 4.0
    assert psnr(pred, target, data_range=255) == pytest.approx(10 * math.log10(255**2 / 4))
    assert psnr(pred, target) == pytest.approx(10 * math.log10(255**2 / 4))  # 0–255 inferred
    assert psnr(target, target, data_range=255) == math.inf


def test_psnr_mean_of_per_image(batch):
    pred, target = batch
    per_image = psnr(pred, target, data_range=1.0, reduction="none")
    expected = [10 * math.log10(1 / m) for m in mse(pred, target, reduction="none")]
    np.testing.assert_allclose(per_image, expected, rtol=1e-12)
    assert psnr(pred, target) == pytest.approx(np.mean(expected), rel=1e-12)
    assert psnr(pred[0], target[0]) == pytest.approx(expected[0], rel=1e-12)


def test_psnr_needs_a_known_range():
    with pytest.raises(InputError, match="pass data_range"):
        psnr(np.array([-1.0, 3.0]), np.array([-2.0, 0.5]))
