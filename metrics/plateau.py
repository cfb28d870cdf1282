"""Replays of the framework plateau rules on a finished run: "this rule would have fired at step N".

Each value is one call of the rule (PyTorch ``scheduler.step(metric)``, Keras ``on_epoch_end``,
Lightning's validation check), so ``patience`` counts evaluations. NaN values are fed as they are,
the way the libraries would see them. Semantics follow the libraries' source:
torch/optim/lr_scheduler.py, keras/src/callbacks/{reduce_lr_on_plateau,early_stopping}.py (3.x),
lightning/pytorch/callbacks/early_stopping.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from metrics.errors import InputError
from metrics.series import Mode, as_series

Action = Literal["reduce_lr", "stop"]


@dataclass(frozen=True)
class Firing:
    """One time a rule acted: the eval it acted on and the state it saw."""

    index: int  # 0-based eval index (the rule's "epoch")
    step: int
    value: float
    best: float
    lr: float  # the learning rate after a reduction; NaN for early stopping
    reason: str


@dataclass(frozen=True)
class Replay:
    """A rule replayed over a series: when it acted and its state at the end."""

    rule: str
    action: Action
    firings: tuple[Firing, ...]
    best: float
    bad_evals: int  # the rule's own counter after the last eval it saw
    evals_seen: int  # early stopping ends the replay at its firing

    @property
    def first_step(self) -> int | None:
        """The step of the first firing, or None."""
        return self.firings[0].step if self.firings else None

    def describe(self) -> str:
        """One line for a person, e.g. "… would have fired at step 24000"."""
        if not self.firings:
            return f"{self.rule} would not have fired in {self.evals_seen} evals"
        verb = "stopped training" if self.action == "stop" else "fired"
        steps = ", ".join(str(f.step) for f in self.firings)
        return (
            f"{self.rule} would have {verb} at step{'s' if len(self.firings) > 1 else ''} {steps}"
        )


def _check(mode: str, patience: int, factor: float = 0.0) -> None:
    if mode not in ("min", "max"):
        raise InputError(f"expected mode 'min' or 'max', got {mode!r}")
    if patience < 0:
        raise InputError(f"expected patience >= 0, got {patience}")
    if not 0.0 <= factor < 1.0:
        raise InputError(f"expected 0 <= factor < 1, got {factor}")


def _f32(x: float) -> float:
    return float(np.float32(x))


def torch_reduce_lr_on_plateau(
    steps: npt.ArrayLike,
    values: npt.ArrayLike,
    *,
    mode: Mode = "min",
    factor: float = 0.1,
    patience: int = 10,
    threshold: float = 1e-4,
    threshold_mode: Literal["rel", "abs"] = "rel",
    cooldown: int = 0,
    min_lr: float = 0.0,
    eps: float = 1e-8,
    lr: float = 1.0,
) -> Replay:
    """``torch.optim.lr_scheduler.ReduceLROnPlateau``.

    is_better: min/rel a < best·(1−threshold); min/abs a < best−threshold; max/rel
    a > best·(1+threshold); max/abs a > best+threshold. Better → best=a, bad=0, else bad+=1;
    in cooldown: cooldown−=1, bad=0; then bad > patience fires: lr=max(lr·factor, min_lr) (kept
    if the change is <= eps), cooldown=cooldown, bad=0.
    """
    _check(mode, patience, factor)
    if threshold_mode not in ("rel", "abs"):
        raise InputError(f"expected threshold_mode 'rel' or 'abs', got {threshold_mode!r}")
    s, v = as_series(steps, values)
    best, bad, cool, firings = math.inf if mode == "min" else -math.inf, 0, 0, []
    for i, a in enumerate(v.tolist()):
        if _torch_is_better(a, best, mode, threshold, threshold_mode):
            best, bad = a, 0
        else:
            bad += 1
        if cool > 0:
            cool, bad = cool - 1, 0
        if bad > patience:
            new_lr = max(lr * factor, min_lr)
            lr = new_lr if lr - new_lr > eps else lr
            firings.append(Firing(i, int(s[i]), a, best, lr, f"{bad} evals without improvement"))
            cool, bad = cooldown, 0
    rule = f"ReduceLROnPlateau(mode={mode!r}, patience={patience}, threshold={threshold}, "
    rule += f"threshold_mode={threshold_mode!r}, cooldown={cooldown})"
    return Replay(rule, "reduce_lr", tuple(firings), best, bad, len(v))


def _torch_is_better(a: float, best: float, mode: str, threshold: float, tmode: str) -> bool:
    if mode == "min":
        return a < best * (1.0 - threshold) if tmode == "rel" else a < best - threshold
    return a > best * (threshold + 1.0) if tmode == "rel" else a > best + threshold


def plateau(
    steps: npt.ArrayLike,
    values: npt.ArrayLike,
    *,
    mode: Mode = "min",
    threshold: float = 1e-4,
    threshold_mode: Literal["rel", "abs"] = "rel",
    patience: int = 10,
    cooldown: int = 0,
) -> Replay:
    """Plateaus by ReduceLROnPlateau semantics (PyTorch's rule; the learning rate is ignored)."""
    return torch_reduce_lr_on_plateau(
        steps,
        values,
        mode=mode,
        patience=patience,
        threshold=threshold,
        threshold_mode=threshold_mode,
        cooldown=cooldown,
    )


def keras_reduce_lr_on_plateau(
    steps: npt.ArrayLike,
    values: npt.ArrayLike,
    *,
    mode: Mode = "min",
    factor: float = 0.1,
    patience: int = 10,
    min_delta: float = 1e-4,
    cooldown: int = 0,
    min_lr: float = 0.0,
    lr: float = 1.0,
) -> Replay:
    """``keras.callbacks.ReduceLROnPlateau`` (Keras 3; pass the mode "auto" would pick).

    monitor_op: min a < best − min_delta, max a > best + min_delta. In cooldown: cooldown−=1,
    wait=0; better → best=a, wait=0; elif not in cooldown: wait+=1, and wait >= patience fires
    if lr > float32(min_lr): lr=max(lr·factor, min_lr) (a float32 variable), cooldown=cooldown,
    wait=0. At the min_lr floor it stops firing and wait keeps growing.
    """
    _check(mode, patience, factor)
    s, v = as_series(steps, values)
    best, wait, cool, firings = math.inf if mode == "min" else -math.inf, 0, 0, []
    lr = _f32(lr)
    for i, a in enumerate(v.tolist()):
        if cool > 0:
            cool, wait = cool - 1, 0
        if a < best - min_delta if mode == "min" else a > best + min_delta:
            best, wait = a, 0
        elif cool <= 0:
            wait += 1
            if wait >= patience and lr > _f32(min_lr):
                lr = _f32(max(lr * factor, min_lr))
                firings.append(Firing(i, int(s[i]), a, best, lr, f"wait {wait} >= patience"))
                cool, wait = cooldown, 0
    rule = f"Keras ReduceLROnPlateau(mode={mode!r}, patience={patience}, "
    rule += f"min_delta={min_delta}, cooldown={cooldown})"
    return Replay(rule, "reduce_lr", tuple(firings), best, wait, len(v))


def keras_early_stopping(
    steps: npt.ArrayLike,
    values: npt.ArrayLike,
    *,
    mode: Mode = "min",
    min_delta: float = 0.0,
    patience: int = 0,
    baseline: float | None = None,
    start_from_epoch: int = 0,
) -> Replay:
    """``keras.callbacks.EarlyStopping`` (Keras 3), the eval index standing for the epoch.

    min_delta=|min_delta|, negated for min; improvement = monitor_op(current − min_delta, ref).
    Epochs < start_from_epoch are skipped; wait+=1; improvement over best → best=current and
    wait=0 only if it also improves on the baseline, then return; else wait >= patience and
    epoch > 0 stops.
    """
    _check(mode, patience)
    s, v = as_series(steps, values)
    delta = -abs(min_delta) if mode == "min" else abs(min_delta)

    def improves(x: float, ref: float) -> bool:
        return x - delta < ref if mode == "min" else x - delta > ref

    rule = f"Keras EarlyStopping(mode={mode!r}, min_delta={min_delta}, patience={patience}"
    rule += f", baseline={baseline})" if baseline is not None else ")"
    best, wait, seen = math.inf if mode == "min" else -math.inf, 0, 0
    for i, a in enumerate(v.tolist()):
        seen = i + 1
        if i < start_from_epoch:
            continue
        wait += 1
        if improves(a, best):
            best = a
            if baseline is None or improves(a, baseline):
                wait = 0
            continue
        if wait >= patience and i > 0:
            hit = Firing(i, int(s[i]), a, best, math.nan, f"wait {wait} >= patience")
            return Replay(rule, "stop", (hit,), best, wait, seen)
    return Replay(rule, "stop", (), best, wait, seen)


def lightning_early_stopping(
    steps: npt.ArrayLike,
    values: npt.ArrayLike,
    *,
    mode: Mode = "min",
    min_delta: float = 0.0,
    patience: int = 3,
    check_finite: bool = True,
    stopping_threshold: float | None = None,
    divergence_threshold: float | None = None,
) -> Replay:
    """``lightning.pytorch.callbacks.EarlyStopping``, in float32 like the logged tensors.

    min_delta is negated for min (no abs). In order: check_finite and non-finite stops;
    monitor_op(current, stopping_threshold) stops; monitor_op(−current, −divergence_threshold)
    stops; monitor_op(current − min_delta, best) → best=current, wait_count=0; else
    wait_count+=1 and wait_count >= patience stops.
    """
    _check(mode, patience)
    s, v = as_series(steps, values)
    delta = _f32(min_delta if mode == "max" else -min_delta)

    def op(x: float, ref: float) -> bool:
        return x < ref if mode == "min" else x > ref

    rule = f"Lightning EarlyStopping(mode={mode!r}, min_delta={min_delta}, patience={patience})"
    best, wait = _f32(math.inf if mode == "min" else -math.inf), 0
    for i, raw in enumerate(v.tolist()):
        a, reason = _f32(raw), ""
        if check_finite and not math.isfinite(a):
            reason = f"monitored value {a} is not finite"
        elif stopping_threshold is not None and op(a, _f32(stopping_threshold)):
            reason = f"stopping threshold {stopping_threshold} reached"
        elif divergence_threshold is not None and op(-a, -_f32(divergence_threshold)):
            reason = f"divergence threshold {divergence_threshold} crossed"
        elif op(_f32(a - delta), best):
            best, wait = a, 0
        else:
            wait += 1
            reason = f"wait_count {wait} >= patience" if wait >= patience else ""
        if reason:
            hit = Firing(i, int(s[i]), a, best, math.nan, reason)
            return Replay(rule, "stop", (hit,), best, wait, i + 1)
    return Replay(rule, "stop", (), best, wait, len(v))
