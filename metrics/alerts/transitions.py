"""When to alert: a run entering a condition that needs attention, once, rate-limited.

Per run and notification target the watcher remembers what it last *told* (``Delivery``).
Each pass compares that with the run's current ``Condition``:

- something needs attention that was not told yet → an ``entered`` alert (a run already
  stalled when first seen alerts once; one that goes from stalled to diverging alerts again);
- nothing needs attention any more while something was told → a ``recovered`` alert when
  recoveries are asked for, otherwise the record silently forgets it (so a relapse alerts);
- otherwise nothing.

An alert is sent only if the last one to the same target for the same run is at least
``AlertPolicy.min_gap_s`` old; until then it is *held*. A held or undelivered alert is not
stored: the next pass derives it again from the run as it is then, so a flapping run sends
at most one alert per gap, about its latest state, and nothing if it is back to what was told.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from metrics.alerts.alerting import Condition

AlertKind = Literal["entered", "recovered"]

#: Default smallest gap between two alerts about one run to one target (30 minutes).
MIN_GAP_S = 1800.0


@dataclass(frozen=True)
class AlertPolicy:
    """How chatty the watcher is: the smallest gap between alerts and whether to send recoveries."""

    min_gap_s: float = MIN_GAP_S
    recoveries: bool = False


@dataclass(frozen=True)
class Delivery:
    """What one target was last told about one run, and when an alert last reached it."""

    notified: tuple[str, ...] = ()
    last_sent: float | None = None


@dataclass(frozen=True)
class Alert:
    """One notification to send: which run, entered or recovered, and the items concerned.

    ``items`` are the newly entered ones for ``entered``, those that cleared for ``recovered``.
    """

    run: str
    kind: AlertKind
    condition: Condition
    items: tuple[str, ...]


@dataclass(frozen=True)
class Decision:
    """What a pass does for one run and target: send ``alert``, or hold one until ``held_until``.

    ``record`` is what to remember when nothing is sent (or sending fails).
    """

    record: Delivery
    alert: Alert | None = None
    held_until: float | None = None


def decide(
    run: str, record: Delivery, condition: Condition, now: float, policy: AlertPolicy
) -> Decision:
    """The alert (if any) that ``condition`` calls for, given what ``record`` says was told."""
    told = set(record.notified)
    if condition.items:
        new = set(condition.items) - told
        if not new:  # nothing new; remember a smaller set so that a relapse alerts again
            return Decision(replace(record, notified=condition.items))
        alert = Alert(run, "entered", condition, tuple(sorted(new)))
    elif told:
        if not policy.recoveries:
            return Decision(replace(record, notified=()))
        alert = Alert(run, "recovered", condition, tuple(sorted(told)))
    else:
        return Decision(record)
    if record.last_sent is not None and now - record.last_sent < policy.min_gap_s:
        return Decision(record, held_until=record.last_sent + policy.min_gap_s)
    return Decision(record, alert)


def delivered(alert: Alert, now: float) -> Delivery:
    """The record after ``alert`` reached its target at ``now``."""
    return Delivery(alert.condition.items, now)
