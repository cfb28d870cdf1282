"""The diagnosis thresholds: every one is relative to the run's own noise or scale.

Defaults are documented in the README; change them with ``segwatch check`` flags or a TOML file
with a ``[diagnosis]`` table (``--config segwatch.toml``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from metrics.errors import MetricsError
from metrics.settings import read_settings


@dataclass(frozen=True)
class DiagnosisConfig:
    """Thresholds of the diagnosis rules (see each field's comment)."""

    # plateau: the last `window` evals must gain more than z·√2·(the run's eval-to-eval noise)
    window: int = 5
    z: float = 1.645
    min_evals: int = 6  # fewer evals than this: no plateau/overfitting verdict yet
    # learning rate at or below this fraction of its peak counts as decayed to the floor
    lr_floor: float = 0.05
    # an lr at its floor before this fraction of the planned (or logged) steps decayed too early
    lr_early: float = 0.5
    # overfitting: val mIoU below its best by more than z·√2·noise for at least this many evals
    overfit_evals: int = 2
    # dead class: IoU at or below this at each of the last `dead_evals` evals
    dead_iou: float = 0.01
    dead_evals: int = 3
    # majority class: mIoU within this relative margin of aAcc / (number of classes)
    majority_margin: float = 0.15
    # uniform prediction: smoothed loss within this relative margin of ln(number of classes)
    uniform_margin: float = 0.1
    # explosion: smoothed loss climbs back above min + this fraction of (start − min)
    explode_fraction: float = 0.5
    # spikes: robust z-score of a loss point against its rolling median
    spike_z: float = 8.0
    # stuck process: silent for longer than max(stuck_seconds, stuck_intervals × median interval)
    stuck_seconds: float = 300.0
    stuck_intervals: float = 10.0


def load_config(path: str | Path | None = None, **overrides: Any) -> DiagnosisConfig:
    """Defaults, updated from a TOML file's ``[diagnosis]`` table, then from ``overrides``."""
    cfg = DiagnosisConfig()
    known = {f.name for f in fields(DiagnosisConfig)}
    values: dict[str, Any] = {}
    if path is not None:
        table = read_settings(path).get("diagnosis", {})
        unknown = sorted(set(table) - known)
        if unknown:
            raise MetricsError(
                f"{path}: unknown setting(s) {unknown} in [diagnosis]; known: {sorted(known)}"
            )
        values.update(table)
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return replace(cfg, **values)
    except TypeError as exc:
        raise MetricsError(f"bad diagnosis setting: {exc}") from None
