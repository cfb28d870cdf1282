"""Which diagnoses need attention: the one place that decides what is worth a notification.

A run's *condition* is the set of things about it that need attention: its status when the
status is one of ``ATTENTION_STATUSES``, plus the codes of findings in ``ATTENTION_FINDINGS``
(problems that do not change the status, such as a process that stopped writing). An empty
condition means the run is fine. To alert on a new status or finding, add it to one of the
sets below; nothing else has to change.

Two rules cover what the diagnosis learns after these lists were written — a new failure mode
should rather send one alert too many than none:

- a status in neither ``ATTENTION_STATUSES`` nor ``QUIET_STATUSES`` needs attention when the
  run has a warning or critical finding;
- a critical finding needs attention on its own when the status is quiet (a critical finding
  behind an attention status is already told by that status).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from metrics.diagnosis import Finding, RunDiagnosis

#: Statuses that need attention: entering one sends an alert.
ATTENTION_STATUSES: frozenset[str] = frozenset(
    {
        "diverging",
        "overfitting",
        "stalled",
        "stopped_early",  # a process that ended before its planned iterations
        "broken_eval",  # an evaluation that cannot be trusted
    }
)
#: Statuses of runs that are fine (or cannot be judged yet): never an alert.
QUIET_STATUSES: frozenset[str] = frozenset({"ok", "no_eval", "converged"})
#: Findings that need attention whatever the status says.
ATTENTION_FINDINGS: frozenset[str] = frozenset(
    {
        "stuck_process",  # no new record for far longer than the logging interval
        "stopped_early",
        "broken_eval",
    }
)
#: Severities that make an unknown status need attention.
_SERIOUS = frozenset({"warning", "critical"})


def status_needs_attention(status: str, findings: Iterable[Finding] = ()) -> bool:
    """Whether ``status`` needs attention (an unknown one does when a finding is serious)."""
    if status in ATTENTION_STATUSES:
        return True
    if status in QUIET_STATUSES:
        return False
    return any(f.severity in _SERIOUS for f in findings)


@dataclass(frozen=True)
class Condition:
    """What needs attention in one run (``items``, sorted; empty when nothing does)."""

    status: str
    items: tuple[str, ...]
    findings: tuple[Finding, ...] = ()

    @property
    def attention(self) -> bool:
        return bool(self.items)

    def finding_for(self, items: Iterable[str]) -> Finding | None:
        """The finding to show for ``items``: one named by an item, else the top finding."""
        wanted = set(items)
        for f in self.findings:
            if f.code in wanted:
                return f
        return self.findings[0] if self.findings else None


def condition_of(diagnosis: RunDiagnosis) -> Condition:
    """The condition of a diagnosed run."""
    items = {f.code for f in diagnosis.findings if f.code in ATTENTION_FINDINGS}
    if status_needs_attention(diagnosis.status, diagnosis.findings):
        items.add(diagnosis.status)
    elif diagnosis.status in QUIET_STATUSES:
        items |= {f.code for f in diagnosis.findings if f.severity == "critical"}
    return Condition(diagnosis.status, tuple(sorted(items)), diagnosis.findings)
