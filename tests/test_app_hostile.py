"""Issue 14 in the dashboard: a run with a hostile config costs its own facts, never the page
(Runs, Run facts, Compare), and a 29-digit integer in a config never reaches plotly."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.test_hostile_configs import DICT_DOUBLING, NAME_NESTING

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
RUN = Path(__file__).resolve().parents[1] / "sample_logs/mmseg1x/deeplabv3_r50_cityscapes_stalled"
CONFIGS = {
    "good": None,
    "doubling": DICT_DOUBLING,
    "nesting": NAME_NESTING,
    "bigint": "train_cfg = dict(max_iters=12345678901234567890123456789)\n",
}


@pytest.fixture()
def logdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name, text in CONFIGS.items():
        shutil.copytree(RUN, tmp_path / name)
        if text is not None:
            (tmp_path / name / "20240208_130544" / "vis_data" / "config.py").write_text(text)
    monkeypatch.setenv("SEGWATCH_LOGDIR", str(tmp_path))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield tmp_path
    st.cache_data.clear()
    st.cache_resource.clear()


def _run_page(name: str, tab: str = "Findings") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.query_params["run"] = name
    at.query_params["tab"] = tab
    return at.switch_page("views/run.py").run()


def test_runs_page_lists_every_run(logdir: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert set(at.dataframe[0].value["run"]) == set(CONFIGS)


@pytest.mark.parametrize(
    ("name", "why"), [("doubling", "config too large"), ("nesting", "config too deep")]
)
def test_run_page_says_why_facts_are_missing(logdir: Path, name: str, why: str) -> None:
    at = _run_page(name, "Run facts")
    assert not at.exception
    assert any(why in w.value for w in at.warning)


def test_integer_beyond_int64_does_not_break_the_run_page(logdir: Path) -> None:
    for tab in ("Findings", "All metrics", "Run facts"):
        at = _run_page("bigint", tab)
        assert not at.exception and not at.error


def test_compare_shows_why_a_config_was_not_compared(logdir: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.query_params["runs"] = ["good", "doubling"]
    at.switch_page("views/compare.py").run()
    assert not at.exception
    assert any("config too large" in w.value for w in at.warning)


def test_a_run_that_fails_to_summarise_costs_only_its_row(
    logdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard import cache

    real, real_summary = cache.row, cache.summary_row

    def flaky(state):  # type: ignore[no-untyped-def]
        if state.name == "doubling":
            raise RecursionError("maximum recursion depth exceeded")
        return real(state)

    def flaky_summary(report):  # type: ignore[no-untyped-def]
        if report.entry["run"] == "doubling":
            raise RecursionError("maximum recursion depth exceeded")
        return real_summary(report)

    monkeypatch.setattr(cache, "row", flaky)  # a live run's row, from its table
    monkeypatch.setattr(cache, "summary_row", flaky_summary)  # a settled run's, from its summary
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert set(at.dataframe[0].value["run"]) == set(CONFIGS) - {"doubling"}
    assert any("doubling" in e.value and "RecursionError" in e.value for e in at.error)


def test_a_run_that_fails_to_compare_costs_only_its_curves(
    logdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard.figures import compare

    real = compare.compare_series

    def flaky(name, *args):  # type: ignore[no-untyped-def]
        if name == "doubling":
            raise MemoryError("simulated")
        return real(name, *args)

    monkeypatch.setattr(compare, "compare_series", flaky)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.query_params["runs"] = ["good", "doubling", "bigint"]
    at.switch_page("views/compare.py").run()
    assert not at.exception
    assert any("doubling" in e.value and "MemoryError" in e.value for e in at.error)
    table = next(d.value for d in at.dataframe if "run" in d.value.columns)
    assert table["run"].tolist() == ["good", "bigint"]


def test_run_page_shows_a_message_not_a_traceback(
    logdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard import cache

    def broken(state, weight):  # type: ignore[no-untyped-def]
        raise RecursionError("simulated")

    monkeypatch.setattr(cache, "run_plot", broken)
    at = _run_page("good")
    assert not at.exception
    assert any("good" in e.value and "RecursionError" in e.value for e in at.error)
