"""Rules on validation mIoU: plateau, overfitting, lr at its floor, flat loss with rising mIoU.

mIoU decides: a flat training loss alone is normal in segmentation and never called a stall.
"""

from __future__ import annotations

import math

import numpy as np

from metrics.diagnosis.config import DiagnosisConfig
from metrics.diagnosis.findings import Check, Finding, FindingCode
from metrics.diagnosis.inputs import RunSeries
from metrics.diagnosis.registry import rule
from metrics.diagnosis.rules_classes import dead_classes, majority_class
from metrics.stats.forecast import forecast, saturating_curve
from metrics.stats.trends import Progress, Span, noise_level, progress, trend

LONGER_SCHEDULE = 0.25  # the longer schedule a still-improving finished run is forecast for
#: The forecast of a still-improving run locates the curve's exponent to 5e-7 (relative), not to
#: the default 6e-10: its readouts move by ~1e-7 at most (the message prints 3 decimals), and the
#: search costs half as much.
FORECAST_LOG_C_TOL = 1e-6
COLLAPSE_SHARE = 0.25  # mIoU below this share of a clear best is a collapse
LR_HIGH_SHARE = 0.5  # an lr at this share of its peak or more is still high

LR_EXHAUSTED = FindingCode(
    "lr_exhausted",
    "warning",
    None,
    "the lr sat at its floor (or got there before half the run) and mIoU did not gain beyond "
    "noise since (stalled while training)",
    follows_divergence=True,
    about_trend=True,
)
OVERFITTING = FindingCode(
    "overfitting",
    "warning",
    "overfitting",
    "val mIoU fell below its best by more than noise while the train loss kept falling; names "
    "the checkpoint to keep",
    follows_divergence=True,
)
FLAT_LOSS_RISING_MIOU = FindingCode(
    "loss_flat_miou_rising",
    "info",
    None,
    "the loss shows no trend but mIoU still improves: keep training",
    follows_divergence=True,
    about_trend=True,
)


def miou_progress(rs: RunSeries, cfg: DiagnosisConfig) -> Progress | None:
    """The plateau statistics of the validation mIoU, or None with too few evals (computed once
    per diagnosis: four rules read them)."""

    def compute() -> Progress | None:
        m = rs.miou.finite
        if len(m) < cfg.min_evals:
            return None
        return progress(m.steps, m.values, "max", window=cfg.window, z=cfg.z)

    return rs.cached(("miou_progress", cfg.min_evals, cfg.window, cfg.z), compute)


def loss_direction(rs: RunSeries, start: int, end: int) -> tuple[str, float]:
    """Whether the train loss still falls between two steps: ('falling'|'flat'|'rising', p)."""
    s = rs.loss.finite.between(start, end)
    if len(s) < 4:
        return "unknown", math.nan
    t = trend(s.steps, s.values, max_points=60)  # bucket means: steadier and quicker
    if t.mk_trend == "decreasing" and t.slope_high < 0:
        return "falling", t.mk_p
    if t.mk_trend == "increasing" and t.slope_low > 0:
        return "rising", t.mk_p
    return "flat", t.mk_p


def lr_floor_step(rs: RunSeries, cfg: DiagnosisConfig) -> tuple[int | None, float, float]:
    """First step where the lr sat at or below ``lr_floor`` × its peak; the last lr; the peak."""
    lr = rs.lr.finite
    if len(lr) < 2:
        return None, math.nan, math.nan
    peak = float(lr.values.max())
    if peak <= 0:
        return None, float(lr.values[-1]), peak
    low = lr.values <= cfg.lr_floor * peak
    if not low[-1]:
        return None, float(lr.values[-1]), peak
    # the start of the final run of floor values
    above = np.flatnonzero(~low)
    first = int(above[-1]) + 1 if len(above) else 0
    return int(lr.steps[first]), float(lr.values[-1]), peak


PLATEAU = FindingCode(
    "miou_plateau",
    "warning",
    "stalled",
    "still training, and neither the last `window` evals nor the last third of the run gain "
    "beyond the run's own noise",
    follows_divergence=True,
    about_trend=True,
)
CONVERGED = FindingCode(
    "converged",
    "info",
    "converged",
    "finished, and its last evals gained nothing beyond noise: from which step, and what share "
    "of the schedule added nothing",
    follows_divergence=True,
    about_trend=True,
)
STILL_IMPROVING = FindingCode(
    "still_improving",
    "info",
    None,
    "finished while mIoU still gained beyond noise: the forecast gain of a longer schedule",
    follows_divergence=True,
    about_trend=True,
)
COLLAPSE = FindingCode(
    "miou_collapse",
    "critical",
    "diverging",
    "val mIoU fell below a quarter of a clear best and stayed there",
)


