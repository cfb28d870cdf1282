"""What a diagnosis says: findings with their evidence and the checks to try, and a status."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["info", "warning", "critical"]
Status = Literal["diverging", "overfitting", "stalled", "ok", "no_eval"]
Check = Literal[
    "learning_rate",
    "augmentation",
    "labels",
    "iterations",
    "class_balance",
    "regularization",
    "data_pipeline",
]

#: What each check means in practice (shown next to a finding).
CHECK_ADVICE: Mapping[str, str] = {
    "learning_rate": "Learning rate: too high shows as spikes or NaN, too low or decayed too early "
    "as a flat curve; try a warm-up, a lower peak, or a later/slower decay.",
    "augmentation": "Data augmentation: too weak lets the model overfit, too strong makes it "
    "underfit; compare train and val curves after changing crop/scale/colour jitter.",
    "labels": "Labels: check the class mapping, masks saved as 0/255 instead of class ids, the "
    "ignore index (255) counted as a class, and classes that never appear "
    "(`segwatch labels GT_DIR --num-classes N`).",
    "iterations": "Iterations: the curve may simply need more steps; extend the schedule or "
    "resume from the best checkpoint.",
    "class_balance": "Class balance: rare classes need class weights, OHEM, Lovász/Dice loss or "
    "oversampling of images that contain them.",
    "regularization": "Regularisation: weight decay, dropout, stochastic depth or an earlier "
    "stop at the best checkpoint.",
    "data_pipeline": "Data pipeline: look for corrupt images, wrong normalisation (0–255 vs 0–1, "
    "mean/std), image/label misalignment after transforms, and NaN inputs.",
}


@dataclass(frozen=True)
class Finding:
    """One thing the diagnosis noticed, with the numbers behind it and what to check."""

    code: str
    severity: Severity
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()
    steps: tuple[int, int] | None = None  # the step range the finding concerns

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["evidence"] = dict(self.evidence)
        out["checks"] = list(self.checks)
        out["steps"] = list(self.steps) if self.steps else None
        return out


_SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
_STATUS_OF: dict[str, Status] = {
    "loss_nonfinite": "diverging",
    "loss_explosion": "diverging",
    "overfitting": "overfitting",
    "miou_plateau": "stalled",
    "lr_exhausted": "stalled",
    "uniform_prediction": "stalled",
}
_STATUS_RANK: dict[Status, int] = {"diverging": 0, "overfitting": 1, "stalled": 2, "ok": 3}


@dataclass(frozen=True)
class RunDiagnosis:
    """The verdict on one run: its status and the findings, most severe first."""

    status: Status
    findings: tuple[Finding, ...]

    @property
    def top(self) -> Finding | None:
        """The finding to show first (most severe), if any."""
        return self.findings[0] if self.findings else None

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "findings": [f.to_dict() for f in self.findings]}


def verdict(findings: list[Finding], has_eval: bool) -> RunDiagnosis:
    """Order findings by severity and derive the status (diverging > overfitting > stalled > ok)."""
    ordered = tuple(sorted(findings, key=lambda f: _SEVERITY_RANK[f.severity]))
    statuses = [_STATUS_OF[f.code] for f in findings if f.code in _STATUS_OF]
    status: Status = "ok"
    if statuses:
        status = min(statuses, key=lambda s: _STATUS_RANK[s])
    elif not has_eval:
        status = "no_eval"
    if status == "ok" and not has_eval:
        status = "no_eval"
    return RunDiagnosis(status, ordered)
