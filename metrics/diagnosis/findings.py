"""What a diagnosis says: findings with their evidence and the checks to try, and a status.

Every finding code is declared once, next to the rule that emits it, as a ``FindingCode``: its
severity and the run status it implies. ``CODES`` collects them (the README's table of codes
is checked against it); the status of a run is the worst status its findings imply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

Severity = Literal["info", "warning", "critical"]
Status = Literal[  # worst first
    "diverging",
    "broken_eval",
    "overfitting",
    "stalled",
    "stopped",
    "attention",
    "no_eval",
    "converged",
    "ok",
]
#: Worst first: a run's status is the first of these that one of its findings implies.
STATUS_ORDER: tuple[Status, ...] = get_args(Status)
#: What each status means (README and the dashboard's legend).
STATUS_MEANING: Mapping[Status, str] = {
    "diverging": "the loss went non-finite or exploded, or mIoU collapsed after a good peak",
    "broken_eval": "the evaluation cannot measure the model (e.g. a class is never in the "
    "validation labels and mIoU is 100 % from the rest)",
    "overfitting": "val mIoU fell from its best beyond noise while the train loss kept falling",
    "stalled": "still training, but mIoU no longer gains beyond its noise",
    "stopped": "stopped writing before its planned last step",
    "attention": "training looks sound, but a warning needs a look (a dead class, spikes …)",
    "no_eval": "no validation mIoU: only the loss could be checked",
    "converged": "finished; its last part added nothing beyond noise",
    "ok": "nothing needs attention",
}
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
    status: Status | None = None  # the run status this finding implies, if any

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["evidence"] = dict(self.evidence)
        out["checks"] = list(self.checks)
        out["steps"] = list(self.steps) if self.steps else None
        return out


@dataclass(frozen=True)
class FindingCode:
    """A finding code as its rule declares it: severity, implied status, a line for the README."""

    code: str
    severity: Severity
    status: Status | None
    when: str
    #: Folded under a divergence when it concerns the steps after it (a consequence, not a cause).
    follows_divergence: bool = False
    #: About the mIoU trend: meaningless, and dropped, when the evaluation is broken.
    about_trend: bool = False

    def __post_init__(self) -> None:
        CODES[self.code] = self

    def __call__(
        self,
        message: str,
        evidence: Mapping[str, Any] | None = None,
        checks: tuple[Check, ...] = (),
        steps: tuple[int, int] | None = None,
        *,
        severity: Severity | None = None,
        status: Status | None = None,
    ) -> Finding:
        """A finding of this code (``severity``/``status`` override the declared ones)."""
        return Finding(
            self.code,
            severity or self.severity,
            message,
            dict(evidence or {}),
            checks,
            steps,
            status or self.status,
        )


#: Every finding code, filled as the rule modules declare theirs.
CODES: dict[str, FindingCode] = {}

_SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
_STATUS_RANK = {s: i for i, s in enumerate(STATUS_ORDER)}


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


def verdict(findings: list[Finding]) -> RunDiagnosis:
    """Order findings by severity and take the worst status they imply (else ``ok``).

    A warning or critical finding never leaves a run ``ok``: without a status of its own it
    makes an otherwise ``ok`` run ``attention``.
    """
    ordered = sorted(
        findings,
        key=lambda f: (_SEVERITY_RANK[f.severity], _STATUS_RANK[f.status or "ok"]),
    )
    implied: list[Status] = [f.status for f in findings if f.status is not None]
    status: Status = min(implied, key=_STATUS_RANK.__getitem__, default="ok")
    if status == "ok" and any(f.severity != "info" for f in findings):
        status = "attention"
    return RunDiagnosis(status, tuple(ordered))
