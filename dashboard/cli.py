"""The ``segwatch`` command: ``serve`` the dashboard, ``check`` runs from scripts and CI."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dashboard.cli_data import add_data_commands
from dashboard.cli_facts import add_facts_commands
from metrics.diagnosis import diagnose, load_config
from metrics.errors import MetricsError
from metrics.runs import discover_runs, load_run
from metrics.settings import column_options, read_settings, settings_path
from metrics.summary import summarize

SAMPLE_LOGS = Path(__file__).resolve().parent.parent / "sample_logs"
APP = Path(__file__).resolve().parent / "app.py"

EXIT_OK, EXIT_FLAGGED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    code: int = args.func(args)
    return code


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="segwatch",
        description="Training monitor for semantic-segmentation runs: reads the logs "
        "PaddleSeg, MMSegmentation, Detectron2, HF Trainer, Lightning and TensorBoard write.",
    )
    sub = p.add_subparsers(dest="command")
    columns = argparse.ArgumentParser(add_help=False)
    group = columns.add_argument_group("columns of CSV, JSON-lines, Lightning and TensorBoard logs")
    group.add_argument(
        "--map", action="append", default=[], metavar="COLUMN=METRIC",
        help="read COLUMN as METRIC (e.g. val_jacc=miou, v_road=val/iou/road; empty drops it)",
    )  # fmt: skip
    group.add_argument("--step-column", metavar="NAME", help="the column holding the step")
    group.add_argument(
        "--percent", action="append", default=[], metavar="METRIC",
        help="a metric logged in percent (glob allowed, e.g. 'iou/*')",
    )  # fmt: skip
    serve = sub.add_parser("serve", help="start the dashboard in a browser", parents=[columns])
    serve.add_argument(
        "logdir", nargs="?", default=None, help="folder of runs (default: bundled sample_logs/)"
    )
    serve.add_argument("--port", type=int, default=8501)
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    serve.add_argument("--config", help="settings file (default: LOGDIR/segwatch.toml)")
    serve.set_defaults(func=_serve)
    demo = sub.add_parser(
        "demo", help="serve a run written in real time into a temporary folder (live mode)"
    )
    demo.add_argument("--port", type=int, default=8501)
    demo.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    demo.add_argument(
        "--interval", type=float, default=0.5, help="seconds between two log lines (default 0.5)"
    )
    demo.set_defaults(func=_demo)
    check = sub.add_parser("check", help="read runs and print what they show", parents=[columns])
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
    add_data_commands(sub)
    add_facts_commands(sub)
    return p


def _serve(args: argparse.Namespace) -> int:
    logdir = args.logdir or str(SAMPLE_LOGS)
    if args.logdir is None and not SAMPLE_LOGS.is_dir():
        print(
            "segwatch: the bundled sample_logs/ folder is not here (segwatch was installed "
            "without its source tree); give a folder: segwatch serve LOGDIR",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        discover_runs(logdir, _reader_options(args, logdir))
    except MetricsError as exc:
        print(f"segwatch: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"segwatch: serving the runs under {logdir}")
    print(f"segwatch: open http://{args.host}:{args.port} in a browser", flush=True)
    if args.host == "127.0.0.1":
        print("segwatch: bound to 127.0.0.1 (this machine only); use --host 0.0.0.0 to share")
    from streamlit.web import cli as stcli

    sys.argv = [
        "streamlit",
        "run",
        str(APP),
        "--server.headless=true",
        f"--server.port={args.port}",
        f"--server.address={args.host}",
        "--browser.gatherUsageStats=false",
        "--",
        "--logdir",
        logdir,
        *_forwarded(args),
    ]
    stcli.main()
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    import tempfile

    from dashboard.demo import start_demo

    folder = Path(tempfile.mkdtemp(prefix="segwatch-demo-"))
    writer = start_demo(folder, interval_s=args.interval)
    print(f"segwatch: demo runs in {folder}; live-run/ grows a line every {args.interval} s")
    serve = _parser().parse_args(
        ["serve", str(folder), "--port", str(args.port), "--host", args.host]
    )
    code = _serve(serve)
    writer.stop_event.set()
    return code


def _reader_options(args: argparse.Namespace, path: str) -> dict[str, Any] | None:
    """Column mapping from the flags over the settings file's [columns] table."""
    settings = settings_path(path, args.config)
    table = read_settings(settings).get("columns") if settings else None
    return column_options(
        table, mapping=args.map, step=args.step_column, percent=args.percent, source=str(settings)
    )


def _forwarded(args: argparse.Namespace) -> list[str]:
    """The serve flags the app itself reads (after ``--``)."""
    out = ["--config", args.config] if args.config else []
    out += [a for m in args.map for a in ("--map", m)]
    out += ["--step-column", args.step_column] if args.step_column else []
    out += [a for m in args.percent for a in ("--percent", m)]
    return out


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
            options = _reader_options(args, path)
            sources = discover_runs(path, options)
        except MetricsError as exc:
            print(f"segwatch: {exc}", file=sys.stderr)
            failed = True
            continue
        for source in sources:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    run = load_run(source, options=options)
                except MetricsError as exc:
                    results.append({"run": source.name, "path": source.path, "error": str(exc)})
                    failed = True
                    continue
                except Exception as exc:  # a reader bug must not hide the other runs
                    what = f"{type(exc).__name__}: {exc}"
                    error = f"internal error while reading ({what}); please report it"
                    results.append({"run": source.name, "path": source.path, "error": error})
                    failed = True
                    continue
            for w in caught:
                print(f"segwatch: warning: {w.message}", file=sys.stderr)
            entry = summarize(run.table, run.name, run.path, run.format).to_dict()
            entry["files"] = [{"path": f.path, "format": f.format} for f in run.files]
            entry["restarts"] = [{"step": r.step, "line": r.line} for r in run.restarts]
            entry["bad_lines"] = len(run.bad_lines)
            entry["facts"] = dict(run.facts)
            verdict = diagnose(run, config)
            entry.update(verdict.to_dict())
            flagged |= any(f.severity in _FAIL_RANK[args.fail_on] for f in verdict.findings)
            results.append(entry)
    if not results:
        print("segwatch: no training logs found in " + ", ".join(args.paths), file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps({"runs": results}, indent=2))
    else:
        _print_table(results)
    return EXIT_FLAGGED if failed or flagged else EXIT_OK


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
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]).rstrip())


if __name__ == "__main__":
    raise SystemExit(main())
