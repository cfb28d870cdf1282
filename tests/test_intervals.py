"""Per-eval-interval means, loss against mIoU, Spearman and the train/val gap."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.stats.intervals import interval_means, loss_vs_metric, spearman, train_val_gap


def test_interval_means_half_open_intervals() -> None:
    steps = np.arange(1, 11)
    means, counts = interval_means(steps, steps.astype(float), [3, 7, 12])
    # (−∞, 3] → 1, 2, 3; (3, 7] → 4…7; (7, 12] → 8, 9, 10
    assert means.tolist() == [2.0, 5.5, 9.0] and counts.tolist() == [3, 4, 3]
    means, counts = interval_means(steps, steps.astype(float), [3, 7])
    assert counts.tolist() == [3, 4]  # 8…10 come after the last eval: no interval


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 50), st.floats(-5, 5) | st.just(math.nan)), max_size=30),
    st.lists(st.integers(0, 60), min_size=1, max_size=6),
)
def test_interval_means_match_a_slow_reference(
    train: list[tuple[int, float]], evals: list[int]
) -> None:
    s = np.array([p[0] for p in train], dtype=np.int64)
    v = np.array([p[1] for p in train], dtype=float)
    e = sorted(evals)
    means, counts = interval_means(s, v, e)
    for j, step in enumerate(e):
        lo = e[j - 1] if j else -math.inf
        picked = [x for k, x in zip(s, v, strict=True) if lo < k <= step and math.isfinite(x)]
        assert counts[j] == len(picked)
        if picked:
            assert means[j] == pytest.approx(np.mean(picked))
        else:
            assert math.isnan(means[j])


def test_interval_means_empty_interval_and_nan() -> None:
    means, counts = interval_means([1, 2, 3, 4], [1.0, np.nan, 3.0, 4.0], [2, 2, 4])
    assert counts.tolist() == [1, 0, 2]
    assert means[0] == 1.0 and math.isnan(means[1]) and means[2] == 3.5


def test_spearman_hand_example() -> None:
    # ranks of y: 1, 2, 3.5, 5, 3.5 → Pearson with 1…5 = 8 / √(10·9.5)
    c = spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])
    assert c.rho == pytest.approx(8 / math.sqrt(95)) and c.n == 5
    c = spearman([1, 2, np.nan, 4], [1, 2, 3, np.inf])
    assert c.n == 2 and math.isnan(c.rho)
    assert math.isnan(spearman([1, 2, 3], [4, 4, 4]).rho)


def test_train_val_gap() -> None:
    gap = train_val_gap([10, 20, 30, 40], [1.0, 0.8, 0.6, 0.4], [20, 40], [0.95, 0.7])
    assert gap["step"].tolist() == [20, 40]
    assert gap["train_loss"].tolist() == pytest.approx([0.9, 0.5])
    assert gap["gap"].tolist() == pytest.approx([0.05, 0.2])


def test_loss_against_miou_on_the_mmseg0x_deeplab_run(public_logs: Path) -> None:
    path = public_logs / "mmseg0x" / "deeplab_voc12_15k.log.json"
    train_steps, loss, val_steps, miou, last = [], [], [], [], 0
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        if rec.get("mode") == "train":
            last = rec["iter"]
            train_steps.append(last)
            loss.append(rec["loss"])
        elif rec.get("mode") == "val":
            val_steps.append(last)
            miou.append(rec["mIoU"])
    frame = loss_vs_metric(train_steps, loss, val_steps, miou)
    assert frame["step"].tolist() == [3000, 6000, 9000, 12000, 15000]
    assert frame["train_n"].tolist() == [60] * 5  # a train line every 50 iters
    assert frame["train_mean"].iloc[0] == pytest.approx(np.mean(loss[:60]))
    assert frame["train_mean"].is_monotonic_decreasing
    c = spearman(frame["train_mean"], frame["value"])
    assert c.rho == pytest.approx(-1.0) and c.n == 5
