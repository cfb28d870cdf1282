"""Trend statistics against hand examples, brute-force references and the real public logs."""

from __future__ import annotations

import itertools
import json
import math
import statistics
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from metrics.errors import InputError
from metrics.stats.trends import best, noise_level, progress, range_stats, recent_gain, trend


def brute_theil_sen(x: np.ndarray, y: np.ndarray) -> float:
    """Median of all pairwise slopes over pairs with distinct x (Sen 1968)."""
    slopes = [
        (y[j] - y[i]) / (x[j] - x[i])
        for i, j in itertools.combinations(range(len(x)), 2)
        if x[j] != x[i]
    ]
    return float(np.median(slopes))


def brute_hamed_rao_p(y: np.ndarray) -> float:
    """Hamed & Rao (1998) from the paper, written independently of pymannkendall.

    S and Var(S) (no ties here); detrend by the Sen slope per index; ranks of the residuals;
    their lag-k autocorrelations, keeping those outside ±1.96/√n; Var(S)·n/n*.
    """
    n = len(y)
    s = sum(np.sign(y[j] - y[i]) for i, j in itertools.combinations(range(n), 2))
    var = n * (n - 1) * (2 * n + 5) / 18
    idx = np.arange(1, n + 1, dtype=float)
    r = stats.rankdata(y - brute_theil_sen(idx, y) * idx)
    r = r - r.mean()
    total = 0.0
    for k in range(1, n):
        rho = float(np.sum(r[:-k] * r[k:]) / np.sum(r * r))
        if abs(rho) > 1.959963984540054 / math.sqrt(n):
            total += (n - k) * (n - k - 1) * (n - k - 2) * rho
    var *= 1 + 2 / (n * (n - 1) * (n - 2)) * total
    z = (s - np.sign(s)) / math.sqrt(var)
    return float(2 * stats.norm.sf(abs(z)))


# --- range table -------------------------------------------------------------------------


def test_range_stats_hand_example() -> None:
    r = range_stats([10, 20, 30, 40, 50], [2.0, 1.0, 4.0, 1.0, 3.0])
    assert (r.n, r.start_step, r.end_step, r.start_value, r.end_value) == (5, 10, 50, 2.0, 3.0)
    assert (r.min, r.min_step, r.max, r.max_step) == (1.0, 20, 4.0, 30)  # first minimum kept
    assert r.mean == pytest.approx(2.2)
    assert (r.change, r.pct_change) == (1.0, 50.0)


def test_range_stats_window_nan_and_zero_start() -> None:
    r = range_stats([10, 20, 30, 40, 50], [2.0, 1.0, 4.0, np.nan, 3.0], start=20, end=40)
    assert (r.n, r.start_step, r.end_step, r.mean, r.change, r.pct_change) == (
        2,
        20,
        30,
        2.5,
        3.0,
        300.0,
    )
    assert math.isnan(range_stats([1, 2], [0.0, 1.0]).pct_change)
    with pytest.raises(InputError, match="no finite value"):
        range_stats([1, 2], [0.0, 1.0], start=5)


# --- noise, best, recent gain --------------------------------------------------------------


def noise_reference(values, steps=None) -> float:
    """Slow reference: each inner point against the line through its neighbours, scaled to σ."""
    v = [x for x in values if math.isfinite(x)]
    s = (
        list(range(len(v)))
        if steps is None
        else [t for t, x in zip(steps, values, strict=True) if math.isfinite(x)]
    )
    resid = []
    for i in range(1, len(v) - 1):
        a = (s[i + 1] - s[i]) / (s[i + 1] - s[i - 1])  # weight of the left neighbour
        b = 1 - a
        resid.append((v[i] - a * v[i - 1] - b * v[i + 1]) / math.sqrt(1 + a * a + b * b))
    mid = statistics.median(resid)
    return 1.4826 * statistics.median(abs(r - mid) for r in resid)


def test_noise_level_hand_example() -> None:
    # residuals from the neighbours' midpoint: -0.5, 0.5, -1, 1 (÷√1.5); median 0, MAD 0.75/√1.5
    assert noise_level([0, 1, 3, 4, 7, 8]) == pytest.approx(1.4826 * 0.75 / math.sqrt(1.5))
    assert math.isnan(noise_level([1.0, np.nan, 2.0]))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1, 1, allow_nan=False), min_size=3, max_size=40),
    st.lists(st.integers(1, 5), min_size=40, max_size=40),
)
def test_noise_level_matches_the_reference(values: list[float], gaps: list[int]) -> None:
    steps = np.cumsum(gaps[: len(values)])
    assert noise_level(values, steps) == pytest.approx(noise_reference(values, steps), abs=1e-12)


