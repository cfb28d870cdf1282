"""The diagnosis thresholds: every one is relative to the run's own noise or scale.

Defaults are documented in the README; change them with ``segwatch check`` flags or a TOML file
with a ``[diagnosis]`` table (``--config segwatch.toml``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from metrics.errors import SettingsError
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


#: Bounds a setting must keep to mean anything (inclusive); fractions stay in (0, 1].
_BOUNDS: dict[str, tuple[float, float]] = {
    "window": (3, 1000),
    "z": (0.1, 10.0),
    "min_evals": (3, 10000),
    "lr_floor": (1e-9, 1.0),
    "lr_early": (1e-9, 1.0),
    "overfit_evals": (1, 1000),
    "dead_iou": (0.0, 1.0),
    "dead_evals": (1, 1000),
    "majority_margin": (0.0, 10.0),
    "uniform_margin": (0.0, 10.0),
    "explode_fraction": (1e-9, 100.0),
    "spike_z": (0.1, 1000.0),
    "stuck_seconds": (0.0, 1e9),
    "stuck_intervals": (0.0, 1e6),
}


def load_config(path: str | Path | None = None, **overrides: Any) -> DiagnosisConfig:
    """Defaults, updated from a TOML file's ``[diagnosis]`` table, then from ``overrides``.

    Every value is checked for its type and range: a bad one raises ``SettingsError`` naming
    the file, the setting and what was expected (``window = "5"`` is a string, not a number).
    """
    known = {f.name: f for f in fields(DiagnosisConfig)}
    values: dict[str, Any] = {}
    if path is not None:
        table = read_settings(path).get("diagnosis", {})
        if not isinstance(table, dict):
            raise SettingsError(f"{path}: [diagnosis] must be a table of settings")
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise SettingsError(
                f"{path}: unknown setting(s) {unknown} in [diagnosis]; known: {sorted(known)}"
            )
        values.update({k: _checked(k, v, f"{path}: [diagnosis] {k}") for k, v in table.items()})
    for k, v in overrides.items():
        if v is None:
            continue
        if k not in known:
            raise SettingsError(f"unknown diagnosis setting {k!r}; known: {sorted(known)}")
        values[k] = _checked(k, v, f"--{k.replace('_', '-')}")
    return replace(DiagnosisConfig(), **values)


def _checked(name: str, value: Any, where: str) -> int | float:
    """The value of setting ``name`` if it has the right type and range, else SettingsError."""
    want_int = isinstance(getattr(DiagnosisConfig(), name), int)
    kind = "an integer" if want_int else "a number"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SettingsError(f"{where} must be {kind}, got {value!r} ({type(value).__name__})")
    if want_int and not isinstance(value, int):
        raise SettingsError(f"{where} must be {kind}, got {value!r}")
    lo, hi = _BOUNDS[name]
    if not (lo <= value <= hi):
        raise SettingsError(f"{where} must be between {lo:g} and {hi:g}, got {value!r}")
    return value if want_int else float(value)
