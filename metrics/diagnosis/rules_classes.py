"""Rules on per-class IoU and accuracy: dead classes, majority-class prediction, absent classes."""

from __future__ import annotations

import math

import numpy as np

from metrics.diagnosis.config import DiagnosisConfig
from metrics.diagnosis.findings import Finding, FindingCode
from metrics.diagnosis.inputs import RunSeries
from metrics.diagnosis.registry import rule
from metrics.stats.trends import noise_level

DEAD_CLASS = FindingCode(
    "dead_class",
    "warning",
    None,
    "a class has IoU ≈ 0 at each of the last evals (named)",
    follows_divergence=True,
)
MAJORITY = FindingCode(
    "majority_class",
    "warning",
    None,
    "pixel accuracy high while mIoU ≈ aAcc / C (info when the run recovered)",
    follows_divergence=True,
)
ABSENT = FindingCode(
    "absent_classes",
    "info",
    None,
    "mIoU jumped because the number of classes it averages changed",
    follows_divergence=True,
)


@rule(110)
def dead_class(rs: RunSeries, cfg: DiagnosisConfig) -> list[Finding]:
    """Classes whose IoU is ≈ 0 at every one of the recent evaluations."""
    dead = dead_classes(rs, cfg)
    if not dead:
        return []
    names = ", ".join(repr(n) for n, _, _ in dead)
    plural = "Classes" if len(dead) > 1 else "Class"
    return [
        DEAD_CLASS(
            f"{plural} {names} had IoU ≤ {cfg.dead_iou:g} at each of the last {cfg.dead_evals} "
            "evaluations: the model never gets them right.",
            {"classes": [n for n, _, _ in dead], "evals": cfg.dead_evals, "max_iou": cfg.dead_iou},
            ("labels", "class_balance"),
            (min(a for _, a, _ in dead), max(b for _, _, b in dead)),
        )
    ]


def dead_classes(rs: RunSeries, cfg: DiagnosisConfig) -> list[tuple[str, int, int]]:
    """(name, first step, last step) of the classes with IoU ≤ ``dead_iou`` at each of their
    last ``dead_evals`` finite evals, by name (computed once per diagnosis: two rules read it)."""

    def compute() -> list[tuple[str, int, int]]:
        k = cfg.dead_evals
        dead: list[tuple[str, int, int]] = []
        for name, s in sorted(rs.class_iou.items()):
            v = s.finite
            if len(v) >= k and np.all(v.values[-k:] <= cfg.dead_iou):
                dead.append((name, int(v.steps[-k]), int(v.steps[-1])))
        return dead

    return rs.cached(("dead_classes", cfg.dead_evals, cfg.dead_iou), compute)


def _class_counts(rs: RunSeries) -> dict[int, tuple[int, int]]:
    """Per eval step: classes counted in mIoU (finite IoU) and those with IoU above 0.01
    (computed once per diagnosis, over all classes at once: two rules read them)."""

    def compute() -> dict[int, tuple[int, int]]:
        if not rs.class_iou:
            return {}
        steps = np.concatenate([s.steps for s in rs.class_iou.values()])
        values = np.concatenate([s.values for s in rs.class_iou.values()])
        at, which = np.unique(steps, return_inverse=True)
        finite = np.isfinite(values)
        counted = np.bincount(which[finite], minlength=len(at))
        alive = np.bincount(which[finite & (values > 0.01)], minlength=len(at))
        pairs = zip(counted.tolist(), alive.tolist(), strict=True)
        return dict(zip(at.tolist(), pairs, strict=True))

    return rs.cached("class_counts", compute)