def _spans_text(p: Progress) -> str:
    """'+0.0051 over the last 5 evals (steps a–b) and +0.0123 over the last 12'."""
    parts = [f"{sp.gain:+.4f} over the last {sp.evals} evaluations" for sp in p.spans]
    first = p.spans[0]
    return " and ".join(parts) + f" (steps {first.start_step}–{first.end_step})"


@rule(70)
def miou_plateau(rs: RunSeries, cfg: DiagnosisConfig) -> list[Finding]:
    """No span of recent evals gains beyond noise: stalled while training, converged when done."""
    p = miou_progress(rs, cfg)
    if p is None or p.status not in ("plateau", "worsening"):
        return []
    m = rs.miou.finite
    flat = _flat_since(p)
    w0, end = flat.start_step, int(m.steps[-1])
    t = trend(m.steps[-p.window :], m.values[-p.window :])
    loss_dir, _loss_p = loss_direction(rs, w0, end)
    floor_step, last_lr, peak_lr = lr_floor_step(rs, cfg)
    at_floor = floor_step is not None and floor_step <= w0
    checks = _plateau_checks(rs, cfg, loss_dir, at_floor, _lr_high(rs))
    evidence = {
        "window_evals": p.window,
        "window_steps": [w0, end],
        "gain": p.gain,
        "noise": p.noise,
        "threshold": p.threshold,
        "spans": [
            {
                "evals": sp.evals,
                "steps": [sp.start_step, sp.end_step],
                "gain": sp.gain,
                "threshold": sp.threshold,
            }
            for sp in p.spans
        ],
        "slope_per_1k_steps": t.slope * 1000,
        "slope_ci_per_1k_steps": [t.slope_low * 1000, t.slope_high * 1000],
        "mann_kendall_p": t.mk_p,
        "best_miou": p.best.value,
        "best_step": p.best.step,
        "evals_since_best": p.best.evals_since,
        "last_miou": p.best.last,
        "train_loss": loss_dir,
        "last_lr": last_lr,
        "peak_lr": peak_lr,
    }
    why = {
        "falling": " while the training loss still falls (the model fits the training set "
        "without generalising better)",
        "flat": " and the training loss is flat too",
    }.get(loss_dir, "")
    noise = (
        f"the run's eval-to-eval noise is ±{p.noise:.4f}, so only a gain beyond "
        f"{p.threshold:+.4f} would be real"
    )
    if rs.life.finished:
        total = rs.planned_steps or end
        share = max(0.0, (end - w0) / total) if total else 0.0
        evidence.update({"flat_from_step": w0, "share_of_schedule_flat": share})
        return [
            CONVERGED(
                f"Converged: from step {w0} on, the last {share:.0%} of the schedule added "
                f"nothing beyond noise ({_spans_text(p)}; {noise}){why}. Best "
                f"{p.best.value:.4f} at step {p.best.step}.",
                {**evidence, "finished_because": rs.life.why},
                checks,
                (w0, end),
            )
        ]
    return [
        PLATEAU(
            f"Validation mIoU gained {_spans_text(p)}; {noise}{why}.",
            evidence,
            checks,
            (w0, end),
        )
    ]


def _flat_since(p: Progress) -> Span:
    """The longest judged span that shows no significant gain (the plateau's extent)."""
    flat = [sp for sp in p.spans if not sp.significant]
    return max(flat, key=lambda sp: sp.evals) if flat else p.spans[0]


