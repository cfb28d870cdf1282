"""metrics.stats.kendall against the libraries it stands in for: scipy.stats.theilslopes and
pymannkendall (test-only references; the product does not import them at start-up)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pymannkendall as mk
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from metrics.stats.kendall import mann_kendall, median_slope, theil_sen

values = st.lists(
    st.one_of(st.floats(-1, 1, allow_nan=False), st.sampled_from([0.0, 0.5, 1.0])),  # ties
    min_size=3,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(values, st.sampled_from([0.9, 0.95, 0.99]))
def test_theil_sen_matches_scipy(ys: list[float], confidence: float) -> None:
    x = np.arange(len(ys), dtype=float) * 1000
    got = theil_sen(ys, x, confidence)
    with np.errstate(invalid="ignore"):
        want = stats.theilslopes(ys, x, alpha=confidence)
    for a, b in zip(
        (got.slope, got.intercept, got.low, got.high),
        (want.slope, want.intercept, want.low_slope, want.high_slope),
        strict=True,
    ):
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12, abs=1e-15)


@settings(max_examples=60, deadline=None)
@given(values)
def test_median_slope_is_the_theil_sen_slope(ys: list[float]) -> None:
    x = np.arange(len(ys), dtype=float) * 1000
    assert median_slope(ys, x) == theil_sen(ys, x).slope


@settings(max_examples=150, deadline=None)
@given(values, st.booleans())
def test_mann_kendall_matches_pymannkendall(ys: list[float], hamed_rao: bool) -> None:
    got = mann_kendall(ys, 0.05, hamed_rao=hamed_rao)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        test = mk.hamed_rao_modification_test if hamed_rao else mk.original_test
        want = test(np.asarray(ys))
    if not (math.isfinite(want.p) and want.var_s > 0):
        return  # undefined there; trends.trend falls back to the plain test
    assert got.s == want.s
    assert got.var_s == pytest.approx(want.var_s, rel=1e-9)
    assert got.z == pytest.approx(want.z, rel=1e-9, abs=1e-12)
    assert got.p == pytest.approx(want.p, rel=1e-7, abs=1e-12)
    assert got.trend == want.trend


def test_autocorrelation_makes_the_corrected_test_less_eager() -> None:
    """A random walk: the plain test calls a trend that the Hamed–Rao correction discounts."""
    walk = np.cumsum(np.random.default_rng(2).normal(0, 1, 60))
    plain, corrected = mann_kendall(walk), mann_kendall(walk, hamed_rao=True)
    assert corrected.var_s > plain.var_s and corrected.p > plain.p
