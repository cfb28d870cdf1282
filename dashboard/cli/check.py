"""``segwatch check PATH...``: read runs and print their diagnosis, for scripts and CI."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any

from dashboard.cli.common import (
    EXIT_FLAGGED,
    EXIT_OK,
    EXIT_USAGE,
    add_column_flags,
    printable,
    reader_options,
    strict_json,
)
from metrics.errors import MetricsError

if TYPE_CHECKING:  # the library is imported when a check runs, not to print --help
    from metrics.diagnosis import DiagnosisConfig
    from metrics.runs.cache import SummaryCache
    from metrics.runs.parallel import Task
    from metrics.runs.report import RunReport


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
    check.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="processes reading runs at once (default: the CPU count; 1 = in this process)",
    )
    check.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="where the summary cache lives (default: $XDG_CACHE_HOME/segwatch or "
        "~/.cache/segwatch)",
    )
    check.add_argument(
        "--no-cache",
        action="store_true",
        help="read every run again, without reading or writing the summary cache",
    )
    check.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="send the runs to a Dask cluster (tcp://scheduler:8786) instead of local "
        "processes (pip install 'segwatch[dask]')",
    )
    check.set_defaults(func=_check)


_FAIL_RANK = {"warning": ("warning", "critical"), "critical": ("critical",), "never": ()}


def _check(args: argparse.Namespace) -> int:
    from metrics.diagnosis import load_config
    from metrics.runs import discover_runs
    from metrics.runs.cache import CacheError, SummaryCache, default_cache_dir
    from metrics.settings import settings_path

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
    if args.workers is not None and args.workers < 1:
        print("segwatch: --workers must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    cache = None
    if not args.no_cache:
        try:
            cache = SummaryCache.open(args.cache_dir or default_cache_dir(), config)
            cache.load_sniffs()
        except CacheError as exc:
            print(f"segwatch: warning: {printable(str(exc))}", file=sys.stderr)
    tasks: list[Task] = []
    failed = flagged = False
    for path in args.paths:
        try:
            options = reader_options(args, path)
            sources = discover_runs(path, options)
        except MetricsError as exc:
            print(f"segwatch: {printable(str(exc))}", file=sys.stderr)
            failed = True
            continue
        tasks.extend((source, options) for source in sources)
    if not tasks:
        shown = printable(", ".join(args.paths))
        print(f"segwatch: no training logs found in {shown}", file=sys.stderr)
        return EXIT_USAGE
    try:
        reports = _reports(tasks, config, args, cache)
    except MetricsError as exc:  # the Dask cluster cannot be used
        print(f"segwatch: {printable(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    results: list[dict[str, Any]] = []
    for report in reports:
        results.append(report.entry)
        if report.failed:
            failed = True
            continue
        for w in report.warnings:
            print(f"segwatch: warning: {printable(w)}", file=sys.stderr)
        severities = {f["severity"] for f in report.entry.get("findings", ())}
        flagged |= bool(severities & set(_FAIL_RANK[args.fail_on]))
    if args.json:
        print(strict_json({"runs": results}))
    else:
        _print_table(results)
    return EXIT_FLAGGED if failed or flagged else EXIT_OK


def _reports(
    tasks: list[Task],
    config: DiagnosisConfig,
    args: argparse.Namespace,
    cache: SummaryCache | None,
) -> list[RunReport]:
    """Every run's report in discovery order: unchanged runs from the summary cache, the others
    read by ``--workers`` processes (and stored for next time)."""
    from metrics.runs.cache import run_identity
    from metrics.runs.cluster import report_runs_on_dask
    from metrics.runs.parallel import default_workers, report_runs

    now = time.time()
    reports: list[RunReport | None] = [None] * len(tasks)
    identities: list[str | None] = [None] * len(tasks)
    if cache is not None:
        for i, (source, options) in enumerate(tasks):
            identities[i] = identity = run_identity(source)
            if identity is not None:
                reports[i] = cache.get(source, options, identity, now)
    todo = [i for i, r in enumerate(reports) if r is None]
    workers = args.workers or default_workers()
    misses = [tasks[i] for i in todo]
    if args.dask and misses:
        fresh = report_runs_on_dask(misses, config, args.dask, now)
    else:
        fresh = report_runs(misses, config, workers, now)
    for i, report in zip(todo, fresh, strict=True):
        reports[i] = report
    if cache is not None:
        cache.put_many(
            (tasks[i][0], tasks[i][1], ident, report)
            for i in todo
            if (ident := identities[i]) is not None and (report := reports[i]) is not None
        )
        cache.save_sniffs()
        if cache.problem:
            print(f"segwatch: warning: {printable(cache.problem)}", file=sys.stderr)
        cache.close()
    return [r for r in reports if r is not None]


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
