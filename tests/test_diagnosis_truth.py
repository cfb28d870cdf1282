"""The labelled sample runs: every run gets its status and its key findings, hard negatives stay
unflagged, and the headline figures match what the files say (sample_logs/truth.json)."""

from __future__ import annotations

import json

import pytest

from metrics.diagnosis import diagnose
from metrics.runs import discover_runs, load_run
from metrics.runs.summary import summarize
from tests.conftest import SAMPLE_LOGS

TRUTH = json.loads((SAMPLE_LOGS / "truth.json").read_text())["runs"]
RUNS = {src.name: src for src in discover_runs(str(SAMPLE_LOGS))}


def test_every_labelled_run_is_discovered_once() -> None:
    assert set(RUNS) == set(TRUTH)


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_labelled_run(name: str) -> None:
    truth = TRUTH[name]
    run = load_run(RUNS[name])
    formats = {f.path.split("sample_logs/", 1)[1]: f.format for f in run.files}
    assert formats == truth["files"]
    summary = summarize(run.table, run.name, run.path, run.format)
    if truth["best_miou"] is None:
        assert summary.best_miou is None
    else:
        assert summary.best_miou == pytest.approx(truth["best_miou"], abs=1e-4)
        assert summary.best_step == truth["best_step"]
    assert summary.last_step == truth["last_step"]
    verdict = diagnose(run)
    codes = {f.code for f in verdict.findings}
    messages = [f.message for f in verdict.findings]
    assert verdict.status == truth["status"], messages
    assert set(truth["findings"]) <= codes, messages
    allowed = set(truth["findings"]) | set(truth["optional_findings"])
    flagged = {f.code for f in verdict.findings if f.severity != "info"}
    assert flagged <= allowed, messages  # no false alarm, hard negatives above all
    for f in verdict.findings:
        assert f.message and f.evidence
        assert f.severity == "info" or f.checks
