"""Which diagnoses are worth a notification: the one place that decides it.

A run's *condition* is what about it is worth an alert: its status when the status is one
of ``ALERT_STATUSES``; otherwise the codes of its findings in ``ALERT_FINDINGS`` (problems
the status does not show, such as a process that stopped writing while the status says
``ok``). An empty condition means nothing to tell. To alert on another status or finding,
add it to one of the sets below; nothing else has to change.

The diagnosis learns new statuses and findings over time. Two rules cover those the sets do
not name yet — a new failure mode should rather send one alert too many than none:

- a status in neither ``ALERT_STATUSES`` nor ``QUIET_STATUSES`` alerts when the run has a
  warning or critical finding;
- a critical finding alerts on its own when the status does not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from metrics.diagnosis import Finding, RunDiagnosis

#: Statuses worth a notification: entering one sends an alert.
ALERT_STATUSES: frozenset[str] = frozenset(
    {
        "diverging",
        "overfitting",
        "stalled",
        "stopped",  # the process stopped writing before its planned last step
        "broken_eval",  # the evaluation cannot measure the model
    }
)
#: Statuses that never alert: fine, finished, not judgeable yet, or a warning that is shown
#: on the dashboard but does not stop training (``attention``: a dead class, loss spikes).
QUIET_STATUSES: frozenset[str] = frozenset({"ok", "no_eval", "converged", "attention"})
#: Findings that alert when the status does not (the status then says ``ok`` or similar).
ALERT_FINDINGS: frozenset[str] = frozenset(
    {
        "stuck_process",  # no new record for far longer than the logging interval
        "stopped_early",  # the log ended short of its planned steps long ago
        "broken_eval",
    }
)
#: Severities that make an unknown status alert.
_SERIOUS = frozenset({"warning", "critical"})


def status_alerts(status: str, findings: Iterable[Finding] = ()) -> bool:
    """Whether ``status`` is worth an alert (an unknown one is when a finding is serious)."""
    if status in ALERT_STATUSES:
        return True
    if status in QUIET_STATUSES:
        return False
    return any(f.severity in _SERIOUS for f in findings)


@dataclass(frozen=True)
class Condition:
    """What is worth an alert in one run (``items``, sorted; empty when nothing is)."""

    status: str
    items: tuple[str, ...]
    findings: tuple[Finding, ...] = ()

    @property
    def alerting(self) -> bool:
        return bool(self.items)

    def finding_for(self, items: Iterable[str]) -> Finding | None:
        """The finding to show for ``items``: one named by an item, else the top finding."""
        wanted = set(items)
        for f in self.findings:
            if f.code in wanted:
                return f
        return self.findings[0] if self.findings else None


def condition_of(diagnosis: RunDiagnosis) -> Condition:
    """The condition of a diagnosed run: its status if that alerts, else alerting findings."""
    if status_alerts(diagnosis.status, diagnosis.findings):
        items: tuple[str, ...] = (diagnosis.status,)
    else:
        codes = {
            f.code
            for f in diagnosis.findings
            if f.code in ALERT_FINDINGS or f.severity == "critical"
        }
        items = tuple(sorted(codes))
    return Condition(diagnosis.status, items, diagnosis.findings)
