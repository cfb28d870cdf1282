"""Shared fixtures: the bundled sample logs and the real public logs in ../shared/."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE_LOGS = REPO / "sample_logs"
PUBLIC_LOGS = REPO.parent / "shared" / "sample_logs_public"
REAL_RUNS = REPO.parent / "shared" / "real_runs"
#: Set by CI (``.ci/run``): there every test must run, so a skip fails the session.
NO_SKIPS = "SEGWATCH_NO_SKIPS"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Where ``SEGWATCH_NO_SKIPS`` is set, a skipped test (a missing browser, extra or shared
    folder) fails the run: a green CI must mean every test ran."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if os.environ.get(NO_SKIPS) and skipped and exitstatus == 0:
        reasons = sorted({str(r.longrepr[-1]) if isinstance(r.longrepr, tuple) else str(r.longrepr)
                          for r in skipped})  # fmt: skip
        print(f"\n{NO_SKIPS} is set and {len(skipped)} test(s) skipped:", *reasons, sep="\n  ")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _copy(src: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of ``src`` for the session, so tests may mark its files as new (``just_written``)."""
    dst = tmp_path_factory.mktemp("shared") / src.name
    shutil.copytree(src, dst, copy_function=shutil.copyfile)
    return dst


@pytest.fixture(scope="session")
def public_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real logs from public repositories (a copy of ``../shared/sample_logs_public``).

    They are not shipped with segwatch (their licences do not allow it), so a user's own
    clone has no copy: tests that need them skip there, and run in CI where ../shared exists.
    """
    if not (PUBLIC_LOGS / "SOURCES.md").is_file():
        pytest.skip(
            f"real public logs not found at {PUBLIC_LOGS} (only CI and developers have them)"
        )
    return _copy(PUBLIC_LOGS, tmp_path_factory)


@pytest.fixture(scope="session")
def sample_logs() -> Path:
    """The bundled sample logs (``sample_logs/``)."""
    return SAMPLE_LOGS


@pytest.fixture(scope="session")
def real_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """19 real runs from 12 public repositories (a copy of ``../shared/real_runs``, one folder
    per run)."""
    if not (REAL_RUNS / "SOURCES.md").is_file():
        pytest.skip(f"real runs not found at {REAL_RUNS} (only CI and developers have them)")
    return _copy(REAL_RUNS, tmp_path_factory)


@pytest.fixture(autouse=True)
def _own_cache_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Each test gets its own user cache folder: the summary cache of ``segwatch check`` never
    carries a run's report from one test into another, nor into the developer's ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
