"""The real public logs give, through `segwatch check --json`, the figures SOURCES.md states."""

from __future__ import annotations

import json

import pytest

from dashboard.cli import main
from tests.copies_util import just_written

# file: (best mIoU as a fraction, its step, last step, number of evals)
EXPECTED = {
    "paddleseg/espnet_cityscapes_120k_trainer-0.log": (0.6365, 120000, 120000, 30),
    "paddleseg/espnet_cityscapes_120k_vdlrecords.1638726716.log": (0.6365, 120000, 120000, 30),
    "mmseg0x/deeplab_voc12_15k.log.json": (0.7000, 15000, 15000, 5),
    "mmseg0x/deeplab_voc12_15k.log": (0.7000, 15000, 15000, 5),
    "mmseg0x/pspnet_voc12_20k_windows_crlf_gbk.log": (0.6433, 20000, 20000, 10),
    "mmseg0x/pspnet_glomeruli_2k_windows_crlf_gbk.log": (0.9032, 2000, 2000, 10),
    "mmseg1x/pspnet_watermelon_400it_scalars.json": (0.5829, 240, 400, 10),
    "mmseg1x/pspnet_watermelon_400it.log": (0.5829, 240, 400, 10),
    "mmseg1x/deeplabv3_wta_40k_scalars.json": (0.5756, 32000, 40000, 10),
}

# file: (status, findings that must be there) — what SOURCES.md describes each run as; all of
# them are finished runs, so a flat end is "converged", never "stalled" (that is for live runs),
# even in a copy made a second ago
VERDICTS = {
    # "slow creep": best at the last eval, +0.068 over its last 10 evals — still rising
    "paddleseg/espnet_cityscapes_120k_trainer-0.log": ("ok", {"still_improving"}),
    "mmseg0x/deeplab_voc12_15k.log.json": ("ok", set()),
    "mmseg0x/pspnet_voc12_20k_windows_crlf_gbk.log": ("ok", set()),
    # starts by predicting background only (recovered), then plateaus at ~0.89–0.90
    "mmseg0x/pspnet_glomeruli_2k_windows_crlf_gbk.log": (
        "converged",
        {"converged", "majority_class"},
    ),
    # unstable then plateau at 57–58 while the train loss keeps falling
    "mmseg1x/pspnet_watermelon_400it_scalars.json": ("converged", {"converged"}),
    # clear plateau after ~20k iterations
    "mmseg1x/deeplabv3_wta_40k_scalars.json": ("converged", {"converged"}),
}


def check(capsys, path) -> dict:
    main(["check", str(path), "--json"])
    out = capsys.readouterr().out
    (run,) = json.loads(out)["runs"]
    return run


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_headline_figures(public_logs, capsys, name) -> None:
    best, best_step, last_step, evals = EXPECTED[name]
    run = check(capsys, public_logs / name)
    assert run["best_miou"] == pytest.approx(best, abs=1e-4)
    assert (run["best_step"], run["last_step"], run["evals"]) == (best_step, last_step, evals)


@pytest.mark.parametrize("name", sorted(VERDICTS))
def test_verdicts_match_sources(public_logs, capsys, name) -> None:
    status, codes = VERDICTS[name]
    run = check(capsys, just_written(public_logs / name))
    assert run["status"] == status, [f["message"] for f in run["findings"]]
    assert codes <= {f["code"] for f in run["findings"]}


def test_resumed_paddleseg_workerlog(public_logs, capsys) -> None:
    run = check(capsys, public_logs / "paddleseg/encnet_appended_runs_resumed_workerlog.0.log")
    assert run["last_step"] == 13730
    assert run["best_miou"] == pytest.approx(0.3344) and run["best_step"] == 13500
    assert [r["step"] for r in run["restarts"]][:2] == [10, 10]


def test_detectron2_appended_runs_keep_the_last_launch(public_logs, capsys) -> None:
    run = check(capsys, public_logs / "detectron2/mask2former_instance_3runs_appended_metrics.json")
    assert run["last_step"] == 4000 and run["best_miou"] is None
    assert run["status"] == "no_eval"
    assert len(run["restarts"]) == 2
