"""Issue 14: configs built to exhaust memory, stack or time degrade to "facts unavailable" for
their run only; every other run, and every command, still works."""

from __future__ import annotations

import json
import shutil
import time
import warnings
from pathlib import Path

import pytest

from dashboard.cli import main
from metrics.errors import ConfigBudgetError
from metrics.facts.budget import Budget
from metrics.facts.literal_config import parse_config
from metrics.facts.model import as_int, load_yaml
from metrics.runs import discover_runs, facts_for_run, load_run
from metrics.runs.diff import flatten

SAMPLES = Path(__file__).resolve().parents[1] / "sample_logs"
LIGHTNING = SAMPLES / "lightning" / "unet_r34_camvid_slow"
MMSEG1 = SAMPLES / "mmseg1x" / "deeplabv3_r50_cityscapes_stalled"

DICT_DOUBLING = "d0 = dict(x=1)\n" + "".join(
    f"d{i} = dict(a=d{i - 1}, b=d{i - 1})\n" for i in range(1, 41)
)
LIST_DOUBLING = "a0 = [1]\n" + "".join(f"a{i} = a{i - 1} + a{i - 1}\n" for i in range(1, 41))
NAME_NESTING = "n0 = dict(x=1)\n" + "".join(f"n{i} = dict(x=n{i - 1})\n" for i in range(1, 5001))


def laughs(levels: int = 9) -> str:
    """A YAML "billion laughs": each level repeats the one before 9 times through aliases."""
    out = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        refs = ",".join([f"*l{i - 1}"] * 9)
        out.append(f"l{i}: &l{i} [{refs}]")
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("text", [DICT_DOUBLING, LIST_DOUBLING], ids=["dict", "list"])
def test_doubling_configs_are_refused_fast(text: str) -> None:
    t0 = time.perf_counter()
    with pytest.raises(ConfigBudgetError, match=r"cfg\.py: config too large"):
        parse_config(text, "cfg.py")
    # a guard against expansion (exponential: minutes or a MemoryError), not a speed target
    assert time.perf_counter() - t0 < 30.0


def test_nesting_through_names_is_refused_as_too_deep() -> None:
    with pytest.raises(ConfigBudgetError, match=r"cfg\.py: config too deep"):
        parse_config(NAME_NESTING, "cfg.py")


def test_yaml_aliases_count_as_their_copies() -> None:
    with pytest.raises(ConfigBudgetError, match=r"hparams\.yaml: config too large"):
        load_yaml(laughs(), "hparams.yaml")
    assert load_yaml(laughs(3), "hparams.yaml") is not None  # 729 values: fine


def test_deep_yaml_is_refused_not_a_recursion_error() -> None:
    text = "x: " + "[" * 1100 + "]" * 1100 + "\n"
    with pytest.raises(ConfigBudgetError, match=r"hparams\.yaml: config too deeply nested"):
        load_yaml(text, "hparams.yaml")
    with pytest.raises(ConfigBudgetError, match="too deep"):
        load_yaml("x: " + "[" * 100 + "]" * 100 + "\n", "hparams.yaml")


def test_budget_counts_shared_subtrees_and_time() -> None:
    leaf = {"a": 1, "b": 2}
    tree = {"x": [leaf] * 10}
    b = Budget("cfg", nodes=40)
    b.spend(tree)  # 1 + 10 + 10*2 = 31 values
    assert b.nodes == 9
    with pytest.raises(ConfigBudgetError, match="too large"):
        b.spend(tree)
    slow = Budget("cfg", seconds=0.0)
    time.sleep(0.001)
    with pytest.raises(ConfigBudgetError, match="too slow"):
        slow.tick()


def test_integer_beyond_int64_is_kept_as_text_and_never_a_fact() -> None:
    cfg = parse_config("train_cfg = dict(max_iters=12345678901234567890123456789)\n")
    assert cfg["train_cfg"]["max_iters"] == "12345678901234567890123456789"
    assert as_int(2**70) is None and as_int(10**400) is None and as_int(2**62) == 2**62


def test_budgeted_configs_stay_cheap_to_walk() -> None:
    cfg = parse_config("a = dict(x=1, y=[1, 2])\nb = dict(p=a, q=a)\n", "cfg.py")
    assert flatten(cfg) == {
        "a.x": 1, "a.y": [1, 2], "b.p.x": 1, "b.p.y": [1, 2], "b.q.x": 1, "b.q.y": [1, 2],
    }  # fmt: skip


def _two_runs(tmp_path: Path, hparams: str) -> Path:
    """LOGDIR with a good Lightning run and one whose hparams.yaml is hostile."""
    shutil.copytree(LIGHTNING, tmp_path / "good")
    shutil.copytree(LIGHTNING, tmp_path / "bad")
    (tmp_path / "bad" / "version_0" / "hparams.yaml").write_text(hparams)
    return tmp_path


@pytest.mark.parametrize(
    "hparams",
    [laughs(), "x: " + "[" * 1100 + "]" * 1100 + "\n"],
    ids=["billion-laughs", "deep"],
)
def test_check_contains_a_hostile_config_to_its_run(
    tmp_path: Path, hparams: str, capsys: pytest.CaptureFixture[str]
) -> None:
    logdir = _two_runs(tmp_path, hparams)
    main(["check", "--json", "--fail-on", "never", str(logdir)])
    runs = {r["run"].split("/")[0]: r for r in json.loads(capsys.readouterr().out)["runs"]}
    assert "error" not in runs["bad"] and "error" not in runs["good"]
    assert "hparams.yaml: config too" in runs["bad"]["facts"]["unavailable"]
    assert "unavailable" not in runs["good"]["facts"]
    assert runs["good"]["facts"]["source"].endswith("hparams.yaml")


def test_diff_and_facts_survive_a_doubling_mmseg_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(MMSEG1, tmp_path / "a")
    shutil.copytree(MMSEG1, tmp_path / "b")
    for run in ("a", "b"):
        (tmp_path / run / "20240208_130544" / "vis_data" / "config.py").write_text(
            "crop_size = (512, 512)\n" if run == "a" else DICT_DOUBLING
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (source,) = discover_runs(str(tmp_path / "b"))
        facts = facts_for_run(load_run(source))
    assert facts.unavailable is not None and "config.py: config too large" in facts.unavailable
    assert main(["diff", "--json", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["config_compared"] is False
    assert "config too large" in out["config_unavailable"][0]
    assert main(["diff", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    assert "config too large" in capsys.readouterr().out


def test_check_json_of_name_nesting_is_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(MMSEG1, tmp_path / "a")
    (tmp_path / "a" / "20240208_130544" / "vis_data" / "config.py").write_text(NAME_NESTING)
    main(["check", "--json", "--fail-on", "never", str(tmp_path)])
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    assert "too deep" in run["facts"]["unavailable"]


def test_long_yaml_is_refused_before_it_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refused while its parser events are counted: no object is ever built (building 2 MB in
    PyYAML takes ~10 s; the refusal is checked by behaviour here, its time by no clock)."""
    import yaml

    def built(*args: object, **kwargs: object) -> None:
        raise AssertionError("the document was built before the budget refused it")

    monkeypatch.setattr(yaml, "load", built)
    text = "".join(f"k{i}: 1\n" for i in range(210_000))
    with pytest.raises(ConfigBudgetError, match="config too large"):
        load_yaml(text, "hparams.yaml")
