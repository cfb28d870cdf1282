"""The schedule a run's directory names state (MMSeg config names: ``…_4xb4-40k_…``) and the
finished run it lets segwatch recognise when the log has no time stamps."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.cli import main
from metrics.facts.schedule_name import planned_from_names, steps_in_names


@pytest.mark.parametrize(
    ("path", "steps"),
    [
        ("work_dirs/bisenetv1_r18-d32_4xb4-40k_cityscapes-1024x1024/20240806/vis_data", {40000}),
        ("exp/resol_192_40K_bs_16/scalars.json", {40000}),
        ("pspnet_watermelon_400it_scalars.json", {400}),
        ("runs/deeplab_2000iters/log.json", {2000}),
        ("segformer_mit-b0_8xb2-160k_ade20k-512x512", {160000}),  # not ade20k's "20k"
        ("upernet_r50_512x1024_80k_cityscapes/80k/log", {80000}),
        ("fcn_r50-d8_512x1024_cityscapes/20230615_115844", set()),
        ("v1.5k/deeplab", set()),
    ],
)
def test_steps_in_names(path: str, steps: set[int]) -> None:
    assert steps_in_names([path]) == steps


@given(st.text(alphabet="abcdefxyz_-/.0123456789", max_size=40), st.integers(1, 10**6))
def test_only_a_stated_count_equal_to_the_last_step_is_a_plan(name: str, last: int) -> None:
    planned = planned_from_names([name], last)
    assert planned is None or (planned == last and last in steps_in_names([name]))


def check(capsys, path: Path) -> dict:
    main(["check", str(path), "--json", "--no-cache"])
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    return run


def fresh_copy(src: Path, dst: Path) -> Path:
    """A copy written just now, as ``git clone`` or ``cp`` leaves it (its mtime is now)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    os.utime(dst)
    return dst


def test_a_fresh_copy_of_a_finished_scalars_json_is_judged_finished(
    public_logs: Path, tmp_path: Path, capsys
) -> None:
    """MMSeg 1.x ``scalars.json`` has no time stamps: a copy made a second ago looks live by its
    mtime. Its work dir's name (40k) and its poly lr at eta_min both say it ended."""
    src = public_logs / "mmseg1x" / "deeplabv3_wta_40k_scalars.json"
    named = fresh_copy(src, tmp_path / "deeplabv3_r50-d8_4xb4-40k_wta-256x256" / "scalars.json")
    run = check(capsys, named)
    assert run["status"] == "converged", run["findings"]
    bare = fresh_copy(src, tmp_path / "run" / "scalars.json")  # only its lr says it ended
    run = check(capsys, bare)
    assert run["status"] == "converged"
    (f,) = [f for f in run["findings"] if f["code"] == "converged"]
    assert "learning rate ran down" in f["evidence"]["finished_because"]


def test_a_fresh_copy_that_states_nothing_is_judged_live(
    public_logs: Path, tmp_path: Path, capsys
) -> None:
    """PSPNet 400 iters ends with its lr at 13 % of its peak: with no stamps, no plan and no
    schedule in its name, a file written a second ago is a run still training."""
    src = public_logs / "mmseg1x" / "pspnet_watermelon_400it_scalars.json"
    assert check(capsys, fresh_copy(src, tmp_path / "run" / "scalars.json"))["status"] == "stalled"
    named = fresh_copy(src, tmp_path / "pspnet_400it" / "scalars.json")
    assert check(capsys, named)["status"] == "converged"
