"""The text of an alert: run, new status, the finding, the first check, best mIoU, a link."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from metrics.alerts.transitions import Alert
from metrics.diagnosis import CHECK_ADVICE
from metrics.runs import RunSummary


@dataclass(frozen=True)
class AlertMessage:
    """A notification's title and plain-text body."""

    title: str
    body: str


def run_page_url(dashboard_url: str, run: str) -> str:
    """The dashboard's page of ``run``: ``<dashboard-url>/run?run=<url-quoted run name>``."""
    return f"{dashboard_url.rstrip('/')}/run?run={quote(run, safe='')}"


def label(items: tuple[str, ...]) -> str:
    """Condition items as words: ``("stalled", "stuck_process")`` → ``stalled, stuck process``."""
    return ", ".join(i.replace("_", " ") for i in items)


def compose(
    alert: Alert, summary: RunSummary | None = None, dashboard_url: str | None = None
) -> AlertMessage:
    """The message for ``alert`` (``summary`` gives the best mIoU; the link needs the URL)."""
    cond = alert.condition
    lines = []
    if alert.kind == "entered":
        title = f"segwatch: {alert.run} — {label(alert.items)}"
        lines.append(
            f"Run {alert.run} needs attention: {label(alert.items)} (status {cond.status})."
        )
        finding = cond.finding_for(alert.items)
        if finding is not None:
            lines.append(finding.message)
            if finding.checks:
                check = finding.checks[0]
                lines.append(f"First check — {CHECK_ADVICE.get(check, check)}")
    else:
        title = f"segwatch: {alert.run} — recovered"
        lines.append(
            f"Run {alert.run} no longer needs attention: {label(alert.items)} cleared "
            f"(status {cond.status})."
        )
    if summary is not None and summary.best_miou is not None:
        lines.append(f"Best mIoU: {summary.best_miou:.4f} @ step {summary.best_step}.")
    else:
        lines.append("Best mIoU: no validation mIoU logged yet.")
    if dashboard_url:
        lines.append(f"Open: {run_page_url(dashboard_url, alert.run)}")
    return AlertMessage(title, "\n".join(lines))
