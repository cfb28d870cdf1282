"""What changed across several runs: one row per config key whose values differ. Pure.

Keys that some runs do not log at all (a framework's own settings when runs come from
different frameworks) are set apart, so they do not bury the keys that really differ.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from metrics.runs.diff import flatten

ABSENT = "—"


def what_changed(
    configs: Mapping[str, Mapping[str, Any] | None],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(keys whose logged values differ, keys the other runs do not log at all).

    A key is in the first frame when two runs logged it with different values; a key that some
    runs lack but that is the same wherever it is logged (or that one run alone logged) is in the
    second. One column per run (``key`` first); a run whose config lacks a key shows ``—``.
    """
    flat = {run: flatten(cfg) if cfg else {} for run, cfg in configs.items()}
    keys = sorted({k for f in flat.values() for k in f})
    shared, single = [], []
    for key in keys:
        present = [f[key] for f in flat.values() if key in f]
        row = {"key": key} | {run: text(f[key]) if key in f else ABSENT for run, f in flat.items()}
        if any(v != present[0] for v in present):
            shared.append(row)
        elif len(present) < len(flat):
            single.append(row)
    columns = ["key", *flat]
    return pd.DataFrame(shared, columns=columns), pd.DataFrame(single, columns=columns)


def text(v: object) -> str:
    """A config value as short text (floats to 4 significant digits, ``None`` as null)."""
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, str):
        return v
    return json.dumps(v, default=str)
