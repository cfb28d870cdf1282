"""``segwatch watch LOGDIR --notify URL``: a notification when a run stalls, diverges or dies.

Each pass re-reads what the runs under LOGDIR appended (one ``LiveRun`` per run, kept across
passes; new runs are picked up), diagnoses them and asks ``metrics.alerts`` what to send;
this module only parses the arguments and sends through Apprise (the URL scheme picks the
service). What was sent is saved in a state file after every pass, so a restart — or the
next ``--once`` from cron — does not repeat it.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from dashboard.cli.common import (
    EXIT_FLAGGED,
    EXIT_OK,
    EXIT_USAGE,
    add_column_flags,
    reader_options,
)
from metrics.errors import MetricsError

if TYPE_CHECKING:  # the library is imported when a watch runs, not to print --help
    import apprise

    from metrics.alerts import (
        Alert,
        AlertPolicy,
    )
    from metrics.diagnosis import DiagnosisConfig
    from metrics.runs import LiveRun, RunSource, RunSummary

DEFAULT_INTERVAL_S = 60.0

_HELP = """\
Sends one notification each time a run enters a status that needs attention (stalled,
diverging, overfitting, a stuck or early-stopped process, a broken evaluation), not again
while it stays there. Each --notify URL is an Apprise URL, e.g.
  slack://TokenA/TokenB/TokenC/#channel
  mailtos://user:app-password@gmail.com?to=me@example.com
  ntfy://ntfy.sh/my-training-runs
  json://localhost:8080/hook