@rule(80)
def still_improving(rs: RunSeries, cfg: DiagnosisConfig) -> list[Finding]:
    """A finished run whose mIoU still rose at the end: what a longer schedule would likely add."""
    p = miou_progress(rs, cfg)
    if p is None or p.status != "improving" or not rs.life.finished:
        return []
    m = rs.miou.finite
    end = int(m.steps[-1])
    longer = round(end * (1 + LONGER_SCHEDULE))
    evidence: dict[str, object] = {
        "gain": p.gain, "noise": p.noise, "threshold": p.threshold, "span_evals": p.window,
        "forecast_step": longer,
    }  # fmt: skip
    more = ""
    if float(m.values.max()) <= 1.0 and len(m) >= 5:
        fc = forecast(
            m.steps, m.values, last_step=longer, n_boot=60, polish=False, tol=FORECAST_LOG_C_TOL
        )
        now = float(saturating_curve([end], fc.a, fc.b, fc.c)[0]) if fc.ok else math.nan
        if fc.ok and math.isfinite(fc.value) and math.isfinite(now) and fc.value > now:
            gain, low, high = fc.value - now, fc.value_low - now, fc.value_high - now
            evidence.update({"forecast": fc.value, "forecast_low": fc.value_low,
                             "forecast_high": fc.value_high})  # fmt: skip
            more = (
                f" {gain:+.3f} mIoU is likely with {LONGER_SCHEDULE:.0%} more iterations "
                f"(band {low:+.3f} to {high:+.3f}, {fc.level:.0%})."
            )
    return [
        STILL_IMPROVING(
            f"Finished ({rs.life.why}) while validation mIoU was still rising: "
            f"{p.gain:+.4f} over the last {p.window} evaluations (noise ±{p.noise:.4f}, "
            f"threshold {p.threshold:+.4f}).{more}",
            evidence,
            ("iterations",),
            (int(m.steps[-p.window]), end),
        )
    ]


@rule(30)
def miou_collapse(rs: RunSeries, cfg: DiagnosisConfig) -> list[Finding]:
    """mIoU fell below a quarter of a clear best: the run broke (a blow-up, NaN weights …)."""
    m = rs.miou.finite
    if len(m) < 3:
        return []
    i = int(np.argmax(m.values))
    best_val = float(m.values[i])
    sigma = noise_level(m.values, m.steps)
    clear = best_val >= 0.05 and (not math.isfinite(sigma) or best_val > 8 * sigma)
    after = m.values[i + 1 :]
    if not clear or not len(after) or float(after[-1]) >= COLLAPSE_SHARE * best_val:
        return []
    first = i + 1 + int(np.argmax(after < COLLAPSE_SHARE * best_val))
    step = int(m.steps[first])
    return [
        COLLAPSE(
            f"Validation mIoU collapsed from its best {best_val:.4f} (step {int(m.steps[i])}) "
            f"to {float(m.values[first]):.4f} at step {step} and is {float(after[-1]):.4f} now: "
            "the model broke, it did not just stop learning.",
            {
                "best_miou": best_val,
                "best_step": int(m.steps[i]),
                "collapse_step": step,
                "last_miou": float(after[-1]),
                "share_of_best": float(after[-1]) / best_val,
            },
            ("learning_rate", "data_pipeline", "labels"),
            (step, int(m.steps[-1])),
        )
    ]


def _lr_high(rs: RunSeries) -> bool:
    """The lr is still at half its peak or more: too high to let the model settle."""
    lr = rs.lr.finite
    if len(lr) < 2:
        return False
    peak = float(lr.values.max())
    return peak > 0 and float(lr.values[-1]) >= LR_HIGH_SHARE * peak


def _plateau_checks(
    rs: RunSeries, cfg: DiagnosisConfig, loss_dir: str, lr_at_floor: bool, lr_high: bool
) -> tuple[Check, ...]:
    """The checks in order of likelihood given the evidence."""
    remaining = (
        rs.planned_steps is not None
        and rs.last_step is not None
        and rs.last_step < 0.75 * rs.planned_steps
    )
    order: list[Check]
    if lr_at_floor:
        order = ["learning_rate", "iterations", "labels"]
    elif lr_high:  # a plateau (or large swings) at a still-high lr: decay it first
        order = ["learning_rate", "augmentation", "labels"]
    elif loss_dir == "falling":
        order = ["augmentation", "regularization", "labels"]
    elif remaining:
        order = ["iterations", "learning_rate", "labels"]
    else:
        order = ["learning_rate", "labels", "data_pipeline"]
    if any(f.severity == "warning" for f in majority_class(rs, cfg)):
        order = ["class_balance", "labels", *order]
    elif dead_classes(rs, cfg):
        order = [c for c in order if c != "labels"]
        order[1:1] = ["labels", "class_balance"]
    elif _imbalanced(rs):
        order.insert(1, "class_balance")
    return tuple(dict.fromkeys(order))


def _imbalanced(rs: RunSeries) -> bool:
    """Pixel accuracy far above mIoU: a few large classes dominate the pixels."""
    a, m = rs.aacc.finite, rs.miou.finite
    return bool(len(a) and len(m) and a.values[-1] - m.values[-1] > 0.3)


