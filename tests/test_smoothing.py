"""Tests of metrics.stats.smoothing: TensorBoard's own vectors, loop references, causality."""

from __future__ import annotations

import decimal
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import lfilter

from metrics.errors import InputError
from metrics.stats.smoothing import (
    _sorted_rolling_median,
    ema,
    ema_by_step,
    rolling_mean,
    rolling_median,
    tensorboard_weight,
)

INF, NAN = math.inf, math.nan


def tensorboard_loop(values, weight):
    """TensorBoard's classicSmoothing loop (data_transformer.ts), point by point."""
    w = 0.0 if not math.isfinite(weight) else min(max(weight, 0.0), 1.0)
    last, n, out = 0.0, 0, []
    for v in values:
        if not math.isfinite(v):
            out.append(v)
            continue
        last = last * w + (1 - w) * v
        n += 1
        out.append(last / (1 if w == 1 else 1 - w**n))
    return out


def step_reference(values, steps, half_life):
    """Direct O(n²) sum of 2**(-(s_i - s_k)/h)-weighted finite points."""
    out = []
    for i, v in enumerate(values):
        if not math.isfinite(v):
            out.append(v)
            continue
        ks = [k for k in range(i + 1) if math.isfinite(values[k])]
        wts = [2.0 ** (-(steps[i] - steps[k]) / half_life) for k in ks]
        out.append(sum(wt * values[k] for wt, k in zip(wts, ks, strict=True)) / sum(wts))
    return out


def rolling_reference(values, window, fn):
    finite = [v for v in values if math.isfinite(v)]
    res, j = [], 0
    for v in values:
        if math.isfinite(v):
            res.append(fn(finite[max(0, j - window + 1) : j + 1]))
            j += 1
        else:
            res.append(v)
    return res


series = st.lists(
    st.one_of(
        st.floats(-1e6, 1e6, allow_nan=False),
        st.sampled_from([NAN, INF, -INF]),
    ),
    max_size=40,
)


# ---- ema: TensorBoard's own test vectors (data_transformer_test.ts) ------------------------


def test_tensorboard_smooths_series():
    np.testing.assert_array_equal(
        ema([1, 0.5, 0], 0.6), [1, 0.6875, ((0.5 * 0.4 + 0.4 * 1 * 0.6) * 0.6) / (1 - 0.6**3)]
    )
    assert ema([1, 0.5, 0], 0.6)[2] == pytest.approx(0.33673, abs=1e-5)
    np.testing.assert_array_equal(
        ema([0, 0.5, 1], 0.6), [0, 0.3125, (1 * 0.4 + 0.5 * 0.4 * 0.6) / (1 - 0.6**3)]
    )
    assert ema([], 0.6).size == 0


def test_tensorboard_weight_zero_does_not_smooth():
    np.testing.assert_array_equal(ema([1, 0.5, 0], 0.0), [1, 0.5, 0])


def test_tensorboard_non_finite_pass_through():
    np.testing.assert_array_equal(ema([-INF, 1, NAN, INF, 0.5], 0.6), [-INF, 1, NAN, INF, 0.6875])


def test_tensorboard_weight_one_gives_zero():
    np.testing.assert_array_equal(ema([1, 0.5, 0], 1.0), [0, 0, 0])
    np.testing.assert_array_equal(ema([NAN, 1, INF, 0], 1.0), [NAN, 0, INF, 0])
    np.testing.assert_array_equal(ema([0.3, NAN, 0.3], 1.0), [0.3, NAN, 0.3])  # constant


def test_tensorboard_constant_has_no_noise():
    np.testing.assert_array_equal(ema([0.3, 0.3, 0.3], 0.1), [0.3, 0.3, 0.3])


@pytest.mark.parametrize("weight", [NAN, -1, -INF, INF])
def test_tensorboard_weight_clipped_to_zero(weight):
    assert tensorboard_weight(weight) == 0.0
    np.testing.assert_array_equal(ema([1, 0.5], weight), [1, 0.5])


def test_tensorboard_weight_above_one_clipped_to_one():
    np.testing.assert_array_equal(ema([1, 0.5], 2), [0, 0])


# ---- ema: against the loop, properties ----------------------------------------------------


def exact_ema(values, weight):
    """TensorBoard's smoothing in 50-digit decimal arithmetic: a reference with no rounding
    error worth the name (the float inputs are converted exactly)."""
    with decimal.localcontext(decimal.Context(prec=50)):
        w = decimal.Decimal(weight)
        last, wn, out = decimal.Decimal(0), decimal.Decimal(1), []
        for v in values:
            if not math.isfinite(v):
                out.append(v)
                continue
            last = last * w + (1 - w) * decimal.Decimal(v)
            wn *= w
            out.append(float(last / (1 - wn)))
    return np.array(out)


EPS = np.finfo(np.float64).eps


