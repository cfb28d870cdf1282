"""The overview's rows made from run summaries, not from tables (no Streamlit here).

A settled run's overview row needs only its ``check`` report (status, findings, best and last
step) plus what ``overview_extra`` draws from its table while it is read: the mIoU trend
(``TREND_POINTS`` values), the forecast text and the planned length. The report with that
``extra`` is what the summary cache stores (``metrics.runs.cache``), so the overview of
unchanged runs is built without reading a table — across server restarts too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dashboard.figures.overview import make_row, table_part
from dashboard.figures.prepare import metric_series, run_forecast
from metrics.diagnosis import DiagnosisConfig
from metrics.runs.discover import RunSource
from metrics.runs.merge import Run
from metrics.runs.report import RunReport, report_run
from metrics.schema import MIOU


def overview_extra(run: Run) -> dict[str, Any]:
    """What the overview row needs from the table besides the report (``table_part``)."""
    steps, values = metric_series(run.table, MIOU, "val")
    planned = run.meta.planned_steps or None
    return table_part(run.table, planned, run_forecast(steps, values, planned))


def overview_report(
    source: RunSource,
    options: Mapping[str, Any] | None,
    config: DiagnosisConfig,
    now: float | None = None,
) -> RunReport:
    """``check``'s report of the run with the overview's ``extra`` (runs in worker processes)."""
    return report_run(source, options, config, now, extra=overview_extra)


def summary_row(report: RunReport) -> dict[str, Any]:
    """The run's overview row from its report (the row ``overview_row`` makes from its table)."""
    entry = report.entry
    findings = entry.get("findings") or []
    top = findings[0] if findings else None
    finding = (
        (str(top["code"]), str(top["message"]), tuple(top.get("checks") or ())) if top else None
    )
    return make_row(str(entry["run"]), str(entry["status"]), report.extra or {}, finding)


def pending_row(name: str) -> dict[str, Any]:
    """The row of a run still being read (its name, so it can already be opened)."""
    return make_row(name, None, {}, None)
