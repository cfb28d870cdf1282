"""``segwatch check PATH...``: read runs and print their diagnosis, for scripts and CI."""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any

from dashboard.cli.common import (
    EXIT_FLAGGED,
    EXIT_OK,
    EXIT_USAGE,
    add_column_flags,
    printable,
    reader_options,
    strict_json,
)
from metrics.diagnosis import DiagnosisConfig, diagnose, load_config
from metrics.errors import MetricsError
from metrics.runs import RunSource, discover_runs, load_run, summarize
from metrics.settings import settings_path


def add_check_command(sub: Any) -> None:
    """The ``check`` sub-command."""
    check = sub.add_parser("check", help="read runs and print what they show")
    add_column_flags(check)
    check.add_argument("paths", nargs="+", help="folders of runs or single log files")
    check.add_argument("--json", action="store_true", help="print JSON instead of a table")
    check.add_argument(
        "--fail-on",
        choices=("warning", "critical", "never"),
        default="warning",
        help="exit 1 when a run has a finding this severe (default: warning)",
    )
    check.add_argument(
        "--config",
        help="settings file with [diagnosis] thresholds and [columns] (default: "
        "PATH/segwatch.toml)",
    )
    check.add_argument("--window", type=int, help="evaluations a plateau must span (default 5)")
    check.add_argument("--min-evals", type=int, help="evaluations needed for a verdict (default 6)")
    check.add_argument(
        "--z", type=float, help="noise multiplier of the plateau test (default 1.645)"
    )
    check.set_defaults(func=_check)


_FAIL_RANK = {"warning": ("warning", "critical"), "critical": ("critical",), "never": ()}


def _check(args: argparse.Namespace) -> int:
    try:
        config = load_config(
            settings_path(args.paths[0], args.config),
            window=args.window,
            min_evals=args.min_evals,
            z=args.z,
        )
    except MetricsError as exc:
        print(f"segwatch: {exc}", file=sys.stderr)
        return EXIT_USAGE
    results: list[dict[str, Any]] = []
    failed = flagged = False
    for path in args.paths:
        try:
            options = reader_options(args, path)
            sources = discover_runs(path, options)
        except MetricsError as exc:
            print(f"segwatch: {printable(str(exc))}", file=sys.stderr)
            failed = True
            continue
        for source in sources:
            entry, bad = _check_run(source, options, config, args.fail_on)
            results.append(entry)
            failed |= "error" in entry
            flagged |= bad
    if not results:
        shown = printable(", ".join(args.paths))
        print(f"segwatch: no training logs found in {shown}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(strict_json({"runs": results}))
    else:
        _print_table(results)
    return EXIT_FLAGGED if failed or flagged else EXIT_OK


def _check_run(
    source: RunSource, options: Any, config: DiagnosisConfig, fail_on: str
) -> tuple[dict[str, Any], bool]:
    """One run's entry (or its error: a failure is contained to its run) and whether it is
    flagged at ``fail_on``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            run = load_run(source, options=options)
            entry = summarize(run.table, run.name, run.path, run.format).to_dict()
            entry["files"] = [{"path": f.path, "format": f.format} for f in run.files]
            entry["restarts"] = [{"step": r.step, "line": r.line} for r in run.restarts]
            entry["bad_lines"] = len(run.bad_lines)
            entry["facts"] = dict(run.facts)
            verdict = diagnose(run, config)
            entry.update(verdict.to_dict())
        except MetricsError as exc:
            return {"run": source.name, "path": source.path, "error": str(exc)}, False
        except Exception as exc:  # a reader bug must not hide the other runs
            what = f"{type(exc).__name__}: {exc}"[:300]
            error = f"internal error while reading ({what}); please report it"
            return {"run": source.name, "path": source.path, "error": error}, False
    for w in caught:
        print(f"segwatch: warning: {printable(str(w.message))}", file=sys.stderr)
    return entry, any(f.severity in _FAIL_RANK[fail_on] for f in verdict.findings)


def _print_table(results: list[dict[str, Any]]) -> None:
    rows = [("run", "status", "best mIoU @ step", "last step", "top finding → first check")]
    for r in results:
        if "error" in r:
            rows.append((r["run"], "unreadable", "", "", r["error"]))
            continue
        best = "—" if r["best_miou"] is None else f"{r['best_miou']:.4f} @ {r['best_step']}"
        last = "—" if r["last_step"] is None else str(r["last_step"])
        top = "—"
        if r["findings"]:
            f = r["findings"][0]
            top = f["code"] + (f" → {f['checks'][0]}" if f["checks"] else "")
        rows.append((r["run"], r["status"], best, last, top))
    rows = [tuple(printable(c) for c in row) for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]).rstrip())
