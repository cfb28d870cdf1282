"""Rules on the training loss: non-finite values, explosions and spikes, a loss stuck at ln(C)."""

from __future__ import annotations

import math

import numpy as np

from metrics.diagnosis.config import DiagnosisConfig
from metrics.diagnosis.findings import Finding, FindingCode
from metrics.diagnosis.inputs import RunSeries
from metrics.diagnosis.registry import rule
from metrics.stats.series import median
from metrics.stats.smoothing import rolling_median
from metrics.stats.trends import MAD_TO_SD

MIN_POINTS = 20

NONFINITE = FindingCode(
    "loss_nonfinite",
    "critical",
    "diverging",
    "the training loss became NaN or ±inf",
)
EXPLOSION = FindingCode(
    "loss_explosion",
    "critical",
    "diverging",
    "the smoothed loss climbed back above its minimum + `explode_fraction` of its descent "
    "(measured against the loss's scale before its minimum)",
)
SPIKES = FindingCode(
    "loss_spikes",
    "warning",
    None,
    "repeated spikes more than `spike_z` robust sds above the rolling median",
    follows_divergence=True,
)
UNIFORM = FindingCode(
    "uniform_prediction",
    "critical",
    "stalled",
    "the loss sits at ln(number of classes): equal odds for every class",
    follows_divergence=True,
)


@rule(10)
def loss_nonfinite(rs: RunSeries, cfg: DiagnosisConfig) -> list[Finding]:
    """NaN or ±inf in the training loss: the run is diverging."""
    v = rs.loss.values
    bad = ~np.isfinite(v)
    if not bad.any():
        return []
    first = int(rs.loss.steps[bad][0])
    kinds = sorted({"NaN" if math.isnan(x) else "infinite" for x in v[bad]})
    finite_before = v[: int(np.argmax(bad))]
    last_ok = float(finite_before[-1]) if len(finite_before) else math.nan
    return [
        NONFINITE(
            f"The training loss became {' and '.join(kinds)} at step {first} "
            f"({int(bad.sum())} of {len(v)} logged values are not finite).",
            {"first_step": first, "count": int(bad.sum()), "last_finite_loss": last_ok},
            ("learning_rate", "data_pipeline", "labels"),
            (first, int(rs.loss.steps[-1])),
        )
    ]


@rule(20)
def loss_explosion(rs: RunSeries, cfg: DiagnosisConfig) -> list[Finding]:
    """The smoothed loss climbed far back above its running minimum, or spikes far above noise."""
    s = rs.loss.finite
    if len(s) < MIN_POINTS:
        return []
    v = s.values
    w = max(5, len(v) // 50)
    smooth = rolling_median(v, w)
    head = max(3, len(v) // 20)
    start = median(smooth[w - 1 : w - 1 + head]) if len(v) > w + head else float(smooth[0])
    i_min = int(np.argmin(smooth))
    low = float(smooth[i_min])
    now = median(smooth[-head:])
    descent = start - low
    # the loss's own point-to-point scale, taken before its minimum: a blow-up after it
    # must not widen the yardstick it is measured with
    before = slice(0, max(i_min + 1, 2 * w))
    spikes, sd = _spikes(v, smooth, cfg.spike_z, _robust_sd(v[before] - smooth[before]))
    late = spikes[spikes >= len(v) // 2]
    evidence = {
        "start_loss": start,
        "min_loss": low,
        "min_step": int(s.steps[i_min]),
        "recent_loss": now,
        "spikes": len(spikes),
        "spike_z": cfg.spike_z,
    }
    # a loss must first have come down clearly (by a tenth of where it started, and well
    # beyond its point-to-point noise) before it can blow up
    came_down = descent > max(0.1 * abs(start), 5 * sd)
    if came_down and i_min < len(v) - head and now > low + cfg.explode_fraction * descent:
        lost = (now - low) / descent
        return [
            EXPLOSION(
                f"The smoothed training loss climbed from its minimum {low:.4g} (step "
                f"{int(s.steps[i_min])}) back to {now:.4g}, undoing {lost:.0%} of its descent.",
                {**evidence, "fraction_of_descent_lost": lost},
                ("learning_rate", "data_pipeline", "labels"),
                (int(s.steps[i_min]), int(s.steps[-1])),
            )
        ]
    if len(late) >= 3:
        first = int(s.steps[late[0]])
        return [
            SPIKES(
                f"The training loss spiked {len(late)} times more than {cfg.spike_z:g} robust "
                f"standard deviations above its running median since step {first}.",
                evidence,
                ("learning_rate", "data_pipeline"),
                (first, int(s.steps[-1])),
            )
        ]
    return []


def _robust_sd(resid: np.ndarray) -> float:
    return MAD_TO_SD * median(np.abs(resid - median(resid))) if len(resid) else 0.0


def _spikes(v: np.ndarray, smooth: np.ndarray, z: float, sd: float) -> tuple[np.ndarray, float]:
    """Indices of points more than ``z`` sds (``sd``) above the rolling median; that sd."""
    if sd <= 0:
        return np.empty(0, np.int64), 0.0
    return np.flatnonzero((v - smooth) / sd > z), sd


@rule(50)
def uniform_prediction(rs: RunSeries, cfg: DiagnosisConfig) -> list[Finding]:
    """The loss sits at ln(C), the cross-entropy of predicting every class with equal odds."""
    c = rs.num_classes
    s = rs.loss.finite
    if not c or c < 2 or len(s) < MIN_POINTS:
        return []
    level = math.log(c)
    tail = s.values[-max(5, len(s) // 5) :]
    recent = median(tail)
    if abs(recent - level) > cfg.uniform_margin * level:
        return []  # the spread need not be computed
    spread = float(np.percentile(tail, 90) - np.percentile(tail, 10))
    if spread > cfg.uniform_margin * level:
        return []
    start = int(s.steps[-len(tail)])
    return [
        UNIFORM(
            f"The training loss has stayed at {recent:.4g}, the ln({c}) = {level:.4g} of "
            "predicting every class with equal odds: the model is not learning anything.",
            {"recent_loss": recent, "ln_classes": level, "num_classes": c, "spread": spread},
            ("learning_rate", "labels", "data_pipeline"),
            (start, int(s.steps[-1])),
        )
    ]
