"""Alerts on runs: which diagnoses are worth one, when to notify, the message, the saved state.

Pure decision logic, no network: ``condition_of`` reads a diagnosis (``alerting`` holds the
statuses and findings worth an alert), ``decide`` says whether a run entered (or left) such a
condition, ``compose`` writes the message, ``load_state``/``save_state`` keep what was sent
across restarts and ``state_lock`` allows one watcher per state file. ``segwatch watch`` sends
the alerts through Apprise.
"""

from metrics.alerts.alerting import (
    ALERT_FINDINGS,
    ALERT_STATUSES,
    QUIET_STATUSES,
    Condition,
    condition_of,
    status_alerts,
)
from metrics.alerts.lock import state_lock
from metrics.alerts.message import AlertMessage, compose, label, run_page_url
from metrics.alerts.state import (
    AlertState,
    RunRecord,
    default_state_path,
    load_state,
    save_state,
    target_key,
)
from metrics.alerts.transitions import (
    MIN_GAP_S,
    Alert,
    AlertKind,
    AlertPolicy,
    Decision,
    Delivery,
    decide,
    delivered,
)

__all__ = [
    "ALERT_FINDINGS",
    "ALERT_STATUSES",
    "MIN_GAP_S",
    "QUIET_STATUSES",
    "Alert",
    "AlertKind",
    "AlertMessage",
    "AlertPolicy",
    "AlertState",
    "Condition",
    "Decision",
    "Delivery",
    "RunRecord",
    "compose",
    "condition_of",
    "decide",
    "default_state_path",
    "delivered",
    "label",
    "load_state",
    "run_page_url",
    "save_state",
    "state_lock",
    "status_alerts",
    "target_key",
]
