"""Diagnose a run: stalled, diverging, overfitting — with the evidence and the checks to try.

``diagnose(run)`` applies every rule to the run's validation mIoU, per-class IoU, training loss
and learning rate. A flat training loss alone is normal in segmentation and never a stall:
the validation mIoU decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pandas as pd

from metrics.diagnosis import rules_classes, rules_loss, rules_miou  # noqa: F401 (register rules)
from metrics.diagnosis.config import DiagnosisConfig, load_config
from metrics.diagnosis.findings import (
    CHECK_ADVICE,
    CODES,
    STATUS_MEANING,
    STATUS_ORDER,
    Finding,
    FindingCode,
    RunDiagnosis,
    verdict,
)
from metrics.diagnosis.inputs import RunSeries
from metrics.diagnosis.registry import Rule, rule, rules
from metrics.diagnosis.rules_process import Clock, life_state, lifecycle, no_eval
from metrics.readers.base import LogMeta

__all__ = [
    "CHECK_ADVICE",
    "CODES",
    "STATUS_MEANING",
    "STATUS_ORDER",
    "Clock",
    "DiagnosisConfig",
    "Finding",
    "FindingCode",
    "Rule",
    "RunDiagnosis",
    "RunSeries",
    "diagnose",
    "diagnose_series",
    "diagnose_table",
    "life_state",
    "lifecycle",
    "load_config",
    "rule",
    "rules",
]

#: A run's format name → the framework whose evaluation settings ``no_eval`` explains.
FAMILIES = (
    ("paddleseg", "paddleseg"),
    ("mmseg", "mmseg"),
    ("detectron2", "detectron2"),
    ("hf", "hf"),
    ("lightning", "lightning"),
)


def diagnose_table(
    table: pd.DataFrame,
    meta: LogMeta | Mapping[str, Any] | None = None,
    *,
    updated: float | None = None,
    config: DiagnosisConfig | None = None,
    now: float | None = None,
    format: str | None = None,
) -> RunDiagnosis:
    """Diagnose one run given its tidy table, what its logs state (``meta``: a ``LogMeta``, or a
    mapping of its field names) and its files' latest mtime (``updated``)."""
    rs = RunSeries.from_table(table, meta, updated)
    return diagnose_series(rs, config=config, now=now, format=format)


def diagnose_series(
    rs: RunSeries,
    *,
    config: DiagnosisConfig | None = None,
    now: float | None = None,
    format: str | None = None,
) -> RunDiagnosis:
    """Diagnose the series pulled from a run (``RunSeries``): what ``diagnose_table`` does once
    it has them, for callers that keep the series (and its ``Clock``) but not the table."""
    cfg = config or DiagnosisConfig()
    rs = replace(rs, life=lifecycle(rs, cfg, now))
    findings: list[Finding] = []
    for check in rules():
        findings.extend(check(rs, cfg))
    family = next((fam for prefix, fam in FAMILIES if (format or "").startswith(prefix)), None)
    findings.extend(no_eval(rs, cfg, family))
    codes = {f.code for f in findings}
    if "overfitting" in codes:  # a drop beyond noise is the sharper verdict than a plateau
        findings = [f for f in findings if f.code not in ("miou_plateau", "converged")]
    if "broken_eval" in codes:  # an evaluation that cannot measure the model has no trend
        findings = [f for f in findings if not CODES[f.code].about_trend]
    return verdict(root_cause_first(findings))


def root_cause_first(findings: list[Finding]) -> list[Finding]:
    """Fold what follows from a divergence into it: plateaus, dead classes and the like after
    the step it began are consequences, not separate causes (listed in its evidence)."""
    diverging = [f for f in findings if f.status == "diverging"]
    if not diverging:
        return findings
    cause = min(diverging, key=lambda f: f.steps[0] if f.steps else 0)
    start = cause.steps[0] if cause.steps else 0
    folded = [
        f for f in findings
        if CODES[f.code].follows_divergence and (f.steps is None or f.steps[1] >= start)
    ]  # fmt: skip
    if not folded:
        return findings
    kept = [f for f in findings if f not in folded and f is not cause]
    consequences = sorted({f.code for f in folded})
    cause = replace(cause, evidence={**cause.evidence, "consequences": consequences})
    return [cause, *kept]


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
        format=getattr(run, "format", None),
    )
