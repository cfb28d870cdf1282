"""The `segwatch eval` and `segwatch labels` commands that save a run's data check in its folder.

Shown on the Data page when a run's folder holds no saved result, and under a ``dead_class`` or
``miou_plateau`` finding. Filled in from the run's logged config when it says the classes;
every value is shell-quoted, so a class or folder name is never run as shell syntax.
"""

from __future__ import annotations

import shlex

from metrics.facts import RunFacts

DATA_FINDINGS = frozenset(
    {"dead_class", "miou_plateau", "converged", "broken_eval", "class_never_evaluated"}
)
CLASS_FILE = "classes.txt"


def data_commands(folder: str, facts: RunFacts | None = None) -> list[str]:
    """Shell lines: the class-names file (when known), then ``eval`` and ``labels`` with --save."""
    names = facts.class_names if facts is not None else None
    k = (facts.num_classes if facts is not None else None) or (len(names) if names else None)
    opts = ["--num-classes", str(k) if k else "N"]
    if facts is not None and facts.ignore_index is not None:
        opts += ["--ignore-index", str(facts.ignore_index)]
    lines = []
    if names and len(names) == k:
        lines.append(f"printf '%s\\n' {shlex.join(names)} > {CLASS_FILE}")
        opts += ["--class-names", CLASS_FILE]
    save = ["--save", folder]
    lines.append(shlex.join(["segwatch", "eval", "PRED_DIR", "GT_DIR", *opts, *save]))
    lines.append(shlex.join(["segwatch", "labels", "GT_DIR", *opts, *save]))
    return lines
