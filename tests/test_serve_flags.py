"""Issue 14, items 13 and 14: ``segwatch serve`` hides tracebacks from the browser and answers
only to the bound host's names (Streamlit's ``server.allowedHosts``, a DNS-rebinding guard)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.cli import main
from dashboard.cli.serve import allowed_hosts


def _argv(monkeypatch: pytest.MonkeyPatch, *flags: str) -> list[str]:
    import sys
    import threading

    from streamlit.web import cli as stcli

    from dashboard import cache

    seen: list[str] = []
    primed: list[str] = []

    def streamlit_main(args: list[str], prog_name: str) -> None:
        app_args = args[args.index("--") + 1 :]
        assert sys.argv[1:] == app_args  # the app's argv, as Streamlit will set it, already set
        seen.extend([prog_name, *args])

    monkeypatch.setattr(stcli, "main", streamlit_main)
    monkeypatch.setattr(cache, "prime", primed.append)  # the warm-up thread, not run here
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    SAMPLES = Path(__file__).resolve().parents[1] / "sample_logs" / "csv"
    assert main(["serve", str(SAMPLES), *flags]) == 0
    for thread in threading.enumerate():
        if thread.name == "segwatch-prime":
            thread.join(10)
    assert primed == [str(SAMPLES)]  # the overview warmed up while Streamlit starts
    return seen


def test_serve_hides_error_details_and_pins_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    argv = _argv(monkeypatch)
    assert "--client.showErrorDetails=none" in argv
    hosts = {a.split("=", 1)[1] for a in argv if a.startswith("--server.allowedHosts=")}
    assert hosts == {"127.0.0.1", "localhost", "::1"}
    argv = _argv(monkeypatch, "--host", "0.0.0.0")
    assert "--server.allowedHosts=*" in argv


def test_allowed_hosts() -> None:
    assert allowed_hosts("10.0.0.5", ["seg.example.org"]) == ["10.0.0.5", "seg.example.org"]
    assert allowed_hosts("::", []) == ["*"]
    assert "evil.example" not in allowed_hosts("127.0.0.1", [])


def test_serve_passes_the_cache_dir_to_the_app(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``serve --cache-dir DIR``: the Runs page keeps its summaries where ``check`` would."""
    import sys

    from dashboard.server_args import summary_cache_dir

    argv = _argv(monkeypatch, "--cache-dir", str(tmp_path))
    app_args = argv[argv.index("--") + 1 :]
    assert app_args[app_args.index("--cache-dir") + 1] == str(tmp_path)
    monkeypatch.setattr(sys, "argv", ["app.py", *app_args])
    assert summary_cache_dir() == str(tmp_path)
    monkeypatch.setattr(sys, "argv", ["app.py"])
    assert summary_cache_dir().endswith("segwatch")  # check's default otherwise