At most one alert per run and URL every --min-gap minutes: a run that flaps is told about
once, in its latest state. An alert that cannot be delivered is reported on stderr and
retried at the next pass. Exit codes of --once: 0 nothing needs attention, 1 a run needs
attention, could not be read, or an alert could not be delivered; 2 usage error.
"""


def add_watch_command(sub: Any) -> None:
    """The ``watch`` sub-command."""
    watch = sub.add_parser(
        "watch",
        help="notify (Slack, e-mail, ntfy, … via Apprise) when a run stalls, diverges or dies",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_column_flags(watch)
    watch.add_argument("logdir", help="folder of runs (a local folder or an fsspec URL)")
    watch.add_argument(
        "--notify", action="append", required=True, metavar="URL",
        help="an Apprise URL to notify (repeat for several services)",
    )  # fmt: skip
    watch.add_argument(
        "--interval", type=float, default=DEFAULT_INTERVAL_S, metavar="SECONDS",
        help=f"seconds between two passes (default {DEFAULT_INTERVAL_S:g})",
    )  # fmt: skip
    watch.add_argument("--once", action="store_true", help="one pass, then exit (for cron)")
    watch.add_argument(
        "--state", metavar="FILE",
        help="where the alerts already sent are kept (default: "
        "$XDG_CACHE_HOME or ~/.cache, segwatch/watch-<hash of LOGDIR>.json)",
    )  # fmt: skip
    watch.add_argument(
        "--dashboard-url", metavar="URL",
        help="the dashboard's address (e.g. http://gpu-box:8501): alerts link to the run page",
    )  # fmt: skip
    watch.add_argument(
        "--recoveries", action="store_true",
        help="also notify once when a run that needed attention no longer does",
    )  # fmt: skip
    watch.add_argument(
        "--min-gap", type=float, default=None, metavar="MINUTES",
        help="at most one alert per run and URL in this many minutes (default 30)",
    )  # fmt: skip
    watch.add_argument("--config", help="settings file (default: LOGDIR/segwatch.toml)")
    watch.set_defaults(func=_watch)


@dataclass(frozen=True)
class Target:
    """One notification service: its key in the state, a printable form and the sender."""

    key: str
    shown: str  # the URL with its secrets masked, for messages
    sender: apprise.Apprise


def make_target(url: str) -> Target:
    """An Apprise sender for ``url``; raises ``ValueError`` when Apprise cannot parse it."""
    import apprise  # here, not at the top: every other command would pay for its import

    from metrics.alerts import target_key

    sender = apprise.Apprise()
    if not sender.add(url):
        raise ValueError(
            f"not a notification URL Apprise understands: {_mask(url)} (see "
            "https://github.com/caronc/apprise/wiki for the services and their URLs)"
        )
    return Target(target_key(url), sender[0].url(privacy=True), sender)


def _mask(url: str) -> str:
    scheme, sep, _ = url.partition("://")
    return f"{scheme}://…" if sep else "…"


@dataclass(frozen=True)
class PassResult:
    """What one pass found: runs needing attention, alerts sent and whether anything failed.

    ``found`` is False when LOGDIR itself could not be listed.
    """

    attention: int
    sent: int
    failed: bool
    found: bool = True


class Watcher:
    """Re-diagnoses the runs under ``logdir`` at every ``run_pass`` and sends what is due."""

    def __init__(
        self,
        logdir: str,
        targets: Sequence[Target],
        state_path: Path,
        *,
        options: Mapping[str, Any] | None = None,
        config: DiagnosisConfig | None = None,
        policy: AlertPolicy | None = None,
        dashboard_url: str | None = None,
        clock: Callable[[], float] = time.time,
        out: TextIO | None = None,
        err: TextIO | None = None,
    ) -> None:
        from metrics.alerts import AlertPolicy, load_state

        self.logdir = logdir
        self.targets = list(targets)
        self.state_path = state_path
        self.options = options
        self.config = config
        self.policy = policy or AlertPolicy()
        self.dashboard_url = dashboard_url
        self.clock = clock
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.state = load_state(state_path)  # raises AlertStateError
        self.lives: dict[str, tuple[tuple[object, ...], LiveRun]] = {}
        self._reported: set[str] = set()
        self._down: set[str] = set()  # targets that failed in this pass: not tried again in it

    def run_pass(self) -> PassResult:
        """Read new bytes, diagnose every run, send the alerts due and save the state."""
        from metrics.alerts import save_state
        from metrics.runs import discover_runs

        now = self.clock()
        try:
            sources = discover_runs(self.logdir, self.options)
        except MetricsError as exc:
            self._report_once(f"segwatch: {exc}")
            return PassResult(0, 0, True, found=False)
        self._reported.clear()
        self._down.clear()
        before = self.state.to_dict()
        attention = sent = 0
        failed = False
        for source in sources:
            outcome = self._watch_run(source, now)
            if outcome is None:
                failed = True
                continue
            attention += outcome[0]
            sent += outcome[1]
            failed |= outcome[2]
        seen = {s.name for s in sources}
        self.lives = {k: v for k, v in self.lives.items() if k in seen}
        if self.state.to_dict() != before:
            try:
                save_state(self.state_path, self.state)
            except MetricsError as exc:
                self._report_once(f"segwatch: {exc}")
                failed = True
        return PassResult(attention, sent, failed)

    def run_forever(
        self, interval_s: float, stop: threading.Event | None = None, *, first: bool = True
    ) -> None:
        """A pass every ``interval_s`` seconds (the first at once unless not ``first``)."""
        stop = stop or threading.Event()
        if first:
            self.run_pass()
        while not stop.wait(interval_s):
            self.run_pass()

    def _live(self, source: RunSource) -> LiveRun:
        """The ``LiveRun`` kept for this run (a new one when its files changed)."""
        from metrics.runs import LiveRun

        ident = (source.path, tuple((f.path, f.format, f.launch) for f in source.files))
        kept = self.lives.get(source.name)
        if kept is None or kept[0] != ident:
            kept = (ident, LiveRun(source, self.options))
            self.lives[source.name] = kept
        return kept[1]

    def _watch_run(self, source: RunSource, now: float) -> tuple[int, int, bool] | None:
        """(needs attention, alerts sent, a delivery failed), or None if the run is unreadable."""
        from metrics.alerts import Delivery, RunRecord, condition_of, decide, delivered
        from metrics.diagnosis import diagnose
        from metrics.runs import summarize

        record = self.state.runs.get(source.name, RunRecord())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # bad lines: `segwatch check` reports them
            try:
                live = self._live(source).refresh(now)
                error = live.error
                run = live.run
            except MetricsError as exc:
                error, run = str(exc), None
            except Exception as exc:  # a reader bug must not stop the watcher
                error = (
                    f"internal error while reading ({type(exc).__name__}: {exc}); please report it"
                )
                run = None
        if error and error != record.error:
            print(f"segwatch: {source.name}: cannot read the run: {error}", file=self.err)
        record = replace(record, error=error)
        self.state.runs[source.name] = record
        if run is None:
            return None
        try:
            condition = condition_of(diagnose(run, self.config, now=now))
            summary = summarize(run.table, run.name, run.path, run.format)
        except Exception as exc:  # a diagnosis bug must not stop the watcher
            what = f"{type(exc).__name__}: {exc}"
            self._report_once(f"segwatch: {source.name}: internal error in the diagnosis ({what})")
            return None
        targets = dict(record.targets)
        sent = 0
        failed = False
        for target in self.targets:
            decision = decide(
                source.name, targets.get(target.key, Delivery()), condition, now, self.policy
            )
            targets[target.key] = decision.record
            if decision.alert is None:
                continue
            if target.key in self._down:  # one timeout per pass, not one per alert
                failed = True
                continue
            if self._send(target, decision.alert, summary):
                targets[target.key] = delivered(decision.alert, now)
                sent += 1
            else:
                self._down.add(target.key)
                failed = True
        self.state.runs[source.name] = replace(
            record, status=condition.status, condition=condition.items, targets=targets
        )
        return int(condition.alerting), sent, failed

    def _send(self, target: Target, alert: Alert, summary: RunSummary) -> bool:
        import apprise

        from metrics.alerts import compose, label

        message = compose(alert, summary, self.dashboard_url)
        kind = apprise.NotifyType.WARNING if alert.kind == "entered" else apprise.NotifyType.SUCCESS
        with apprise.LogCapture(level=apprise.logging.WARNING, fmt="%(message)s") as log:
            try:
                ok = bool(
                    target.sender.notify(body=message.body, title=message.title, notify_type=kind)
                )
            except Exception as exc:  # a plugin bug must not stop the watcher
                ok = False
                log.write(f"{type(exc).__name__}: {exc}")
            why = " ".join(log.getvalue().split())
        what = f"{alert.run} — {'' if alert.kind == 'entered' else 'recovered from '}"
        what += label(alert.items)
        if ok:
            print(f"segwatch: notified {target.shown}: {what}", file=self.out, flush=True)
        else:
            print(
                f"segwatch: could not notify {target.shown} of {what}"
                f"{f' ({why})' if why else ''}; it and the other alerts to it this pass will be "
                "retried at the next pass",
                file=self.err,
                flush=True,
            )
        return ok

    def _report_once(self, message: str) -> None:
        if message not in self._reported:
            print(message, file=self.err, flush=True)
            self._reported.add(message)


def _watch(args: argparse.Namespace) -> int:
    from metrics.alerts import default_state_path, state_lock

    if args.interval <= 0 or (args.min_gap is not None and args.min_gap < 0):
        print("segwatch: --interval must be > 0 and --min-gap ≥ 0", file=sys.stderr)
        return EXIT_USAGE
    try:
        targets = [make_target(url) for url in args.notify]
    except ValueError as exc:
        print(f"segwatch: {exc}", file=sys.stderr)
        return EXIT_USAGE
    state_path = Path(args.state) if args.state else default_state_path(args.logdir)
    try:
        with state_lock(state_path):
            return _watch_locked(args, targets, state_path)
    except MetricsError as exc:
        print(f"segwatch: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _watch_locked(args: argparse.Namespace, targets: list[Target], state_path: Path) -> int:
    from metrics.alerts import MIN_GAP_S, AlertPolicy
    from metrics.diagnosis import load_config
    from metrics.settings import settings_path

    try:
        config = load_config(settings_path(args.logdir, args.config))
        options = reader_options(args, args.logdir)
        watcher = Watcher(
            args.logdir,
            targets,
            state_path,
            options=options,
            config=config,
            policy=AlertPolicy(
                MIN_GAP_S if args.min_gap is None else args.min_gap * 60, args.recoveries
            ),
            dashboard_url=args.dashboard_url,
        )
    except MetricsError as exc:
        print(f"segwatch: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not args.once:
        print(
            f"segwatch: watching {args.logdir} every {args.interval:g} s "
            f"({len(targets)} notification URL{'s' if len(targets) > 1 else ''}; "
            f"state in {state_path})",
            flush=True,
        )
    with contextlib.suppress(KeyboardInterrupt):
        result = watcher.run_pass()
        if not result.found:  # a wrong LOGDIR at the start is a usage error, later a hiccup
            return EXIT_USAGE
        if args.once:
            return EXIT_FLAGGED if result.attention or result.failed else EXIT_OK
        watcher.run_forever(args.interval, first=False)
    return EXIT_OK
