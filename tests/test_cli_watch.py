"""`segwatch watch`: real runs, real Apprise, a local HTTP endpoint recording what arrives."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from dashboard.cli import main
from dashboard.cli.demo import curve_lines, write_run
from dashboard.cli.watch import Watcher, make_target
from metrics.alerts import AlertPolicy, load_state, state_lock
from metrics.errors import LogReadError
from metrics.runs import LogTailer
from tests.conftest import REPO

DIVERGING = REPO / "sample_logs" / "paddleseg" / "fcn_hrnetw18_cityscapes_diverging"


class Endpoint:
    """An HTTP server on 127.0.0.1 that records the JSON bodies POSTed to it."""

    def __init__(self, port: int = 0) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    def titles(self) -> list[str]:
        return [b["title"] for b in self.bodies]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def endpoint() -> Iterator[Endpoint]:
    ep = Endpoint()
    yield ep
    ep.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def upto(lines: list[str], iteration: int) -> list[str]:
    """The lines of a run up to (and with) the evaluation at ``iteration``."""
    cut = next(i for i, line in enumerate(lines) if f'"iter": {iteration},' in line) + 2
    return lines[:cut]


def write_stalled(folder: Path, name: str = "stalled") -> Path:
    """A run still training (6000 of 8000 iterations) whose mIoU stopped rising long ago."""
    lines = upto(curve_lines(8000, 50, 500, plateau_at=0.35, seed=1), 6000)
    return write_run(folder / name, 8000, lines)


def growing_run(folder: Path, iteration: int) -> tuple[Path, list[str]]:
    """A run that will diverge, written up to ``iteration`` (still healthy); the rest."""
    lines = curve_lines(6000, 50, 500, seed=3, diverge_at=0.3)
    head = upto(lines, iteration)
    return write_run(folder / "grow", 6000, head), lines[len(head) :]


def once(
    capsys: pytest.CaptureFixture[str], logdir: Path, state: Path, *args: str
) -> tuple[int, str, str]:
    code = main(["watch", str(logdir), "--once", "--state", str(state), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_alerts_once_per_entry_across_passes_and_restarts(
    tmp_path: Path, endpoint: Endpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    logdir, state = tmp_path / "logs", tmp_path / "state.json"
    write_stalled(logdir)
    log, rest = growing_run(logdir, 2000)
    notify = ("--notify", endpoint.url, "--dashboard-url", "http://gpu-box:8501")

    code, out, _ = once(capsys, logdir, state, *notify)  # already stalled: one alert
    assert code == 1
    assert endpoint.titles() == ["segwatch: stalled — stalled"]
    body = endpoint.bodies[0]["message"]
    assert "miou" in body.lower() and "First check — " in body
    assert "Best mIoU: " in body and " @ step " in body
    assert "Open: http://gpu-box:8501/run?run=stalled" in body
    assert "notified json://127.0.0.1" in out

    assert once(capsys, logdir, state, *notify)[1] == ""  # unchanged: nothing
    assert len(endpoint.bodies) == 1

    with open(log, "a", encoding="utf-8") as fh:  # the healthy run now diverges
        fh.write("\n".join(rest) + "\n")
    once(capsys, logdir, state, *notify)
    assert endpoint.titles()[1:] == ["segwatch: grow — diverging"]
    assert "NaN" in endpoint.bodies[1]["message"] or "nan" in endpoint.bodies[1]["message"]

    code, out, err = once(capsys, logdir, state, *notify)  # a restart: nothing again
    assert len(endpoint.bodies) == 2 and out == "" and err == "" and code == 1
    saved = load_state(state)
    assert saved.runs["grow"].condition == ("diverging",)
    assert saved.runs["stalled"].status == "stalled"
    assert endpoint.url not in state.read_text()  # URLs (and their tokens) stay out of it


def test_healthy_runs_send_nothing_and_exit_0(
    tmp_path: Path, endpoint: Endpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    logdir = tmp_path / "logs"
    growing_run(logdir, 2000)
    assert once(capsys, logdir, tmp_path / "s.json", "--notify", endpoint.url) == (0, "", "")
    assert endpoint.bodies == []


def test_an_unreachable_service_is_reported_and_retried_at_the_next_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logdir, state = tmp_path / "logs", tmp_path / "state.json"
    shutil.copytree(DIVERGING, logdir / "diverging")
    write_stalled(logdir)
    port = free_port()
    url = f"json://127.0.0.1:{port}/hook"
    code, out, err = once(capsys, logdir, state, "--notify", url)
    assert code == 1 and out == ""
    assert err.count("could not notify json://127.0.0.1") == 1  # tried once per pass
    assert "diverging" in err and "retried at the next pass" in err
    ep = Endpoint(port)  # the service is back
    try:
        code, out, err = once(capsys, logdir, state, "--notify", url)
        assert sorted(ep.titles()) == [
            "segwatch: diverging — diverging",
            "segwatch: stalled — stalled",
        ]
        assert err == "" and out.count("notified") == 2
        once(capsys, logdir, state, "--notify", url)
        assert len(ep.bodies) == 2
    finally:
        ep.close()


def test_one_unreachable_service_does_not_repeat_alerts_on_the_others(
    tmp_path: Path, endpoint: Endpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    logdir, state = tmp_path / "logs", tmp_path / "state.json"
    write_stalled(logdir)
    dead = f"json://127.0.0.1:{free_port()}/hook"
    for _ in range(3):
        _, _, err = once(capsys, logdir, state, "--notify", endpoint.url, "--notify", dead)
        assert err.count("could not notify") == 1
    assert len(endpoint.bodies) == 1


def test_a_flapping_run_is_rate_limited(
    tmp_path: Path, endpoint: Endpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    logdir, state = tmp_path / "logs", tmp_path / "state.json"
    stalled = upto(curve_lines(8000, 50, 500, plateau_at=0.35, seed=1), 6000)
    rising = upto(curve_lines(8000, 50, 500, seed=2), 3000)  # still learning
    args = ("--notify", endpoint.url, "--recoveries")
    for lines in (stalled, rising, stalled, rising):
        write_run(logdir / "flappy", 8000, lines)
        once(capsys, logdir, state, *args)
    assert endpoint.titles() == ["segwatch: flappy — stalled"]
    # without the limit every change is told: recovery, then the relapse
    write_run(logdir / "flappy", 8000, stalled)
    once(capsys, logdir, state, *args, "--min-gap", "0")
    write_run(logdir / "flappy", 8000, rising)
    once(capsys, logdir, state, *args, "--min-gap", "0")
    assert endpoint.titles()[1:] == ["segwatch: flappy — recovered"]


def test_a_process_that_stopped_writing_alerts(
    tmp_path: Path, endpoint: Endpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    logdir = tmp_path / "logs"
    log, _ = growing_run(logdir, 2000)  # 2000 of 6000 iterations
    an_hour_ago = time.time() - 3600
    os.utime(log, (an_hour_ago, an_hour_ago))
    once(capsys, logdir, tmp_path / "s.json", "--notify", endpoint.url)
    # "stuck process" while the status says ok; the diagnosis is learning a status "stopped"
    assert endpoint.titles()[0] in ("segwatch: grow — stuck process", "segwatch: grow — stopped")
    assert len(endpoint.bodies) == 1
    assert "No new record for" in endpoint.bodies[0]["message"]


def test_an_unreadable_run_is_reported_once(
    tmp_path: Path,
    endpoint: Endpoint,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A log over the size limit cannot be read (what a permission error gives a non-root user;
    this works as root too): reported once, and alerted on once it can be read."""
    logdir, state = tmp_path / "logs", tmp_path / "state.json"
    write_stalled(logdir, "broken")
    monkeypatch.setenv("SEGWATCH_MAX_LOG_BYTES", "2048")
    code, _, err = once(capsys, logdir, state, "--notify", endpoint.url)
    assert code == 1 and "broken: cannot read the run" in err
    assert once(capsys, logdir, state, "--notify", endpoint.url)[2] == ""
    monkeypatch.delenv("SEGWATCH_MAX_LOG_BYTES")
    once(capsys, logdir, state, "--notify", endpoint.url)
    assert endpoint.titles() == ["segwatch: broken — stalled"]


