"""Rules on the training process itself: a run that stopped writing before its last iteration."""

from __future__ import annotations

import time

import numpy as np

from metrics.diagnosis.config import DiagnosisConfig
from metrics.diagnosis.findings import Finding
from metrics.diagnosis.inputs import RunSeries


def stuck_process(rs: RunSeries, cfg: DiagnosisConfig, now: float | None = None) -> list[Finding]:
    """No new record for longer than max(5 min, 10 × the median logging interval)."""
    if rs.updated is None or rs.planned_steps is None or rs.last_step is None:
        return []
    if rs.last_step >= rs.planned_steps:
        return []
    walls = np.unique(rs.wall_times)
    interval = float(np.median(np.diff(walls))) if len(walls) > 2 else 0.0
    limit = max(cfg.stuck_seconds, cfg.stuck_intervals * interval)
    silent = (time.time() if now is None else now) - rs.updated
    if silent <= limit:
        return []
    return [
        Finding(
            "stuck_process",
            "warning",
            f"No new record for {_duration(silent)} (limit {_duration(limit)}) although the run "
            f"stopped at step {rs.last_step} of {rs.planned_steps} planned.",
            {
                "silent_seconds": silent,
                "limit_seconds": limit,
                "median_interval_seconds": interval,
                "last_step": rs.last_step,
                "planned_steps": rs.planned_steps,
            },
            ("data_pipeline",),
            (rs.last_step, rs.planned_steps),
        )
    ]


def _duration(seconds: float) -> str:
    s = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            return (
                f"{s // size} {unit} {((s % size) // (size // 60 if size > 60 else 1))} "
                + ({"d": "h", "h": "min", "min": "s"}[unit])
            )
    return f"{s} s"
