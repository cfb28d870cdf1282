"""The summary cache of `segwatch check`: unchanged runs are not read again, changed ones are,
a cached diagnosis is judged again at the current time, a broken cache is only a warning."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import metrics.runs.report as report_mod
from dashboard.cli import main
from metrics.diagnosis import DiagnosisConfig
from metrics.readers.registry import SNIFF_BYTES
from metrics.runs import discover_runs
from metrics.runs.cache import SummaryCache, run_identity
from metrics.runs.report import report_run
from tests.test_cli_check import scalars_json


def _check(capsys, *args: str) -> tuple[int, dict, str]:
    code = main(["check", *args, "--json", "--workers", "1"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


@pytest.fixture()
def logdir(tmp_path: Path, sample_logs: Path) -> Path:
    dest = tmp_path / "logs"
    shutil.copytree(sample_logs / "mmseg1x", dest / "mmseg1x")
    shutil.copytree(sample_logs / "paddleseg", dest / "paddleseg")
    return dest


@pytest.fixture()
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the runs read from their files (each call of ``load_run``)."""
    seen: list[str] = []
    real = report_mod.load_run

    def counting(source, *a, **k):  # type: ignore[no-untyped-def]
        seen.append(source.name)
        return real(source, *a, **k)

    monkeypatch.setattr(report_mod, "load_run", counting)
    return seen


def test_unchanged_runs_are_not_read_again(logdir: Path, tmp_path: Path, capsys, loads) -> None:
    cache = str(tmp_path / "cache")
    code1, first, _ = _check(capsys, str(logdir), "--cache-dir", cache)
    n = len(first["runs"])
    assert n >= 4 and len(loads) == n
    code2, second, _ = _check(capsys, str(logdir), "--cache-dir", cache)
    assert len(loads) == n, "a second check on unchanged files read a run again"
    assert second == first and code2 == code1
    assert (tmp_path / "cache" / "summaries.sqlite").is_file()


def test_cached_report_is_used_even_if_content_is_gone(
    logdir: Path, tmp_path: Path, capsys
) -> None:
    """Honest proof without a mock: the file's bytes are replaced by garbage of the same size
    with its mtime restored; an unchanged identity means the report comes from the cache."""
    cache = str(tmp_path / "cache")
    rising = [0.2 + 0.4 * (1 - 0.98**i) for i in range(200)]
    scalars_json(logdir / "big" / "20240101_000000" / "vis_data" / "scalars.json", rising, 400)
    _, first, _ = _check(capsys, str(logdir), "--cache-dir", cache)
    assert first["runs"][0]["run"] == "big"
    victim = Path(first["runs"][0]["files"][0]["path"])
    st = victim.stat()
    assert st.st_size > 2 * SNIFF_BYTES
    with open(victim, "r+b") as fh:  # its head (what discovery sniffs) stays; the rest is gone
        fh.seek(SNIFF_BYTES)
        fh.write(b"\x00" * (st.st_size - SNIFF_BYTES))
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
    _, cached, _ = _check(capsys, str(logdir), "--cache-dir", cache)
    assert cached["runs"][0] == first["runs"][0]
    _, fresh, _ = _check(capsys, str(logdir), "--no-cache")
    assert fresh["runs"][0] != first["runs"][0]  # a real read sees the garbage


def test_a_changed_run_is_read_again_alone(logdir: Path, tmp_path: Path, capsys, loads) -> None:
    cache = str(tmp_path / "cache")
    _, first, _ = _check(capsys, str(logdir), "--cache-dir", cache)
    target = first["runs"][-1]
    path = Path(target["files"][0]["path"])
    with open(path, "ab") as fh:
        fh.write(b"\n")
    loads.clear()
    _, second, _ = _check(capsys, str(logdir), "--cache-dir", cache)
    assert loads == [target["run"]]
    assert [r["run"] for r in second["runs"]] == [r["run"] for r in first["runs"]]