def test_a_run_that_fails_to_read_is_reported_once_and_the_others_still_alert(
    tmp_path: Path,
    endpoint: Endpoint,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The read error injected below the run (in its file's tailer), as a vanished file gives."""
    logdir, state = tmp_path / "logs", tmp_path / "state.json"
    write_stalled(logdir, "broken")
    write_stalled(logdir)
    real_poll = LogTailer.poll

    def poll(self: LogTailer, *args: Any, **kwargs: Any) -> Any:
        if "broken" in self.path:
            raise LogReadError(f"{self.path}: cannot read (Input/output error)")
        return real_poll(self, *args, **kwargs)

    monkeypatch.setattr(LogTailer, "poll", poll)
    code, _, err = once(capsys, logdir, state, "--notify", endpoint.url)
    assert code == 1 and err.count("cannot read the run") == 1 and "Input/output" in err
    assert endpoint.titles() == ["segwatch: stalled — stalled"]
    assert once(capsys, logdir, state, "--notify", endpoint.url)[2] == ""  # reported once
    monkeypatch.setattr(LogTailer, "poll", real_poll)
    once(capsys, logdir, state, "--notify", endpoint.url)  # readable again: its alert goes out
    assert endpoint.titles()[1:] == ["segwatch: broken — stalled"]
    assert load_state(state).runs["broken"].error is None


def test_a_long_running_watch_keeps_one_live_run_per_run_and_picks_up_new_runs(
    tmp_path: Path, endpoint: Endpoint
) -> None:
    logdir = tmp_path / "logs"
    log, rest = growing_run(logdir, 2000)
    out, err = io.StringIO(), io.StringIO()
    watcher = Watcher(
        str(logdir),
        [make_target(endpoint.url)],
        tmp_path / "state.json",
        policy=AlertPolicy(min_gap_s=0.0),
        out=out,
        err=err,
    )
    assert watcher.run_pass().sent == 0
    live = watcher.lives["grow"][1]
    offset = live._tailers[str(log)].offset
    with open(log, "a", encoding="utf-8") as fh:
        fh.write("\n".join(rest) + "\n")
    result = watcher.run_pass()
    assert result.sent == 1 and result.attention == 1
    assert watcher.lives["grow"][1] is live  # the same reader, which read on from its offset
    assert live._tailers[str(log)].offset > offset
    write_stalled(logdir)  # a new run appears
    assert watcher.run_pass().sent == 1
    assert endpoint.titles() == ["segwatch: grow — diverging", "segwatch: stalled — stalled"]
    assert watcher.run_pass().sent == 0 and err.getvalue() == ""


def test_a_vanished_logdir_is_reported_once_and_the_watch_goes_on(
    tmp_path: Path, endpoint: Endpoint
) -> None:
    logdir = tmp_path / "logs"
    write_stalled(logdir)
    err = io.StringIO()
    watcher = Watcher(
        str(logdir), [make_target(endpoint.url)], tmp_path / "s.json", out=io.StringIO(), err=err
    )
    moved = tmp_path / "elsewhere"
    logdir.rename(moved)  # e.g. an unmounted network share
    assert watcher.run_pass().failed and watcher.run_pass().failed
    assert err.getvalue().count("no such file or folder") == 1
    moved.rename(logdir)
    assert watcher.run_pass().sent == 1 and len(endpoint.bodies) == 1


def test_run_forever_passes_until_stopped(tmp_path: Path, endpoint: Endpoint) -> None:
    logdir = tmp_path / "logs"
    write_stalled(logdir)
    watcher = Watcher(
        str(logdir), [make_target(endpoint.url)], tmp_path / "s.json", out=io.StringIO()
    )
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run_forever, args=(0.05, stop))
    thread.start()
    deadline = time.monotonic() + 30
    while not endpoint.bodies and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # several more passes
    stop.set()
    thread.join(10)
    assert not thread.is_alive()
    assert len(endpoint.bodies) == 1


def test_the_command_watches_until_interrupted(tmp_path: Path, endpoint: Endpoint) -> None:
    logdir, state = tmp_path / "logs", tmp_path / "state.json"
    log, rest = growing_run(logdir, 2000)
    cmd = [sys.executable, "-m", "dashboard.cli", "watch", str(logdir), "--notify", endpoint.url]
    cmd += ["--interval", "0.2", "--state", str(state)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not state.exists() and time.monotonic() < deadline:  # first pass: nothing to send
            time.sleep(0.1)
        with open(log, "a", encoding="utf-8") as fh:
            fh.write("\n".join(rest) + "\n")
        write_stalled(tmp_path)  # appears whole, not half-written
        (tmp_path / "stalled").rename(logdir / "stalled")
        while len(endpoint.bodies) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # more passes
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert sorted(endpoint.titles()) == [
        "segwatch: grow — diverging",
        "segwatch: stalled — stalled",
    ]
    assert b"watching" in out and err == b""


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logdir = tmp_path / "logs"
    write_stalled(logdir)
    state = tmp_path / "s.json"
    code, _, err = once(capsys, logdir, state, "--notify", "nonsense")
    assert code == 2 and "Apprise" in err
    code, _, err = once(capsys, tmp_path / "missing", state, "--notify", "json://localhost/x")
    assert code == 2 and "no such file" in err
    code, _, err = once(capsys, logdir, state, "--notify", "json://localhost/", "--interval", "0")
    assert code == 2 and "--interval" in err
    with state_lock(state):  # another watch is running on this state
        code, _, err = once(capsys, logdir, state, "--notify", "json://localhost/x")
    assert code == 2 and "in use by another" in err
    state.write_text("{broken")
    code, _, err = once(capsys, logdir, state, "--notify", "json://localhost/x")
    assert code == 2 and "delete it" in err
    with pytest.raises(SystemExit) as info:
        main(["watch", str(logdir)])  # --notify is required
    assert info.value.code == 2


def test_default_state_is_in_the_cache_folder(
    tmp_path: Path,
    endpoint: Endpoint,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    logdir = tmp_path / "logs"
    write_stalled(logdir)
    for _ in range(2):
        main(["watch", str(logdir), "--once", "--notify", endpoint.url])
    capsys.readouterr()
    assert len(endpoint.bodies) == 1
    assert len(list((tmp_path / "cache" / "segwatch").glob("watch-*.json"))) == 1


def test_help_documents_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["watch", "--help"])
    text = capsys.readouterr().out
    for option in (
        "--notify",
        "--interval",
        "--once",
        "--state",
        "--dashboard-url",
        "--recoveries",
        "--min-gap",
        "slack://",
        "mailtos://",
        "ntfy://",
    ):
        assert option in text, option


def test_every_notification_url_in_the_readme_is_one_apprise_understands() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Alerts: `segwatch watch`", 1)[1].split("\n## ", 1)[0]
    urls = re.findall(r"--notify '([^']+)'", section)
    assert len(urls) >= 4
    for url in urls:
        assert make_target(url).key


def test_other_commands_do_not_import_apprise() -> None:
    code = "import sys, dashboard.cli; assert 'apprise' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
