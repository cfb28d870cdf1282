"""Series validation, windows, bucket means and the tidy-table accessor."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.errors import InputError
from metrics.schema import make_table
from metrics.stats.series import as_series, bucket_means, finite, from_table, median, window


def test_as_series_sorts_by_step_stably_and_types() -> None:
    s, v = as_series([30, 10, 20, 10], [3.0, 1.0, 2.0, 1.5])
    assert s.dtype == np.int64 and v.dtype == np.float64
    assert s.tolist() == [10, 10, 20, 30]
    assert v.tolist() == [1.0, 1.5, 2.0, 3.0]


def test_as_series_accepts_integral_floats_only() -> None:
    assert as_series(np.array([1.0, 2.0]), [0.5, 0.6])[0].tolist() == [1, 2]
    with pytest.raises(InputError, match="integer training steps"):
        as_series([1.5, 2.0], [0.5, 0.6])
    with pytest.raises(InputError, match="one length"):
        as_series([1, 2, 3], [0.5, 0.6])
    with pytest.raises(InputError, match="1-D"):
        as_series([[1, 2]], [[0.5, 0.6]])


def test_finite_drops_nan_and_inf_only() -> None:
    s, v = finite([1, 2, 3, 4], [0.1, np.nan, np.inf, 0.4])
    assert s.tolist() == [1, 4] and v.tolist() == [0.1, 0.4]


def test_window_is_inclusive_and_open_ended() -> None:
    steps, vals = [10, 20, 30, 40], [1.0, 2.0, 3.0, 4.0]
    assert window(steps, vals, 20, 30)[0].tolist() == [20, 30]
    assert window(steps, vals, start=25)[0].tolist() == [30, 40]
    assert window(steps, vals, end=10)[1].tolist() == [1.0]


def test_bucket_means_equal_count() -> None:
    x, y = bucket_means(np.arange(1, 11), np.arange(10, dtype=float), 5)
    assert x.tolist() == [1.5, 3.5, 5.5, 7.5, 9.5]
    assert y.tolist() == [0.5, 2.5, 4.5, 6.5, 8.5]
    x, y = bucket_means([1, 2, 3], [1.0, np.nan, 3.0], 10)  # more buckets than points
    assert x.tolist() == [1.0, 3.0] and y.tolist() == [1.0, 3.0]


def test_from_table_picks_metric_split_and_run() -> None:
    table = make_table(
        run=["a", "a", "a", "b"],
        step=[200, 100, 100, 100],
        split=["val", "val", "train", "val"],
        metric=["miou", "miou", "miou", "miou"],
        value=[0.6, 0.5, 0.9, 0.4],
        wall_time=[np.nan] * 4,
    )
    s, v = from_table(table, "miou", "val", run="a")
    assert s.tolist() == [100, 200] and v.tolist() == [0.5, 0.6]
    with pytest.raises(InputError, match="2 runs"):
        from_table(table, "miou", "val")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.floats(-1e300, 1e300), st.sampled_from([0.0, -0.0, 0.5])),
        min_size=1,
        max_size=60,
    )
)
def test_median_is_numpys_bit_for_bit(values: list[float]) -> None:
    x = np.array(values)
    assert median(x) == np.median(x)
    assert x.tolist() == values  # the input is not reordered
    assert math.isnan(median(np.empty(0)))