def test_other_settings_are_other_entries(logdir: Path, tmp_path: Path, capsys, loads) -> None:
    cache = str(tmp_path / "cache")
    _check(capsys, str(logdir), "--cache-dir", cache)
    n = len(loads)
    _check(capsys, str(logdir), "--cache-dir", cache, "--window", "7")
    assert len(loads) == 2 * n  # new thresholds: every run judged again


def test_no_cache_reads_and_writes_nothing(logdir: Path, tmp_path: Path, capsys, loads) -> None:
    _check(capsys, str(logdir), "--no-cache")
    _check(capsys, str(logdir), "--no-cache")
    assert len(loads) == 2 * len(set(loads))
    assert not any(Path(os.environ["XDG_CACHE_HOME"]).rglob("*.sqlite"))


def test_default_location_is_the_user_cache(logdir: Path, capsys) -> None:
    _check(capsys, str(logdir))
    assert (Path(os.environ["XDG_CACHE_HOME"]) / "segwatch" / "summaries.sqlite").is_file()


def test_corrupt_cache_degrades_with_a_warning(logdir: Path, tmp_path: Path, capsys) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "summaries.sqlite").write_bytes(b"this is not a database" * 100)
    _, out, err = _check(capsys, str(logdir), "--cache-dir", str(cache))
    assert "summary cache" in err and "warning" in err and "Traceback" not in err
    _, fresh, _ = _check(capsys, str(logdir), "--no-cache")
    assert out == fresh


def test_unusable_cache_dir_degrades_with_a_warning(logdir: Path, tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    _, out, err = _check(capsys, str(logdir), "--cache-dir", str(blocker / "sub"))
    assert "summary cache" in err and "--no-cache" in err
    assert len(out["runs"]) >= 4


def test_cached_diagnosis_is_judged_again_at_a_later_time(logdir: Path, tmp_path: Path) -> None:
    """A run judged live when cached becomes no longer written later: the cache must not serve
    the old verdict; a run whose lifecycle state holds gets its silence recomputed."""
    config = DiagnosisConfig()
    cache = SummaryCache.open(tmp_path / "c", config)
    sources = discover_runs(str(logdir))
    now = time.time()
    reports = [report_run(s, None, config, now) for s in sources]
    ids = [run_identity(s) for s in sources]
    cache.put_many((s, None, i, r) for s, i, r in zip(sources, ids, reports, strict=True) if i)
    for s, i, r in zip(sources, ids, reports, strict=True):
        assert i is not None
        assert cache.get(s, None, i, now) is not None
        later = now + 10 * 86400
        hit = cache.get(s, None, i, later)
        expected = report_run(s, None, config, later)
        if hit is None:
            assert r.state != expected.state  # judged again: the state changed
        else:
            assert hit.entry == json.loads(json.dumps(expected.entry, default=str))


def test_concurrent_checks_share_one_cache(logdir: Path, tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    cmd = [sys.executable, "-m", "dashboard.cli", "check", str(logdir), "--json"]
    procs = [
        subprocess.Popen([*cmd, "--cache-dir", cache], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode in (0, 1) for p in procs)
    assert len({o for o in outs}) == 1 and json.loads(outs[0])["runs"]


def test_a_warm_check_reads_no_log_bytes(
    logdir: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Discovery's sniffs are kept in the cache too: a new process (its in-memory memo empty)
    checking unchanged runs opens no log."""
    import metrics.runs.discover as discover
    from metrics.readers.source import Source

    cache = str(tmp_path / "cache")
    _, first, _ = _check(capsys, str(logdir), "--cache-dir", cache)
    discover._SNIFFED.clear()  # as in a new process
    reads: list[str] = []
    real = Source.read_range
    monkeypatch.setattr(
        Source, "read_range", lambda self, *a, **k: reads.append(self.path) or real(self, *a, **k)
    )
    _, second, _ = _check(capsys, str(logdir), "--cache-dir", cache)
    assert second == first
    assert reads == []
