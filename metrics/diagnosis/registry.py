"""The diagnosis rules, registered where they are defined: ``@rule(order)`` on a rule function.

A rule takes a run's series and the thresholds and returns its findings; ``rules()`` gives them
in their declared order (the order findings of equal severity are listed in). Adding a rule is
writing it, with its ``FindingCode``, in a rule module: nothing else to keep in step.
"""

from __future__ import annotations

from collections.abc import Callable

from metrics.diagnosis.config import DiagnosisConfig
from metrics.diagnosis.findings import Finding
from metrics.diagnosis.inputs import RunSeries

Rule = Callable[[RunSeries, DiagnosisConfig], list[Finding]]

_RULES: list[tuple[int, Rule]] = []


def rule(order: int) -> Callable[[Rule], Rule]:
    """Register a rule; ``order`` places it among the others (lower runs first)."""

    def add(fn: Rule) -> Rule:
        if any(r is fn for _, r in _RULES):
            raise ValueError(f"rule {fn.__name__} is registered twice")
        _RULES.append((order, fn))
        return fn

    return add


def rules() -> tuple[Rule, ...]:
    """Every registered rule, in order."""
    return tuple(fn for _, fn in sorted(_RULES, key=lambda r: r[0]))