CURVES = {  # rising curves on x in (0, 1]: what mIoU does over a run
    "saturating": lambda x: 0.7 * (1 - np.exp(-x / 0.25)),
    "power-law": lambda x: 0.75 - 0.3 * (x + 0.02) ** -0.5 * 0.2,
    "logarithmic": lambda x: 0.2 + 0.1 * np.log1p(30 * x),
    "linear": lambda x: 0.3 + 0.3 * x,
}


@pytest.mark.parametrize("shape", sorted(CURVES))
@pytest.mark.parametrize("sigma", [0.002, 0.005, 0.02])
def test_noise_level_recovers_the_scatter_of_trending_curves(shape: str, sigma: float) -> None:
    """The trend does not inflate the noise: within ±30 % of the true σ (median of 200 runs of
    30 evals; successive differences gave 2–4× σ on saturating curves)."""
    x = np.arange(1, 31) / 30
    curve = CURVES[shape](x)
    rng = np.random.default_rng(7)
    estimates = [noise_level(curve + rng.normal(0, sigma, x.size)) for _ in range(200)]
    assert float(np.median(estimates)) == pytest.approx(sigma, rel=0.3)


def test_successive_differences_would_fail_that_test() -> None:
    """The oracle can fail: the old estimator (MAD of successive differences / √2) is off by
    more than 30 % on a saturating curve with small scatter."""
    x = np.arange(1, 31) / 30
    rng = np.random.default_rng(7)
    v = CURVES["saturating"](x) + rng.normal(0, 0.002, x.size)
    d = np.diff(v)
    old = 1.4826 * np.median(np.abs(d - np.median(d))) / math.sqrt(2)
    assert old > 1.3 * 0.002 and noise_level(v) < 1.3 * 0.002


def test_a_slow_rise_is_seen_over_the_last_third() -> None:
    """A linear rise of 0.3 σ per eval over 30 evals: the last 5 evals alone can rarely tell it
    from noise, the last third (10 evals) mostly can, and the run is mostly "improving"."""
    steps = np.arange(1, 31) * 1000
    recent_only = improving = 0
    for seed in range(100):
        rng = np.random.default_rng(seed)
        p = progress(steps, 0.5 + 0.003 * np.arange(30) + rng.normal(0, 0.01, 30), "max")
        assert [sp.evals for sp in p.spans] == [5, 10]
        recent_only += p.spans[0].significant
        improving += p.status == "improving"
    assert recent_only <= 30 and improving >= 60


def test_two_spans_share_the_false_alarm_level() -> None:
    """With two spans each is judged at z' = Φ⁻¹(1 − 0.05/2) = 1.96, not 1.645."""
    rng = np.random.default_rng(5)
    steps = np.arange(1, 31) * 1000
    p = progress(steps, 0.6 + rng.normal(0, 0.01, 30), "max")
    one = p.spans[0]
    z2 = statistics.NormalDist().inv_cdf(1 - statistics.NormalDist().cdf(-1.645) / 2)
    assert z2 == pytest.approx(1.96, abs=1e-3)
    expected = z2 * 1.1 * math.sqrt(12 * 4 / (5 * 6)) * p.noise
    assert one.threshold == pytest.approx(expected, rel=1e-5)


def test_a_fresh_plateau_after_a_steep_rise_is_a_plateau() -> None:
    """Rising 1 σ... 3 σ per eval for 25 evals, then flat for 5: the last third still shows the
    rise, but the recent evals fall clearly short of it: a plateau, flagged at once."""
    rng = np.random.default_rng(11)
    rise = 0.3 + 0.02 * np.arange(25)
    miou = np.r_[rise, np.full(5, rise[-1])] + rng.normal(0, 0.005, 30)
    p = progress(np.arange(1, 31) * 1000, miou, "max")
    assert p.spans[1].significant
    assert p.status == "plateau"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-1, 1, allow_nan=False), min_size=5, max_size=40),
    st.floats(-10, 10, allow_nan=False),
)
def test_noise_level_ignores_a_linear_trend(noise: list[float], slope: float) -> None:
    v = np.asarray(noise)
    trended = v + slope * np.arange(len(v))
    assert noise_level(trended) == pytest.approx(noise_level(v), abs=1e-9)


