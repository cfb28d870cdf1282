"""The overview's rows made from run summaries, not from tables (no Streamlit here).

A settled run's overview row needs only its ``check`` report (status, findings, best and last
step) plus what ``overview_extra`` draws from its table while it is read: the mIoU trend
(``TREND_POINTS`` values), the forecast text and the planned length. The report with that
``extra`` is what the summary cache stores (``metrics.runs.cache``), so the overview of
unchanged runs is built without reading a table — across server restarts too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from dashboard.figures.overview import (
    BADGES,
    _forecast_text,
    _progress_text,
    _sparkline,
)
from dashboard.figures.prepare import best_point, metric_series, run_forecast
from metrics.diagnosis import STATUS_ORDER, DiagnosisConfig
from metrics.runs.discover import RunSource
from metrics.runs.merge import Run
from metrics.runs.report import RunReport, report_run
from metrics.schema import MIOU

#: Rank of a run not summarised yet (after every status: its row waits at the bottom).
PENDING_RANK = len(STATUS_ORDER)
PENDING = "⏳ reading…"


def overview_extra(run: Run) -> dict[str, Any]:
    """What the overview row needs from the table besides the report (computed as the
    table-based row does: ``dashboard.figures.overview.overview_row``)."""
    steps, values = metric_series(run.table, MIOU, "val")
    best = best_point(steps, values)
    finite = values[np.isfinite(values)]
    planned = run.meta.planned_steps or None
    fc = run_forecast(steps, values, planned)
    return {
        "best": [float(best[0]), float(best[1])] if best else None,
        "latest": float(finite[-1]) if len(finite) else None,
        "last": int(run.table["step"].max()) if len(run.table) else None,
        "planned": planned,
        "forecast": _forecast_text(fc),
        "trend": _sparkline(finite),
    }


def overview_report(
    source: RunSource,
    options: Mapping[str, Any] | None,
    config: DiagnosisConfig,
    now: float | None = None,
) -> RunReport:
    """``check``'s report of the run with the overview's ``extra`` (runs in worker processes)."""
    return report_run(source, options, config, now, extra=overview_extra)


def summary_row(report: RunReport) -> dict[str, Any]:
    """The run's overview row from its report (same columns as ``overview_row``)."""
    entry, extra = report.entry, report.extra or {}
    status = str(entry["status"])
    findings = entry.get("findings") or []
    top = findings[0] if findings else None
    checks = tuple(top.get("checks") or ()) if top else ()
    best = extra.get("best")
    last, planned = extra.get("last"), extra.get("planned")
    return {
        "rank": STATUS_ORDER.index(status),
        "status": BADGES.get(status, status),
        "run": entry["run"],
        "best mIoU": best[1] if best else None,
        "best @ step": best[0] if best else None,
        "latest mIoU": extra.get("latest"),
        "step": _progress_text(last, planned),
        "done": (last / planned) if last is not None and planned else None,
        "forecast @ end": extra.get("forecast", "—"),
        "trend": list(extra.get("trend") or []),
        "updated": "",
        "age_s": math.inf,
        "top finding": f"{top['code']}: {top['message']}" if top else "",
        "first check": checks[0] if checks else "",
        "checks": checks,
    }


def pending_row(name: str) -> dict[str, Any]:
    """The row of a run still being read (its name, so it can already be opened)."""
    return {
        "rank": PENDING_RANK,
        "status": PENDING,
        "run": name,
        "best mIoU": None,
        "best @ step": None,
        "latest mIoU": None,
        "step": "—",
        "done": None,
        "forecast @ end": "—",
        "trend": [],
        "updated": "",
        "age_s": math.inf,
        "top finding": "",
        "first check": "",
        "checks": (),
    }