def recursion_tol(weight: float, x: np.ndarray) -> np.ndarray:
    """The absolute error float64 rounding allows ``ema`` at each point: each step of ``last =
    last*w + (1-w)*v`` rounds by ~2 eps of the data's scale, and an error fades by w per point,
    so at the n-th finite point about min(n, 1/(1-w)) of them add up (the debias divide keeps
    that scale); times 4 for margin."""
    finite = np.isfinite(x)
    n = np.cumsum(finite).astype(np.float64)
    memory = n if weight >= 1 else np.minimum(n, 1 / (1 - weight))
    return 8 * EPS * np.maximum(1.0, memory) * float(np.abs(x[finite]).max())


def assert_within(got: np.ndarray, want: np.ndarray, tol: np.ndarray) -> None:
    """Equal non-finite points, finite ones within ``tol`` (per point) of each other."""
    np.testing.assert_array_equal(np.isfinite(got), np.isfinite(want))
    fin = np.isfinite(want)
    np.testing.assert_array_equal(got[~fin], want[~fin])
    err = np.abs(got[fin] - want[fin])
    worst = int(np.argmax(err / np.broadcast_to(tol, got.shape)[fin]))
    assert np.all(err <= np.broadcast_to(tol, got.shape)[fin]), (worst, err[worst])


RANDOM_WEIGHTS = [0.0, 0.3, 0.6, 0.9, 0.99, 0.999, 0.99999]


def random_series(n: int = 20_000) -> np.ndarray:
    rng = np.random.default_rng(4)
    x = rng.normal(5, 3, n)
    x[rng.random(x.size) < 0.01] = NAN
    x[rng.random(x.size) < 0.005] = INF
    return x


@pytest.mark.parametrize("weight", RANDOM_WEIGHTS)
def test_ema_matches_exact_reference_on_random_data(weight):
    x = random_series()
    got, want = ema(x, weight), exact_ema(x.tolist(), weight)
    assert_within(got, want, recursion_tol(weight, x))


@pytest.mark.parametrize("weight", RANDOM_WEIGHTS)
def test_ema_matches_tensorboard_loop_on_random_data(weight):
    """Equal to TensorBoard's loop within the loop's own error: its ``1 - w**n`` cancels, so a
    1-ulp error in ``w**n`` becomes eps / (1 - w**n) relative, at most eps / (1 - w)."""
    x = random_series()
    got, want = ema(x, weight), np.array(tensorboard_loop(x.tolist(), weight))
    scale = float(np.abs(x[np.isfinite(x)]).max())
    tol = recursion_tol(weight, x) + 4 * EPS / (1 - weight) * scale  # worst case (n = 2)
    assert_within(got, want, tol)


def test_exact_reference_catches_a_cancelling_debias():
    """The reference is sharp enough to fail ``1 - w**n`` where it cancels, at w = 0.99999."""
    w, x = 0.99999, random_series(3000)
    finite = x[np.isfinite(x)]
    powers = w ** np.arange(1, finite.size + 1)
    naive = lfilter([1 - w], [1, -w], finite) / (1 - powers * (1 + EPS))  # w**n 1 ulp off
    want = exact_ema(finite.tolist(), w)
    assert np.any(np.abs(naive - want) > recursion_tol(w, finite))


@settings(max_examples=60, deadline=None)
@given(series, st.floats(0, 1))
def test_ema_matches_loop_property(values, weight):
    got = ema(values, weight)
    want = tensorboard_loop(values, weight)
    if len(set(v for v in values if math.isfinite(v))) > 1:  # not the exact-constant case
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6, equal_nan=True)


@settings(max_examples=60, deadline=None)
@given(st.floats(-1e9, 1e9, allow_nan=False), st.integers(1, 50), st.floats(0, 1), series)
def test_ema_of_constant_is_the_constant(c, n, weight, noise):
    values = [c] * n
    np.testing.assert_array_equal(ema(values, weight), values)
    # non-finite points in between do not matter
    mixed = [v if not math.isfinite(v) else c for v in noise] + values
    got = ema(mixed, weight)
    finite = np.isfinite(mixed)
    assert np.all(got[finite] == c)
    np.testing.assert_array_equal(got[~finite], np.array(mixed)[~finite])


@settings(max_examples=60, deadline=None)
@given(series, series, st.floats(0, 1, exclude_max=True))
def test_ema_is_causal(head, tail, weight):
    np.testing.assert_array_equal(ema(head + tail, weight)[: len(head)], ema(head, weight))


# ---- step-aware ema -----------------------------------------------------------------------