def test_noise_level_estimates_white_noise_sd() -> None:
    v = np.random.default_rng(3).normal(0.0, 0.02, 4000) + np.linspace(0.3, 0.6, 4000)
    assert noise_level(v) == pytest.approx(0.02, rel=0.05)


def test_best_first_occurrence_and_drop() -> None:
    b = best([1, 2, 3, 4, 5], [0.5, 0.7, 0.6, 0.7, 0.65], "max")
    assert (b.value, b.step, b.index, b.evals_since, b.last) == (0.7, 2, 1, 3, 0.65)
    assert b.drop == pytest.approx(0.05)
    b = best([1, 2, 3, 4, 5], [0.5, 0.7, 0.6, 0.7, 0.65], "min")
    assert (b.value, b.step, b.evals_since) == (0.5, 1, 4)
    assert b.drop == pytest.approx(0.15)


def test_recent_gain() -> None:
    v = [0.5, 0.7, 0.6, 0.72, 0.65]
    assert recent_gain(v, 2, "max") == pytest.approx(0.02)
    assert recent_gain(v, 2, "min") == pytest.approx(0.5 - 0.65)
    assert math.isnan(recent_gain(v, 5))


# --- Theil–Sen and Mann–Kendall ------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 10_000), st.floats(-100, 100, allow_nan=False)),
        min_size=3,
        max_size=30,
    )
)
def test_theil_sen_equals_brute_force_median(points: list[tuple[int, float]]) -> None:
    x = np.array([p[0] for p in points])
    y = np.array([p[1] for p in points])
    if len(np.unique(x)) < 2:
        return
    s, v = x[np.argsort(x, kind="stable")], y[np.argsort(x, kind="stable")]
    assert trend(x, y).slope == pytest.approx(brute_theil_sen(s, v), rel=1e-9, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(
    slope=st.floats(-1e-3, 1e-3),
    seed=st.integers(0, 2**16),
    where=st.sampled_from([0, 1, 2, 3, 4, 25, 26, 27, 28, 29]),
    size=st.floats(200, 1e4),
)
def test_theil_sen_resists_one_outlier_least_squares_does_not(
    slope: float, seed: int, where: int, size: float
) -> None:
    x = np.arange(30) * 100
    y = 0.5 + slope * x + np.random.default_rng(seed).normal(0, 0.01, 30)
    bad = y.copy()
    bad[where] += size * 0.01
    ts_shift = abs(trend(x, bad).slope - trend(x, y).slope)
    ls_shift = abs(np.polyfit(x, bad, 1)[0] - np.polyfit(x, y, 1)[0])
    assert ts_shift < 0.1 * ls_shift
    assert ts_shift < 2e-5  # a few noise-sized pairwise slopes (0.01 / 100 steps × ~0.2)
    worse = y.copy()
    worse[where] += 10 * size * 0.01  # a 10× bigger outlier moves least squares 10× more…
    assert trend(x, worse).slope == trend(x, bad).slope  # …and Theil–Sen not at all


def test_trend_ci_and_hamed_rao_against_the_paper() -> None:
    rng = np.random.default_rng(11)
    e = np.zeros(40)
    for i in range(1, 40):
        e[i] = 0.7 * e[i - 1] + rng.normal(0, 0.01)
    y = 0.4 + 0.002 * np.arange(40) + e
    t = trend(np.arange(40) * 500, y)
    assert t.mk_method == "hamed_rao"
    assert t.mk_p == pytest.approx(brute_hamed_rao_p(y), rel=1e-9)
    assert t.slope_low < t.slope < t.slope_high
    assert t.slope == pytest.approx(brute_theil_sen(np.arange(40) * 500.0, y))


def test_hamed_rao_is_less_eager_than_plain_mk_on_autocorrelated_noise() -> None:
    """On trendless AR(1) noise the plain test cries "trend" often; the correction less so."""
    n, plain, corrected = 60, 0, 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        e = np.zeros(n)
        for i in range(1, n):
            e[i] = 0.8 * e[i - 1] + rng.normal(0, 0.01)
        s = np.sign(e[None, :] - e[:, None])[np.triu_indices(n, 1)].sum()
        plain += 2 * stats.norm.sf((abs(s) - 1) / math.sqrt(n * (n - 1) * (2 * n + 5) / 18)) < 0.05
        corrected += trend(np.arange(n), e).mk_p < 0.05
    assert corrected < 0.75 * plain


def test_trend_falls_back_when_the_correction_is_undefined() -> None:
    t = trend(np.arange(10) * 100, np.arange(10) * 0.5)  # detrended: all tied, ACF 0/0
    assert (t.mk_method, t.mk_trend) == ("original", "increasing")
    assert t.mk_p == pytest.approx(2 * stats.norm.sf(44 / math.sqrt(10 * 9 * 25 / 18)))
    assert t.slope == pytest.approx(0.5 / 100)


def test_trend_too_few_and_bucketing() -> None:
    t = trend([1, 2], [0.1, 0.2])
    assert (t.mk_trend, t.n) == ("too few", 2) and math.isnan(t.slope)
    x = np.arange(5000)
    y = 1e-3 * x + np.random.default_rng(0).normal(0, 0.5, 5000)
    t = trend(x, y, max_points=200)
    assert (t.n, t.n_used, t.mk_trend) == (5000, 200, "increasing")
    assert t.slope == pytest.approx(1e-3, rel=0.02)


# --- progress verdict, on hand data and on the real logs ------------------------------------


def test_progress_too_few_and_worsening() -> None:
    assert progress([1, 2, 3], [0.1, 0.2, 0.3]).status == "too few"
    steps = np.arange(1, 11) * 1000
    falling = [0.60, 0.61, 0.62, 0.63, 0.64, 0.62, 0.60, 0.58, 0.56, 0.54]
    p = progress(steps, falling)
    assert p.status == "worsening" and p.gain == pytest.approx(-0.08)
    assert progress(steps, falling, "min").status == "improving"


def mmseg1x_miou(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(step, mIoU fraction) of an mmengine scalars.json: val lines carry mIoU in percent."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    val = [r for r in rows if "mIoU" in r]
    return np.array([r["step"] for r in val]), np.array([r["mIoU"] for r in val]) / 100


def mmseg0x_miou(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(step, mIoU) of an MMSeg 0.x log.json: a val line belongs to the train iter before it."""
    steps, miou, last_iter = [], [], 0
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        if rec.get("mode") == "train":
            last_iter = rec["iter"]
        elif rec.get("mode") == "val":
            steps.append(last_iter)
            miou.append(rec["mIoU"])
    return np.array(steps), np.array(miou)


def test_plateau_on_the_deeplabv3_wta_run(public_logs: Path) -> None:
    steps, miou = mmseg1x_miou(public_logs / "mmseg1x" / "deeplabv3_wta_40k_scalars.json")
    assert steps.tolist() == list(range(4000, 40001, 4000))
    p = progress(steps, miou, "max")
    assert p.noise == pytest.approx(noise_reference(miou, steps), rel=1e-9)
    # last 5 evals: median pairwise slope 0.0023875 per eval × 4 evals
    assert p.gain == pytest.approx(0.00955, rel=1e-6)
    assert len(p.spans) == 1  # a third of 10 evals is shorter than the 5-eval window
    assert p.status == "plateau" and p.gain < p.threshold
    assert (p.best.value, p.best.step, p.best.evals_since) == (0.5756, 32000, 2)
    assert trend(steps, miou).mk_trend == "increasing"  # over the whole run it did rise


def test_still_improving_on_the_mmseg0x_deeplab_run(public_logs: Path) -> None:
    steps, miou = mmseg0x_miou(public_logs / "mmseg0x" / "deeplab_voc12_15k.log.json")
    assert steps.tolist() == [3000, 6000, 9000, 12000, 15000]
    assert miou.tolist() == [0.4917, 0.5622, 0.6169, 0.6789, 0.7000]
    p = progress(steps, miou, "max")
    assert p.noise == pytest.approx(noise_reference(miou, steps), rel=1e-9)
    assert p.gain == pytest.approx(4 * (0.0547 + 0.05835) / 2, rel=1e-6)
    assert p.status == "improving"
    assert p.best.evals_since == 0
