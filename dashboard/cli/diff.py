"""``segwatch diff RUN_A RUN_B``: which config keys changed between two runs, and what it did to
the best mIoU. Thin: read both runs, call ``metrics.runs.diff.diff_runs``, print a table or JSON.
Exit codes: 0 printed, 2 on a usage error (unreadable path, or a folder holding several runs)."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from typing import TYPE_CHECKING, Any

from dashboard.cli.common import EXIT_OK, EXIT_USAGE, printable, strict_json
from metrics.errors import MetricsError

if TYPE_CHECKING:  # the library is imported when a diff runs, not to print --help
    from metrics.facts import RunFacts
    from metrics.runs import Run
    from metrics.runs.diff import RunDiff

_WIDTH = 40  # longest value shown in a table cell


def add_facts_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``diff`` subcommand (sets ``func`` to its handler)."""
    p = sub.add_parser("diff", help="what changed between two runs (config, best mIoU)")
    p.add_argument("run_a", help="run folder or log file (the baseline)")
    p.add_argument("run_b", help="run folder or log file (the change)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_diff)


def load_one(path: str) -> tuple[Run, RunFacts]:
    """The single run at ``path`` and its facts; ``MetricsError`` if there are none or several."""
    from metrics.runs import discover_runs, facts_for_run, load_run

    sources = discover_runs(path)
    if len(sources) != 1:
        names = ", ".join(s.name for s in sources[:5])
        raise MetricsError(
            f"{path}: holds {len(sources)} runs ({names}); give one run folder or log file"
            if sources
            else f"{path}: no training logs found"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # malformed lines are `segwatch check`'s business
        run = load_run(sources[0])
    return run, facts_for_run(run)


def _diff(args: argparse.Namespace) -> int:
    from metrics.runs.diff import diff_runs

    try:
        run_a, facts_a = load_one(args.run_a)
        run_b, facts_b = load_one(args.run_b)
    except MetricsError as exc:
        print(f"segwatch: {printable(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a reader bug: one message, not a traceback
        what = f"{type(exc).__name__}: {exc}"[:300]
        print(f"segwatch: internal error while reading ({what}); please report it", file=sys.stderr)
        return EXIT_USAGE
    diff = diff_runs(run_a, facts_a, run_b, facts_b)
    if args.json:
        print(strict_json(diff.to_dict()))
    else:
        _print_diff(diff)
    return EXIT_OK


def _print_diff(diff: RunDiff) -> None:
    for label, s in (("A", diff.a), ("B", diff.b)):
        best = "no mIoU" if s.best_miou is None else f"best mIoU {s.best_miou:.4f} @ {s.best_step}"
        print(printable(f"{label}: {s.path}  ({best})"))
    if diff.miou_delta is not None:
        print(f"best mIoU B - A: {diff.miou_delta:+.4f}; reached {diff.step_delta:+d} steps apart")
    for why in diff.unavailable:
        print(f"config: {printable(why)}")
    if not diff.compared:
        print("config: not compared (a run logged no config)")
        return
    if not diff.changes:
        print("config: identical")
        return
    rows = [("changed key", "A", "B")]
    rows += [(c.key, _cell(c.a), _cell(c.b)) for c in diff.changes]
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    print(f"config: {len(diff.changes)} key(s) differ")
    for r in rows:
        line = f"  {r[0].ljust(widths[0])}  {r[1].ljust(widths[1])}  {r[2]}".rstrip()
        print(printable(line))


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= _WIDTH else text[: _WIDTH - 1] + "…"
