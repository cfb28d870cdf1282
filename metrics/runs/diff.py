"""What changed between two runs: config keys that differ, next to best mIoU and when it came.

Pure functions over runs already read (``metrics.runs.load_run``) and their facts
(``metrics.runs.facts_for_run``); ``segwatch diff`` and the Compare page both call ``diff_runs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from metrics.facts.model import RunFacts
from metrics.runs.merge import Run
from metrics.runs.summary import RunSummary, summarize

_MISSING = "<absent>"


@dataclass(frozen=True)
class ConfigChange:
    """One config key whose value differs (``<absent>`` where a run's config lacks it)."""

    key: str
    a: Any
    b: Any


@dataclass(frozen=True)
class RunDiff:
    """Two runs side by side: their changed config keys and their best mIoU and its step."""

    a: RunSummary
    b: RunSummary
    changes: tuple[ConfigChange, ...]
    compared: bool  # False when either run logged no config to compare
    unavailable: tuple[str, ...] = ()  # why a run's config could not be read (over budget)

    @property
    def miou_delta(self) -> float | None:
        """Best mIoU of B minus best mIoU of A (a fraction), None if either has none."""
        if self.a.best_miou is None or self.b.best_miou is None:
            return None
        return round(self.b.best_miou - self.a.best_miou, 6)

    @property
    def step_delta(self) -> int | None:
        """Step at which B reached its best minus the step at which A did."""
        if self.a.best_step is None or self.b.best_step is None:
            return None
        return self.b.best_step - self.a.best_step

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "best_miou_delta": self.miou_delta,
            "best_step_delta": self.step_delta,
            "config_compared": self.compared,
            "config_unavailable": list(self.unavailable),
            "changes": [{"key": c.key, "a": c.a, "b": c.b} for c in self.changes],
        }


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Nested config dicts as dotted keys (``optimizer.lr``).

    A list of transforms (dicts with a ``type``) is keyed by type when the types are unique
    (``train_pipeline.RandomFlip.prob``), so inserting a transform does not shift every key;
    other lists of dicts are keyed by position; lists of plain values stay whole.
    """
    if isinstance(tree, Mapping):
        if not tree and prefix:
            return {prefix: {}}
        out: dict[str, Any] = {}
        for key, value in tree.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(tree, list) and tree and all(isinstance(x, Mapping) for x in tree):
        types = [x.get("type") for x in tree]
        named = all(isinstance(t, str) for t in types) and len(set(types)) == len(types)
        out = {}
        for i, item in enumerate(tree):
            label = str(types[i]) if named else str(i)
            out.update(flatten(item, f"{prefix}.{label}" if prefix else label))
        return out
    return {prefix: tree}


def config_changes(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[ConfigChange]:
    """The dotted keys whose values differ between two config trees, in key order."""
    fa, fb = flatten(a), flatten(b)
    changes = []
    for key in sorted(set(fa) | set(fb)):
        va, vb = fa.get(key, _MISSING), fb.get(key, _MISSING)
        if va != vb:
            changes.append(ConfigChange(key, va, vb))
    return changes


def diff_runs(run_a: Run, facts_a: RunFacts, run_b: Run, facts_b: RunFacts) -> RunDiff:
    """Config changes from A to B and each run's best mIoU (``metrics.runs.summary.summarize``)."""
    sa = summarize(run_a.table, run_a.name, run_a.path, run_a.format)
    sb = summarize(run_b.table, run_b.name, run_b.path, run_b.format)
    compared = bool(facts_a.config) and bool(facts_b.config)
    changes = config_changes(facts_a.config, facts_b.config) if compared else []
    unavailable = tuple(f.unavailable for f in (facts_a, facts_b) if f.unavailable)
    return RunDiff(sa, sb, tuple(changes), compared, unavailable)