@rule(90)
def lr_exhausted(rs: RunSeries, cfg: DiagnosisConfig) -> list[Finding]:
    """The lr reached its floor (or decayed far too early) and mIoU went flat after it."""
    p = miou_progress(rs, cfg)
    floor_step, last_lr, peak = lr_floor_step(rs, cfg)
    if p is None or floor_step is None:
        return []
    m = rs.miou.finite
    after = m.steps > floor_step
    total = rs.planned_steps or rs.last_step or 0
    early = total > 0 and floor_step < cfg.lr_early * total
    if after.all() or after.sum() < (2 if early else cfg.window):
        return []  # the floor came at the end of its schedule, or before any eval
    gain = float(m.values[after].max() - m.values[~after].max())
    if gain > p.threshold:
        return []
    when = f"already at step {floor_step} of {total}" if early else f"at step {floor_step}"
    return [
        LR_EXHAUSTED(
            f"The learning rate decayed to {last_lr:.3g} ({last_lr / peak:.1%} of its peak "
            f"{peak:.3g}) {when}; in the {int(after.sum())} evaluations since, mIoU gained "
            f"{gain:+.4f} (noise ±{p.noise:.4f}; a gain beyond {p.threshold:+.4f} would be "
            "real).",
            {
                "floor_step": floor_step,
                "last_lr": last_lr,
                "peak_lr": peak,
                "decayed_early": early,
                "evals_after_floor": int(after.sum()),
                "gain_after_floor": gain,
                "threshold": p.threshold,
                "planned_steps": rs.planned_steps,
            },
            ("learning_rate", "iterations"),
            (floor_step, int(m.steps[-1])),
            status=None if rs.life.finished else "stalled",
        )
    ]


@rule(60)
def overfitting(rs: RunSeries, cfg: DiagnosisConfig) -> list[Finding]:
    """Val mIoU fell from its best by more than noise while the train loss kept falling."""
    m = rs.miou.finite
    if len(m) < cfg.min_evals:
        return []
    sigma = noise_level(m.values)
    i = int(np.argmax(m.values))
    since = len(m) - 1 - i
    if since < cfg.overfit_evals or not math.isfinite(sigma):
        return []
    margin = cfg.z * math.sqrt(2.0) * sigma
    after = m.values[i + 1 :]
    tail = after[-cfg.overfit_evals :]
    best_val, best_step = float(m.values[i]), int(m.steps[i])
    if not np.all(tail < best_val - margin):
        return []
    loss_dir, loss_p = loss_direction(rs, best_step, int(m.steps[-1]))
    if loss_dir != "falling":
        return []
    drop = best_val - float(np.mean(tail))
    val_loss_note = ""
    evidence = {
        "best_miou": best_val,
        "best_step": best_step,
        "last_miou": float(m.values[-1]),
        "drop": drop,
        "noise": sigma,
        "threshold": margin,
        "evals_since_best": since,
        "train_loss_trend_p": loss_p,
    }
    vl = rs.val_loss.finite
    if len(vl) >= 3:
        at_best = vl.values[np.searchsorted(vl.steps, best_step, side="right") - 1]
        evidence["val_loss_at_best"] = float(at_best)
        evidence["val_loss_last"] = float(vl.values[-1])
        if vl.values[-1] > at_best:
            val_loss_note = ", and the validation loss rose"
    return [
        OVERFITTING(
            f"Validation mIoU peaked at {best_val:.4f} at step {best_step} and has dropped by "
            f"{drop:.4f} ({drop / sigma:.1f}× its noise) over the {since} evaluations since, "
            f"while the training loss kept falling{val_loss_note}: keep the checkpoint of step "
            f"{best_step}.",
            evidence,
            ("augmentation", "regularization"),
            (best_step, int(m.steps[-1])),
        )
    ]


@rule(130)
def loss_flat_miou_rising(rs: RunSeries, cfg: DiagnosisConfig) -> list[Finding]:
    """The normal segmentation picture: a flat loss while mIoU still improves — keep training."""
    p = miou_progress(rs, cfg)
    if p is None or p.status != "improving":
        return []
    m = rs.miou.finite
    w0, end = int(m.steps[-p.window]), int(m.steps[-1])
    loss_dir, loss_p = loss_direction(rs, w0, end)
    if loss_dir != "flat":
        return []
    return [
        FLAT_LOSS_RISING_MIOU(
            f"The training loss shows no trend over steps {w0}–{end} (Mann–Kendall p = "
            f"{loss_p:.2f}) but validation mIoU still gains {p.gain:+.4f} (noise ±{p.noise:.4f}, "
            f"threshold {p.threshold:+.4f}): this is normal in segmentation, keep training.",
            {"miou_gain": p.gain, "threshold": p.threshold, "loss_trend_p": loss_p},
            ("iterations",),
            (w0, end),
        )
    ]
