"""``segwatch serve [LOGDIR]`` and ``segwatch demo``: the dashboard in a browser."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from dashboard.cli.common import EXIT_OK, EXIT_USAGE, add_column_flags, reader_options
from metrics.errors import MetricsError

SAMPLE_LOGS = Path(__file__).resolve().parents[2] / "sample_logs"
APP = Path(__file__).resolve().parents[1] / "app.py"


def add_serve_commands(sub: Any) -> None:
    """The ``serve`` and ``demo`` sub-commands."""
    serve = sub.add_parser("serve", help="start the dashboard in a browser")
    add_column_flags(serve)
    serve.add_argument(
        "logdir", nargs="?", default=None, help="folder of runs (default: bundled sample_logs/)"
    )
    serve.add_argument("--port", type=int, default=8501)
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    serve.add_argument(
        "--allow-host", action="append", default=[], metavar="NAME",
        help="another Host name the dashboard answers to (a reverse proxy's); by default only "
        "the bound address's names are (DNS rebinding guard)",
    )  # fmt: skip
    serve.add_argument("--config", help="settings file (default: LOGDIR/segwatch.toml)")
    serve.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="where the summary cache shared with check lives (default: $XDG_CACHE_HOME/"
        "segwatch or ~/.cache/segwatch)",
    )
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


def _serve(args: argparse.Namespace) -> int:
    from metrics.runs import discover_runs  # here: --help starts without the library

    logdir = args.logdir or str(SAMPLE_LOGS)
    if args.logdir is None and not SAMPLE_LOGS.is_dir():
        print(
            "segwatch: the bundled sample_logs/ folder is not here (segwatch was installed "
            "without its source tree); give a folder: segwatch serve LOGDIR",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        discover_runs(logdir, reader_options(args, logdir))
    except MetricsError as exc:
        print(f"segwatch: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"segwatch: serving the runs under {logdir}")
    print(f"segwatch: open http://{args.host}:{args.port} in a browser", flush=True)
    if args.host == "127.0.0.1":
        print("segwatch: bound to 127.0.0.1 (this machine only); use --host 0.0.0.0 to share")
    import threading

    from streamlit.web import cli as stcli

    from dashboard import cache  # the app's modules, imported before its first page

    app_args = ["--logdir", logdir, *_forwarded(args)]
    sys.argv = [str(APP), *app_args]  # what Streamlit gives the app: the overview warms up
    threading.Thread(target=cache.prime, args=(logdir,), name="segwatch-prime", daemon=True).start()
    server = streamlit_argv(APP, args.host, args.port, allowed_hosts(args.host, args.allow_host))
    stcli.main(args=[*server[1:], "--", *app_args], prog_name="streamlit")
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    import tempfile

    from dashboard.cli.demo import start_demo

    folder = Path(tempfile.mkdtemp(prefix="segwatch-demo-"))
    writer = start_demo(folder, interval_s=args.interval)
    print(f"segwatch: demo runs in {folder}; live-run/ grows a line every {args.interval} s")
    serve = argparse.Namespace(
        logdir=str(folder), port=args.port, host=args.host, config=None, map=[],
        step_column=None, percent=[], allow_host=[],
    )  # fmt: skip
    code = _serve(serve)
    writer.stop_event.set()
    return code


def streamlit_argv(app: Path, host: str, port: int, allowed: list[str]) -> list[str]:
    """``streamlit run APP`` with the server and client options serve uses (the bench's too)."""
    return [
        "streamlit",
        "run",
        str(app),
        "--server.headless=true",
        f"--server.port={port}",
        f"--server.address={host}",
        "--browser.gatherUsageStats=false",
        # a traceback (with server paths) never reaches the browser; pages show typed messages
        "--client.showErrorDetails=none",
        "--client.toolbarMode=minimal",  # no "Deploy" button: this is a local monitor
        *[f"--server.allowedHosts={name}" for name in allowed],
    ]


_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_ANY = ("0.0.0.0", "::", "")


def allowed_hosts(host: str, extra: list[str]) -> list[str]:
    """The Host names the app's WebSocket accepts (Streamlit's ``server.allowedHosts``).

    Bound to a loopback address, only loopback names (a page on another site that rebinds its
    DNS name to 127.0.0.1 gets no data); bound to a given address or name, that one; bound to
    every interface (``--host 0.0.0.0``), any name, since the names the machine is reached by
    are not known. ``--allow-host`` adds names (a reverse proxy's).
    """
    if host in _ANY:
        return ["*"]
    names = list(_LOOPBACK) if host in _LOOPBACK else [host]
    return names + [n for n in extra if n not in names]


def _forwarded(args: argparse.Namespace) -> list[str]:
    """The serve flags the app itself reads (after ``--``)."""
    out = ["--config", args.config] if args.config else []
    out += ["--cache-dir", args.cache_dir] if getattr(args, "cache_dir", None) else []
    out += [a for m in args.map for a in ("--map", m)]
    out += ["--step-column", args.step_column] if args.step_column else []
    out += [a for m in args.percent for a in ("--percent", m)]
    return out
