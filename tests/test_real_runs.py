"""The diagnosis on 19 real public runs (``../shared/real_runs``), judged as an engineer reads
their curves: never "stalled" while mIoU still rises, finished runs judged as finished, a
broken evaluation named, the root cause first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dashboard.cli import main
from tests.copies_util import just_written


@pytest.fixture(scope="module")
def verdicts(real_runs: Path) -> dict[str, dict]:
    """``segwatch check real_runs --json``, by run name (one pass for the whole module)."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["check", str(just_written(real_runs)), "--json"])
    return {r["run"]: r for r in json.loads(out.getvalue())["runs"]}


def codes(run: dict) -> list[str]:
    return [f["code"] for f in run["findings"]]


@pytest.mark.parametrize(
    "name",
    ["paddleseg/dmnet_justld", "paddleseg/bisenetv1_justld", "mmseg1x_text/dubai_115844"],
)
def test_runs_still_rising_at_their_end_are_not_stalled(verdicts, name: str) -> None:
    """New bests at the very end (DMNet: 0.7454, 0.7428, 0.7878, 0.7947, 0.7988)."""
    run = verdicts[name]
    assert run["latest_miou"] == run["best_miou"]
    assert run["status"] == "ok" and "still_improving" in codes(run)
    (f,) = [f for f in run["findings"] if f["code"] == "still_improving"]
    assert "more iterations" in f["message"] or f["evidence"]["gain"] > f["evidence"]["threshold"]


def test_a_log_cut_short_long_ago_says_where_it_stopped(verdicts) -> None:
    run = verdicts["paddleseg/encnet_justld"]
    assert run["status"] == "stopped" and codes(run)[0] == "stopped_early"
    assert "Stopped at step 75080 of 80000 (94%)" in run["findings"][0]["message"]
    assert "no new record" not in json.dumps(run["findings"]).lower()


def test_the_m2nist_evaluation_is_broken(verdicts) -> None:
    run = verdicts["mmseg1x_text/m2nist_024802"]
    assert run["status"] == "broken_eval"
    f = run["findings"][0]
    assert f["code"] == "broken_eval" and f["severity"] == "critical"
    assert "'digits'" in f["message"] and f["checks"][0] == "labels"
    assert not {"miou_plateau", "converged"} & set(codes(run))


def test_swings_at_a_high_lr_put_learning_rate_first(verdicts) -> None:
    """WTA BiSeNetV1: the lr is 88 % of its peak at the end, mIoU swings 0.508 → 0.337 → 0.469."""
    run = verdicts["mmseg1x_json/wta_bisenetv1_aug_40k"]
    top = run["findings"][0]
    assert top["code"] in ("converged", "miou_plateau") and top["checks"][0] == "learning_rate"


def test_a_run_without_validation_says_only_the_loss_was_checked(verdicts) -> None:
    run = verdicts["paddleseg/encnet_shun14_noeval"]
    assert run["status"] == "no_eval" and codes(run) == ["no_eval"]
    assert "--do_eval" in run["findings"][0]["message"]


def test_invariants_on_every_real_run(verdicts) -> None:
    """No warning under a green "ok"; never flat while the latest eval is the best."""
    assert len(verdicts) == 19
    for name, run in verdicts.items():
        severities = {f["severity"] for f in run["findings"]}
        assert not (run["status"] == "ok" and severities & {"warning", "critical"}), name
        if run["status"] in ("stalled", "converged") and run["best_miou"] is not None:
            assert run["latest_miou"] != run["best_miou"], name
