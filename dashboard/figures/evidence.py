"""A finding's evidence as a table a person reads: labelled, rounded like the finding's sentence.

The sentences print mIoU gains, noise and thresholds to 4 decimals, so the table does too
(``0.00009999999999998899`` reads ``0.0001``). Pure: a dict in, text rows out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

LABELS = {
    "gain": "mIoU gain over the window",
    "noise": "eval-to-eval noise (±)",
    "threshold": "gain needed to count (beyond noise)",
    "window_evals": "evaluations in the window",
    "window_steps": "window (steps)",
    "span_evals": "evaluations per span",
    "spans": "spans",
    "best_miou": "best mIoU",
    "best_step": "best at step",
    "last_miou": "last mIoU",
    "drop": "drop from the best",
    "evals_since_best": "evaluations since the best",
    "train_loss_trend_p": "train loss trend (Mann-Kendall p)",
    "loss_trend_p": "loss trend (Mann-Kendall p)",
    "mann_kendall_p": "Mann-Kendall p",
    "val_loss_at_best": "val loss at the best step",
    "val_loss_last": "last val loss",
    "planned_steps": "planned steps",
    "last_step": "last step",
    "share_done": "share of the schedule done",
    "silent_seconds": "seconds without a new line",
    "limit_seconds": "limit (seconds)",
    "peak_lr": "peak lr",
    "last_lr": "last lr",
    "floor_step": "lr reached its floor at step",
}


def evidence_rows(evidence: Mapping[str, object]) -> list[dict[str, str]]:
    """One (evidence, value) row per key, in the finding's order."""
    return [
        {"evidence": LABELS.get(k, k.replace("_", " ")), "value": fmt(v)}
        for k, v in evidence.items()
    ]


def fmt(v: object) -> str:
    """A value as the finding's sentence would print it."""
    if isinstance(v, bool) or v is None:
        return {True: "yes", False: "no", None: "—"}[v]
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return _number(v)
    if isinstance(v, Mapping):
        return ", ".join(f"{k.replace('_', ' ')} {fmt(x)}" for k, x in v.items())
    if isinstance(v, list | tuple):
        if len(v) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in v):
            return f"{v[0]:,}–{v[1]:,}"
        return "; ".join(fmt(x) for x in v)
    return str(v)


def _number(v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    if v == 0 or (v.is_integer() and abs(v) >= 1000):
        return f"{v:,.0f}"
    if abs(v) >= 1000:
        return f"{v:,.1f}"
    if abs(v) >= 5e-5:  # 4 decimals, as the sentences print mIoU, gains and noise
        return f"{v:.4f}"
    return f"{v:.2e}"