@rule(100)
def majority_class(rs: RunSeries, cfg: DiagnosisConfig) -> list[Finding]:
    """Pixel accuracy high while mIoU ≈ aAcc / C: only the majority class is predicted."""
    if not len(rs.aacc) or not len(rs.miou):
        return []
    counts = _class_counts(rs)
    # the first mIoU logged at each step (reversed: the first one is written last)
    miou_at = dict(zip(rs.miou.steps[::-1].tolist(), rs.miou.values[::-1].tolist(), strict=True))
    hits: list[tuple[int, float, float, int]] = []
    for step, aacc in zip(rs.aacc.steps.tolist(), rs.aacc.values.tolist(), strict=True):
        miou = miou_at.get(step)
        if miou is None or not (math.isfinite(aacc) and math.isfinite(miou)):
            continue
        counted, alive = counts.get(step, (0, 0))
        c = counted or rs.num_classes
        if not c or c < 2:
            continue
        if counted:
            majority = alive <= 1 and aacc >= 0.5
        else:
            majority = aacc >= 0.5 and miou <= (aacc / c) * (1 + cfg.majority_margin)
        hits.append((step, aacc, miou, c) if majority else (step, -1, -1, c))
    flagged = [h for h in hits if h[1] >= 0]
    if not flagged:
        return []
    last_step = hits[-1][0]
    step, aacc, miou, c = flagged[-1]
    if flagged[-1][0] == last_step:
        return [
            MAJORITY(
                f"Pixel accuracy is {aacc:.3f} but mIoU only {miou:.3f} (≈ aAcc / {c}): the model "
                "predicts the majority class almost everywhere.",
                {"aacc": aacc, "miou": miou, "classes": c, "evals_flagged": len(flagged)},
                ("class_balance", "labels", "learning_rate"),
                (flagged[0][0], last_step),
            )
        ]
    recovered = next(h[0] for h in hits if h[0] > step and h[1] < 0)
    return [
        MAJORITY(
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
            severity="info",
        )
    ]


@rule(120)
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
                ABSENT(
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


BROKEN_EVAL = FindingCode(
    "broken_eval",
    "critical",
    "broken_eval",
    "the evaluation cannot measure the model: mIoU ≥ 0.99 while a class is NaN, or no more than "
    "one class is ever counted (names the classes; labels first)",
)
NEVER_EVALUATED = FindingCode(
    "class_never_evaluated",
    "warning",
    None,
    "a class is NaN (absent from labels and predictions) at every eval: mIoU averages the "
    "others only (the ignore class excepted)",
)
#: Names a dataset gives its ignore class; NaN at every eval is right for them.
IGNORE_NAMES = frozenset({"unlabeled", "unlabelled", "ignore", "ignored", "void", "dontcare"})


@rule(40)
def broken_eval(rs: RunSeries, cfg: DiagnosisConfig) -> list[Finding]:
    """Classes never present in the validation set, and evaluations they make meaningless."""
    m = rs.miou.finite
    if not rs.class_iou or not len(m):
        return []
    ignored = _ignore_class(rs)
    never = sorted(
        name
        for name, s in rs.class_iou.items()
        if len(s) and name != ignored and name.lower() not in IGNORE_NAMES
        and not np.isfinite(s.values).any()
    )  # fmt: skip
    counted = [n for n, s in rs.class_iou.items() if np.isfinite(s.values).any()]
    last_nan = sorted(
        n for n, s in rs.class_iou.items() if len(s) and not math.isfinite(float(s.values[-1]))
    )
    last_miou = float(m.values[-1])
    degenerate = (last_miou >= 0.99 and last_nan) or (never and len(counted) <= 1)
    if not never and not degenerate:
        return []
    names = never or last_nan
    listed = ", ".join(repr(n) for n in names)
    evidence = {
        "classes": names,
        "classes_counted": len(counted),
        "classes_logged": len(rs.class_iou),
        "last_miou": last_miou,
        "ignore_class": ignored,
    }
    steps = (int(m.steps[0]), int(m.steps[-1]))
    if degenerate:
        return [
            BROKEN_EVAL(
                f"The evaluation is broken: class {listed} is NaN at "
                f"{'every' if never else 'the last'} evaluation (absent from the validation "
                f"labels and the predictions), so mIoU {last_miou:.4f} averages only "
                f"{len(counted)} class(es). Check the label values and the class mapping "
                "(`segwatch labels GT_DIR --num-classes N`).",
                evidence,
                ("labels", "data_pipeline"),
                steps,
            )
        ]
    return [
        NEVER_EVALUATED(
            f"Class {listed} never occurs in the validation set (NaN at every evaluation): "
            f"mIoU averages {len(counted)} of {len(rs.class_iou)} classes and says nothing "
            "about it. Check the class mapping or add images with it to the validation split.",
            evidence,
            ("labels",),
            steps,
        )
    ]


def _ignore_class(rs: RunSeries) -> str | None:
    """The class name of the ignore index, when the run's classes include it."""
    i, names = rs.ignore_index, rs.class_names
    return names[i] if i is not None and 0 <= i < len(names) else None
