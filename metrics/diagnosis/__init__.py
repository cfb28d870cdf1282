"""Diagnose a run: stalled, diverging, overfitting — with the evidence and the checks to try.

``diagnose(run)`` applies every rule to the run's validation mIoU, per-class IoU, training loss
and learning rate. A flat training loss alone is normal in segmentation and never a stall:
the validation mIoU decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from metrics.diagnosis.config import DiagnosisConfig, load_config
from metrics.diagnosis.findings import CHECK_ADVICE, Finding, RunDiagnosis, verdict
from metrics.diagnosis.inputs import RunSeries
from metrics.diagnosis.rules_classes import absent_classes, dead_class, majority_class
from metrics.diagnosis.rules_loss import loss_explosion, loss_nonfinite, uniform_prediction
from metrics.diagnosis.rules_miou import (
    loss_flat_miou_rising,
    lr_exhausted,
    miou_plateau,
    overfitting,
)
from metrics.diagnosis.rules_process import stuck_process

__all__ = [
    "CHECK_ADVICE",
    "DiagnosisConfig",
    "Finding",
    "RunDiagnosis",
    "RunSeries",
    "diagnose",
    "diagnose_table",
    "load_config",
]

RULES = (
    loss_nonfinite,
    loss_explosion,
    uniform_prediction,
    overfitting,
    miou_plateau,
    lr_exhausted,
    dead_class,
    majority_class,
    absent_classes,
    loss_flat_miou_rising,
)


def diagnose_table(
    table: pd.DataFrame,
    meta: Mapping[str, Any] | None = None,
    *,
    updated: float | None = None,
    config: DiagnosisConfig | None = None,
    now: float | None = None,
) -> RunDiagnosis:
    """Diagnose one run given its tidy table, what its logs say (``meta``) and its mtime."""
    cfg = config or DiagnosisConfig()
    rs = RunSeries.from_table(table, meta, updated)
    findings: list[Finding] = []
    for rule in RULES:
        findings.extend(rule(rs, cfg))
    findings.extend(stuck_process(rs, cfg, now))
    codes = {f.code for f in findings}
    if "overfitting" in codes:  # a drop beyond noise is the sharper verdict than a plateau
        findings = [f for f in findings if f.code != "miou_plateau"]
    return verdict(findings, has_eval=len(rs.miou.finite) > 0)


def diagnose(
    run: Any, config: DiagnosisConfig | None = None, now: float | None = None
) -> RunDiagnosis:
    """Diagnose a ``metrics.runs.Run`` (anything with ``table``, ``meta`` and ``updated``)."""
    return diagnose_table(
        run.table,
        getattr(run, "meta", None),
        updated=getattr(run, "updated", None),
        config=config,
        now=now,
    )
