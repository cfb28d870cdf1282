"""Rule replays hand-traced against the libraries' source (torch is not installed on purpose).

Each expected result is traced by hand in the comments, one eval at a time, following
torch/optim/lr_scheduler.py (ReduceLROnPlateau.step), keras/src/callbacks/*.py (Keras 3) and
lightning/pytorch/callbacks/early_stopping.py (_evaluate_stopping_criteria).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from metrics.errors import InputError
from metrics.plateau import (
    keras_early_stopping,
    keras_reduce_lr_on_plateau,
    lightning_early_stopping,
    plateau,
    torch_reduce_lr_on_plateau,
)

STEPS = [100, 200, 300, 400, 500, 600, 700, 800, 900]
SLOW = [1.0, 0.99, 0.98, 0.97, 0.5, 0.49, 0.48, 0.47, 0.46]


def fired(replay: object) -> list[int]:
    return [f.step for f in replay.firings]  # type: ignore[attr-defined]


# --- PyTorch ReduceLROnPlateau --------------------------------------------------------------


def test_torch_fires_when_bad_evals_exceed_patience() -> None:
    # min/rel 0.1: better means a < best·0.9. 1.0 best; .99 .98 .97 bad 1,2,3 → 3 > 2 fires at
    # 400. 0.5 < 0.9 best; .49 .48 .47 bad 1,2,3 → fires at 800; .46 bad 1.
    r = torch_reduce_lr_on_plateau(STEPS, SLOW, patience=2, threshold=0.1)
    assert fired(r) == [400, 800]
    assert [f.lr for f in r.firings] == pytest.approx([0.1, 0.01])
    assert (r.best, r.bad_evals, r.evals_seen) == (0.5, 1, 9)
    assert r.describe().endswith("would have fired at steps 400, 800")


def test_torch_cooldown_zeroes_bad_evals() -> None:
    # fire at 400, cooldown 2. 500: better (best .5), cooldown→1. 600: bad 1, cooldown→0 and
    # bad=0. 700 bad 1, 800 bad 2, 900 bad 3 > 2 → fires at 900.
    r = torch_reduce_lr_on_plateau(STEPS, SLOW, patience=2, threshold=0.1, cooldown=2)
    assert fired(r) == [400, 900]


def test_torch_max_abs_and_max_rel() -> None:
    # max/abs 0.01: .5 best; .505 > .51? no bad 1; .508 bad 2 > 1 fires (step 3); .53 best;
    # .535 > .54? no bad 1; .545 > .54 best.
    r = torch_reduce_lr_on_plateau(
        [1, 2, 3, 4, 5, 6],
        [0.5, 0.505, 0.508, 0.53, 0.535, 0.545],
        mode="max",
        threshold=0.01,
        threshold_mode="abs",
        patience=1,
    )
    assert fired(r) == [3] and r.best == 0.545
    # max/rel 0.1, patience 0: .54 > .5·1.1? no → fires; .56 best; .57 > .616? no → fires; .7 best.
    r = torch_reduce_lr_on_plateau(
        [1, 2, 3, 4, 5], [0.5, 0.54, 0.56, 0.57, 0.7], mode="max", threshold=0.1, patience=0
    )
    assert fired(r) == [2, 4]


def test_torch_min_lr_and_eps_keep_firing_without_change() -> None:
    # patience 0, every eval after the first is bad: lr 1 → .1 → max(.01, .05)=.05 → .05 (kept).
    r = torch_reduce_lr_on_plateau([1, 2, 3, 4], [1.0] * 4, patience=0, min_lr=0.05)
    assert [f.lr for f in r.firings] == pytest.approx([0.1, 0.05, 0.05])


def test_torch_nan_is_a_bad_eval() -> None:
    r = torch_reduce_lr_on_plateau([1, 2, 3], [1.0, math.nan, math.nan], patience=1)
    assert fired(r) == [3]


def test_plateau_is_the_torch_rule() -> None:
    r = plateau(STEPS, SLOW, patience=2, threshold=0.1, cooldown=2)
    assert fired(r) == [400, 900] and r.action == "reduce_lr"


def test_bad_arguments() -> None:
    with pytest.raises(InputError, match="mode"):
        plateau(STEPS, SLOW, mode="best")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="factor"):
        torch_reduce_lr_on_plateau(STEPS, SLOW, factor=1.0)
    with pytest.raises(InputError, match="threshold_mode"):
        plateau(STEPS, SLOW, threshold_mode="pct")  # type: ignore[arg-type]


# --- Keras ReduceLROnPlateau ----------------------------------------------------------------


def test_keras_rlrop_fires_when_wait_reaches_patience() -> None:
    # better means a < best − 0.1. 1.0 best; .99 wait 1; .98 wait 2 >= 2 fires at 300; .97
    # wait 1; .5 best; .49 wait 1; .48 wait 2 fires at 700; .47 wait 1; .46 wait 2 fires at 900.
    r = keras_reduce_lr_on_plateau(STEPS, SLOW, patience=2, min_delta=0.1)
    assert fired(r) == [300, 700, 900]
    lrs, lr = [], 1.0
    for _ in range(3):  # the optimizer's learning rate is a float32 variable
        lr = float(np.float32(lr * 0.1))
        lrs.append(lr)
    assert [f.lr for f in r.firings] == lrs


def test_keras_rlrop_cooldown_counts_down_before_the_comparison() -> None:
    # fire at 300, cooldown 2. 400: cooldown→1, in cooldown: nothing. 500: cooldown→0, .5 best.
    # 600 wait 1, 700 wait 2 fires, cooldown 2. 800: →1 nothing. 900: →0, not in cooldown any
    # more, so wait 1 (the last cooldown eval already counts, unlike PyTorch).
    r = keras_reduce_lr_on_plateau(STEPS, SLOW, patience=2, min_delta=0.1, cooldown=2)
    assert fired(r) == [300, 700]
    assert r.bad_evals == 1


def test_keras_rlrop_stops_at_min_lr_in_float32() -> None:
    # lr f32(1e-3) → f32(1e-4)=1.0000000475e-4 → f32(1.0000000475e-5)=1.0000000657e-5 (still
    # above f32(min_lr)) → f32(max(1.0000000657e-6, 1e-5)) = f32(1e-5). Then lr > f32(min_lr)
    # is False: no more firings, and wait keeps growing (2 after the last two evals). Compared
    # in float64, 1e-5 > f32(1e-5) would fire on every eval.
    r = keras_reduce_lr_on_plateau([1, 2, 3, 4, 5, 6], [1.0] * 6, patience=1, lr=1e-3, min_lr=1e-5)
    assert fired(r) == [2, 3, 4]
    assert r.firings[-1].lr == float(np.float32(1e-5))
    assert r.bad_evals == 2


# --- Keras EarlyStopping --------------------------------------------------------------------


def test_keras_early_stopping_min_delta() -> None:
    # min, min_delta .05 → improvement means current + .05 < best. 1.0 best; .9 (.95<1) best;
    # .88: wait 1; .87: wait 2 >= 2, epoch 3 > 0 → stop at 400.
    r = keras_early_stopping(
        [100, 200, 300, 400, 500], [1.0, 0.9, 0.88, 0.87, 0.8], patience=2, min_delta=0.05
    )
    assert fired(r) == [400] and r.action == "stop" and r.evals_seen == 4
    assert r.describe().endswith("would have stopped training at step 400")


def test_keras_early_stopping_baseline_keeps_wait_growing() -> None:
    # max, baseline .6: every eval improves on best but not on the baseline, so wait grows
    # 1, 2, 3 with a `return` each time; .57 is no improvement and wait 4 >= 2 → stop at 4.
    r = keras_early_stopping(
        [1, 2, 3, 4, 5, 6], [0.5, 0.55, 0.58, 0.57, 0.65, 0.6], mode="max", patience=2, baseline=0.6
    )
    assert fired(r) == [4] and r.bad_evals == 4


def test_keras_early_stopping_patience_zero_and_start_from_epoch() -> None:
    assert fired(keras_early_stopping([1, 2], [1.0, 1.0])) == [2]
    # epochs 0, 1 skipped; 7 best; 3 best; 4: wait 1 >= 1 → stop at step 5.
    r = keras_early_stopping(
        [1, 2, 3, 4, 5, 6], [5, 6, 7, 3, 4, 4.5], patience=1, start_from_epoch=2
    )
    assert fired(r) == [5]


# --- Lightning EarlyStopping ----------------------------------------------------------------


def test_lightning_min_delta_sign_flipped_for_min() -> None:
    # min_delta .05 → −.05; improvement means current + .05 < best: 1.0, .9 best; .88 wait 1;
    # .87 wait 2 >= 2 → stop at 400.
    r = lightning_early_stopping(
        [100, 200, 300, 400, 500], [1.0, 0.9, 0.88, 0.87, 0.8], patience=2, min_delta=0.05
    )
    assert fired(r) == [400]
    assert r.firings[0].reason == "wait_count 2 >= patience"
    assert fired(lightning_early_stopping([1, 2], [1.0, 0.95], patience=1, min_delta=0.1)) == [2]
    assert fired(lightning_early_stopping([1, 2], [1.0, 0.85], patience=1, min_delta=0.1)) == []


def test_lightning_thresholds_and_check_finite() -> None:
    r = lightning_early_stopping(
        [1, 2, 3, 4], [0.5, 0.6, 0.71, 0.8], mode="max", stopping_threshold=0.7
    )
    assert fired(r) == [3] and "stopping threshold" in r.firings[0].reason
    r = lightning_early_stopping([1, 2, 3], [2.0, 1.5, 6.0], divergence_threshold=5.0)
    assert fired(r) == [3] and "divergence" in r.firings[0].reason
    r = lightning_early_stopping([1, 2], [2.0, math.nan])
    assert fired(r) == [2] and "not finite" in r.firings[0].reason
    r = lightning_early_stopping([1, 2], [2.0, math.nan], check_finite=False)
    assert fired(r) == [] and r.bad_evals == 1


def test_lightning_compares_in_float32() -> None:
    # 0.1 + 1e-9 rounds to float32(0.1): no improvement → wait 1 >= 1 → stop.
    r = lightning_early_stopping([1, 2], [0.1, 0.1 + 1e-9], mode="max", patience=1)
    assert fired(r) == [2]
    r = keras_early_stopping([1, 2], [0.1, 0.1 + 1e-9], mode="max", patience=1)
    assert fired(r) == []  # Keras compares the Python floats


# --- on a real run --------------------------------------------------------------------------


def test_replays_on_the_deeplabv3_wta_run(public_logs: Path) -> None:
    path = public_logs / "mmseg1x" / "deeplabv3_wta_40k_scalars.json"
    val = [r for r in map(json.loads, path.read_text().splitlines()) if "mIoU" in r]
    steps, miou = [r["step"] for r in val], [r["mIoU"] / 100 for r in val]
    # .442 .5364 .5478 .5491 .5592 .5643 .5607 .5756 .5709 .5734 at 4k … 40k.
    # Lightning max, min_delta .01: .5364, .5478 (.5378 > .5364) best; .5491 wait 1; .5592 best;
    # .5643 (.5543 < .5592) wait 1; .5607 wait 2 >= 2 → stops at 28000.
    r = lightning_early_stopping(steps, miou, mode="max", min_delta=0.01, patience=2)
    assert fired(r) == [28000] and r.best == pytest.approx(0.5592)
    # PyTorch max/abs .01, patience 1: .5491 bad 1; .5592 best; .5643 bad 1, .5607 bad 2 > 1
    # fires at 28000; .5756 best; .5709, .5734 bad 1, 2 → fires at 40000.
    r = torch_reduce_lr_on_plateau(
        steps, miou, mode="max", threshold=0.01, threshold_mode="abs", patience=1
    )
    assert fired(r) == [28000, 40000]
