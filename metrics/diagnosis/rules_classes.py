"""Rules on per-class IoU and accuracy: dead classes, majority-class prediction, absent classes."""

from __future__ import annotations

import math

import numpy as np

from metrics.diagnosis.config import DiagnosisConfig
from metrics.diagnosis.findings import Finding
from metrics.diagnosis.inputs import RunSeries
from metrics.stats.trends import noise_level


def dead_class(rs: RunSeries, cfg: DiagnosisConfig) -> list[Finding]:
    """Classes whose IoU is ≈ 0 at every one of the recent evaluations."""
    dead = []
    for name, s in sorted(rs.class_iou.items()):
        v = s.finite
        if len(v) >= cfg.dead_evals and np.all(v.values[-cfg.dead_evals :] <= cfg.dead_iou):
            dead.append((name, int(v.steps[-cfg.dead_evals]), int(v.steps[-1])))
    if not dead:
        return []
    names = ", ".join(repr(n) for n, _, _ in dead)
    plural = "Classes" if len(dead) > 1 else "Class"
    return [
        Finding(
            "dead_class",
            "warning",
            f"{plural} {names} had IoU ≤ {cfg.dead_iou:g} at each of the last {cfg.dead_evals} "
            "evaluations: the model never gets them right.",
            {"classes": [n for n, _, _ in dead], "evals": cfg.dead_evals, "max_iou": cfg.dead_iou},
            ("labels", "class_balance"),
            (min(a for _, a, _ in dead), max(b for _, _, b in dead)),
        )
    ]


def _class_counts(rs: RunSeries) -> dict[int, tuple[int, int]]:
    """Per eval step: classes counted in mIoU (finite IoU) and those with IoU above 0.01."""
    counted: dict[int, list[int]] = {}
    for s in rs.class_iou.values():
        finite = np.isfinite(s.values)
        for step, ok, alive in zip(s.steps.tolist(), finite, s.values > 0.01, strict=True):
            c = counted.setdefault(step, [0, 0])
            c[0] += int(ok)
            c[1] += int(ok and alive)
    return {step: (c[0], c[1]) for step, c in counted.items()}


def majority_class(rs: RunSeries, cfg: DiagnosisConfig) -> list[Finding]:
    """Pixel accuracy high while mIoU ≈ aAcc / C: only the majority class is predicted."""
    if not len(rs.aacc) or not len(rs.miou):
        return []
    counts = _class_counts(rs)
    hits: list[tuple[int, float, float, int]] = []
    for step, aacc in zip(rs.aacc.steps, rs.aacc.values, strict=True):
        miou = rs.miou.values[rs.miou.steps == step]
        if not len(miou) or not (math.isfinite(aacc) and math.isfinite(miou[0])):
            continue
        counted, alive = counts.get(int(step), (0, 0))
        c = counted or rs.num_classes
        if not c or c < 2:
            continue
        if counted:
            majority = alive <= 1 and aacc >= 0.5
        else:
            majority = aacc >= 0.5 and miou[0] <= (aacc / c) * (1 + cfg.majority_margin)
        hits.append(
            (int(step), float(aacc), float(miou[0]), c) if majority else (int(step), -1, -1, c)
        )
    flagged = [h for h in hits if h[1] >= 0]
    if not flagged:
        return []
    last_step = hits[-1][0]
    step, aacc, miou, c = flagged[-1]
    if flagged[-1][0] == last_step:
        return [
            Finding(
                "majority_class",
                "warning",
                f"Pixel accuracy is {aacc:.3f} but mIoU only {miou:.3f} (≈ aAcc / {c}): the model "
                "predicts the majority class almost everywhere.",
                {"aacc": aacc, "miou": miou, "classes": c, "evals_flagged": len(flagged)},
                ("class_balance", "labels", "learning_rate"),
                (flagged[0][0], last_step),
            )
        ]
    recovered = next(h[0] for h in hits if h[0] > step and h[1] < 0)
    return [
        Finding(
            "majority_class",
            "info",
            f"The run started by predicting only the majority class (aAcc {flagged[0][1]:.3f}, "
            f"mIoU {flagged[0][2]:.3f} at step {flagged[0][0]}) and recovered by step "
            f"{recovered}.",
            {
                "first_step": flagged[0][0],
                "recovered_step": recovered,
                "evals_flagged": len(flagged),
            },
            ("class_balance",),
            (flagged[0][0], recovered),
        )
    ]


def absent_classes(rs: RunSeries, cfg: DiagnosisConfig) -> list[Finding]:
    """mIoU jumped because the number of classes counted in it changed between evals."""
    m = rs.miou.finite
    if len(m) < 3 or not rs.class_iou:
        return []
    sigma = noise_level(m.values)
    margin = cfg.z * math.sqrt(2.0) * sigma if math.isfinite(sigma) else 0.0
    out = []
    counts = _class_counts(rs)
    prev = counts.get(int(m.steps[0]), (0, 0))[0]
    for i in range(1, len(m)):
        n = counts.get(int(m.steps[i]), (0, 0))[0]
        jump = float(m.values[i] - m.values[i - 1])
        if n and prev and n != prev and abs(jump) > margin:
            out.append(
                Finding(
                    "absent_classes",
                    "info",
                    f"mIoU moved by {jump:+.4f} at step {int(m.steps[i])} while the number of "
                    f"classes it averages changed from {prev} to {n}: part of the jump is the "
                    "class count, not learning.",
                    {
                        "step": int(m.steps[i]),
                        "jump": jump,
                        "classes_before": prev,
                        "classes_after": n,
                    },
                    ("labels",),
                    (int(m.steps[i - 1]), int(m.steps[i])),
                )
            )
        prev = n or prev
    return out