@pytest.mark.parametrize("half_life", [0.3, 1.0, 7.0, 1000.0])
def test_ema_by_step_on_unit_steps_is_tensorboard_ema(half_life):
    x = np.random.default_rng(5).normal(size=500)
    np.testing.assert_allclose(
        ema_by_step(x, np.arange(500), half_life),
        ema(x, 2 ** (-1 / half_life)),
        rtol=1e-10,
        atol=1e-12,
    )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 10_000), st.floats(-1e3, 1e3)), min_size=1, max_size=40),
    st.sampled_from([0.5, 3.0, 50.0, 1e5]),
)
def test_ema_by_step_matches_direct_sum(pairs, half_life):
    steps = sorted(s for s, _ in pairs)  # repeated steps allowed
    values = [v for _, v in pairs]
    np.testing.assert_allclose(
        ema_by_step(values, steps, half_life),
        step_reference(values, steps, half_life),
        rtol=1e-9,
        atol=1e-9,
    )


def test_ema_by_step_long_irregular_series():
    rng = np.random.default_rng(6)
    steps = np.cumsum(rng.integers(1, 500, 300)).astype(float)
    values = rng.normal(size=300)
    values[::37] = NAN
    got = ema_by_step(values, steps, 20.0)  # spans hundreds of rebased blocks
    np.testing.assert_allclose(
        got,
        step_reference(values.tolist(), steps.tolist(), 20.0),
        rtol=1e-9,
        atol=1e-12,
        equal_nan=True,
    )


@settings(max_examples=40, deadline=None)
@given(series, series, st.floats(0.1, 100))
def test_ema_by_step_is_causal(head, tail, half_life):
    values = head + tail
    steps = np.arange(len(values)) * 3.0
    whole = ema_by_step(values, steps, half_life)
    np.testing.assert_array_equal(
        whole[: len(head)], ema_by_step(head, steps[: len(head)], half_life)
    )


def test_ema_by_step_bad_input():
    with pytest.raises(InputError, match="non-decreasing `steps`"):
        ema_by_step([1, 2, 3], [0, 2, 1], 5)
    with pytest.raises(InputError, match="half_life"):
        ema_by_step([1, 2], [0, 1], 0)
    with pytest.raises(InputError, match=r"`steps` of shape \(2,\)"):
        ema_by_step([1, 2], [0, 1, 2], 1)


# ---- rolling mean / median ----------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(series, st.integers(1, 6))
def test_rolling_match_trailing_window_loops(values, window):
    np.testing.assert_allclose(
        rolling_mean(values, window),
        rolling_reference(values, window, lambda w: sum(w) / len(w)),
        rtol=1e-9,
        atol=1e-6,
        equal_nan=True,
    )
    np.testing.assert_allclose(
        rolling_median(values, window),
        rolling_reference(values, window, lambda w: float(np.median(w))),
        rtol=1e-12,
        equal_nan=True,
    )


def test_rolling_median_sorted_windows_equal_pandas():
    """Short series sort every window at once; long ones go to pandas: the same numbers bit for
    bit (ties, even and odd windows, magnitudes near overflow and underflow), on either side."""
    rng = np.random.default_rng(3)
    for n, w in [(1, 1), (2, 5), (7, 3), (50, 4), (310, 6), (1000, 20), (1800, 36), (3000, 60)]:
        ties = np.round(rng.standard_normal(n), 1) * 10.0 ** rng.integers(-300, 300)
        spread = rng.standard_normal(n) * 10.0 ** rng.integers(-300, 300, n)
        for x in (ties, spread):
            want = pd.Series(x).rolling(w, min_periods=1).median().to_numpy()
            np.testing.assert_array_equal(_sorted_rolling_median(x, w), want)
            np.testing.assert_array_equal(rolling_median(x, w), want)


def test_rolling_hand_worked():
    np.testing.assert_array_equal(rolling_mean([1, 2, NAN, 3, 10], 2), [1, 1.5, NAN, 2.5, 6.5])
    np.testing.assert_array_equal(rolling_median([5, 1, 4, INF, 2], 3), [5, 3, 4, INF, 2])


@settings(max_examples=40, deadline=None)
@given(series, series, st.integers(1, 8))
def test_rolling_is_causal(head, tail, window):
    for fn in (rolling_mean, rolling_median):
        np.testing.assert_array_equal(fn(head + tail, window)[: len(head)], fn(head, window))


def test_bad_series_and_window():
    with pytest.raises(InputError, match="1-D series"):
        ema(np.zeros((2, 2)))
    with pytest.raises(InputError, match="window"):
        rolling_mean([1.0], 0)
    with pytest.raises(InputError, match="numbers"):
        rolling_median(["a"], 2)


def test_ema_by_step_at_large_step_numbers():
    # exponents come from step differences, so an offset of 1e12 steps changes nothing
    rng = np.random.default_rng(7)
    steps = np.cumsum(rng.integers(0, 5, 200)).astype(float)
    values = rng.normal(size=200)
    np.testing.assert_allclose(
        ema_by_step(values, steps + 1e12, 3.0), ema_by_step(values, steps, 3.0), rtol=1e-13
    )
