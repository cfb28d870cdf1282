"""`segwatch check --workers N`: the same reports as one process, in discovery order."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from dashboard.cli import main
from metrics.diagnosis import DiagnosisConfig
from metrics.runs import discover_runs
from metrics.runs.parallel import report_runs


def test_workers_give_the_same_reports_in_order(sample_logs: Path, tmp_path: Path, capsys) -> None:
    logdir = tmp_path / "logs"
    shutil.copytree(sample_logs, logdir)
    (logdir / "zz_broken").mkdir()
    (logdir / "zz_broken" / "train.log").write_text(
        "[TRAIN] epoch: 1, iter: 10/100, loss: 1.0, lr: 0.01\n"
    )
    outs = []
    for workers in ("1", "3"):
        code = main(["check", str(logdir), "--json", "--no-cache", "--workers", workers])
        out, _ = capsys.readouterr()
        outs.append((code, json.loads(out)))
    assert outs[0] == outs[1]
    names = [r["run"] for r in outs[0][1]["runs"]]
    assert names == [s.name for s in discover_runs(str(logdir))]


def test_reports_carry_no_table(sample_logs: Path) -> None:
    sources = discover_runs(str(sample_logs / "paddleseg"))
    reports = list(report_runs([(s, None) for s in sources], DiagnosisConfig(), workers=2))
    assert [r.entry["run"] for r in reports] == [s.name for s in sources]
    for r in reports:
        assert not r.failed and r.clock is not None
        assert len(json.dumps(r.entry, default=str)) < 200_000  # a summary, not a table


def test_workers_must_be_positive(sample_logs: Path, capsys) -> None:
    assert main(["check", str(sample_logs), "--workers", "0"]) == 2
    assert "--workers" in capsys.readouterr().err


def _dies_on_healthy(source, options, config, now=None):
    """``report_run``, except that the worker process dies on one run (as if killed)."""
    import os

    from metrics.runs.report import report_run

    if source.name.endswith("healthy"):
        os._exit(9)
    return report_run(source, options, config, now)


def test_a_dead_worker_costs_its_runs_not_the_check(sample_logs: Path, monkeypatch) -> None:
    import metrics.runs.parallel as parallel

    monkeypatch.setattr(parallel, "report_run", _dies_on_healthy)  # inherited by forked workers
    sources = discover_runs(str(sample_logs / "paddleseg"))
    reports = list(report_runs([(s, None) for s in sources], DiagnosisConfig(), workers=2))
    assert [r.entry["run"] for r in reports] == [s.name for s in sources]
    dead = next(r for r in reports if r.entry["run"].endswith("healthy"))
    assert dead.failed and "worker process died" in dead.entry["error"]
    for r in reports:  # the others: a report, or the same plain error (never an exception)
        assert not r.failed or "worker process died" in r.entry["error"]
