"""The dashboard's pages wired end to end with ``st.testing.v1.AppTest`` (no browser)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.cli.demo import (
    curve_lines,
    write_diverging,
    write_finished,
    write_run,
    write_stalled,
)
from dashboard.views.common import md
from metrics.errors import LogReadError

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
XSS = "<img src=x onerror=alert(1)>"
MD_LINK = "[x](javascript:alert(1))"


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture()
def logdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_stalled(tmp_path, "stalled")
    write_diverging(tmp_path, "diverging")
    write_run(tmp_path / "healthy", 20000, curve_lines(20000, 50, 1000)[:120])
    write_stalled(tmp_path, XSS)
    write_stalled(tmp_path, MD_LINK)
    monkeypatch.setenv("SEGWATCH_LOGDIR", str(tmp_path))
    return tmp_path


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60)


def _texts(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown] + [c.value for c in at.caption]


def _plot_names(at: AppTest, key: str) -> list[str]:
    (chart,) = [c for c in at.get("plotly_chart") if c.proto.id and key in c.proto.id]
    spec = json.loads(chart.proto.spec)
    return [t.get("name", "") for t in spec["data"]]


def test_overview_lists_runs_attention_first(logdir: Path) -> None:
    at = _app().run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert frame["run"].tolist()[0] == "diverging"
    assert set(frame["run"]) == {"stalled", "diverging", "healthy", XSS, MD_LINK}
    status = dict(zip(frame["run"], frame["status"], strict=True))
    assert status["stalled"] == "🟡 stalled" and status["healthy"] == "🟢 ok"
    stalled_row = frame[frame["run"] == "stalled"].iloc[0]
    assert stalled_row["step"] == "8,000 / 16,000"
    assert stalled_row["top finding"].startswith("miou_plateau")
    assert frame["link"].tolist()[0] == "run?run=diverging"  # the name is a link to its run
    links = [b.label for b in at.button]
    assert f"{md('🟡 stalled')} · {md('stalled')}" in links  # one compact line per run
    assert any(e.label.startswith("Suggested checks (") for e in at.expander)
    texts = _texts(at)
    assert any(t.startswith("- **") for t in texts)
    assert sum(t.startswith("- **augmentation") for t in texts) <= 1  # advice once, not per run


def test_run_names_are_shown_literally(logdir: Path) -> None:
    at = _app().run()
    texts = _texts(at) + [b.label for b in at.button]
    assert f"{md('🟡 stalled')} · {md(XSS)}" in texts
    assert f"{md('🟡 stalled')} · {md(MD_LINK)}" in texts
    raw = [t for t in texts if re.search(r"(?<!\\)<img|(?<!\\)\]\(javascript", t)]
    assert not raw  # never raw in Markdown
    assert md(MD_LINK) == r"\[x\]\(javascript\:alert\(1\)\)"


def test_overview_filters_by_name_and_status(logdir: Path) -> None:
    at = _app()
    at.query_params["q"] = "stall"
    at.run()
    assert at.dataframe[0].value["run"].tolist() == ["stalled"]
    at = _app()
    at.query_params["status"] = ["ok"]
    at.run()
    assert at.dataframe[0].value["run"].tolist() == ["healthy"]


def test_error_card_names_the_file_and_the_rest_works(
    logdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = logdir / "hf-broken"
    broken.mkdir()
    (broken / "trainer_state.json").write_text('{"global_step": 10, "log_history": [{"lo')
    denied = write_finished(logdir, "denied")
    from metrics.runs.tail import LogTailer

    real_poll = LogTailer.poll

    def poll(self: LogTailer, final: bool = False):  # type: ignore[no-untyped-def]
        if self.path == str(denied):
            raise LogReadError(f"{self.path}: cannot read (Permission denied)")
        return real_poll(self, final)

    monkeypatch.setattr(LogTailer, "poll", poll)
    at = _app().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any(md(str(denied)) in e and "Permission denied" in e for e in errors)
    trainer = md(f"{broken / 'trainer_state.json'}, line 1: not a complete JSON document")
    assert any(trainer in e for e in errors)
    assert "stalled" in set(at.dataframe[0].value["run"])  # the others still shown


def test_run_page_from_query_params(logdir: Path) -> None:
    at = _app()
    at.run()
    at.query_params["run"] = "stalled"
    at.query_params["smoothing"] = "0.9"
    at.switch_page("views/run.py").run()
    assert not at.exception
    assert at.selectbox(key="run").value == "stalled"
    assert at.slider(key="smoothing").value == 0.9
    names = _plot_names(at, "run_plot")
    assert {"train loss (raw)", "train loss (smoothed)", "val mIoU", "lr"} <= set(names)
    assert "best checkpoint: 0.5388 @ 5000" in names
    texts = _texts(at)
    # worded from the run's facts: still being written, how far, of what plan
    assert any(
        t.startswith("**🟡 stalled** · ● still writing · step 8\\,000 of 16\\,000") for t in texts
    )
    assert any("miou\\_plateau" in t for t in texts)
    assert any(t.startswith("loss: 160 of 160 points shown") for t in texts)


def _run_tab(tab: str, run: str = "diverging") -> AppTest:
    at = _app()
    at.query_params["run"] = run
    at.query_params["tab"] = tab
    at.switch_page("views/run.py").run()
    assert not at.exception
    return at


def test_run_page_findings_trajectory_heatmap_export(logdir: Path) -> None:
    at = _run_tab("Findings")
    names = _plot_names(at, "run_plot")
    assert "train loss: 65 non-finite" in names
    assert len(at.get("plotly_chart")) == 1  # only the open tab is built
    assert [b.proto.label for b in at.get("download_button")] == ["CSV"]  # the main chart's
    texts = _texts(at)
    assert any("loss\\_nonfinite" in t and "critical" in t for t in texts)
    assert any(t.startswith("- **Check learning\\_rate:**") for t in texts)
    (line,) = [c.value for c in at.caption if "finding(s):" in c.value]  # above the chart
    assert "🔴 loss\\_nonfinite · " in line
    icons = [ch for ch in line if ch in "🔴🟠🔵"]
    assert len(icons) >= 3 and icons == sorted(icons, key="🔴🟠🔵".index)  # worst first
    tables = [t for t in texts if t.startswith("| evidence | value |\n| --- | --- |\n| ")]
    assert tables and all("\n\n" not in t for t in tables)  # one Markdown table per finding
    at = _run_tab("Loss vs mIoU")
    assert _plot_names(at, "trajectory_plot") == ["eval"]
    at = _run_tab("All metrics")
    charts = at.get("plotly_chart")
    keys = {json.loads(c.proto.spec)["layout"].get("title", {}).get("text") for c in charts}
    assert {"train/loss", "train/lr", "val/miou"} <= keys  # the All metrics tab: every scalar
    labels = [b.proto.label for b in at.get("download_button")]
    scalars = [k for k in keys if k and k.startswith(("train/", "val/")) and "&lt;" not in k]
    assert labels.count("CSV") == len(scalars) + 1  # a data download per chart, the main one too
    at = _run_tab("Export")
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels[1:] == [
        "Report (HTML, small: loads plotly.js from its CDN)",
        "Report (standalone HTML, works offline, ~5 MB)",
        "Tidy table (CSV)",
    ]


def test_unknown_run_in_url_falls_back_to_first(logdir: Path) -> None:
    at = _app()
    at.run()
    at.query_params["run"] = "no-such-run"
    at.switch_page("views/run.py").run()
    assert not at.exception
    assert at.selectbox(key="run").value == at.selectbox(key="run").options[0]


def test_compare_page(logdir: Path) -> None:
    at = _app()
    at.run()
    at.query_params["runs"] = ["stalled", "diverging"]
    at.query_params["align"] = "fraction"
    at.switch_page("views/compare.py").run()
    assert not at.exception
    assert at.multiselect(key="runs").value == ["stalled", "diverging"]
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["xaxis2"]["title"]["text"] == "fraction of planned iterations"
    table = at.dataframe[0].value
    assert table["run"].tolist() == ["stalled", "diverging"]
    assert table["best mIoU"].tolist() == [0.5388, 0.4656]
    assert "None" not in table.astype(str).to_numpy()
    assert [b.proto.label for b in at.get("download_button")] == ["CSV"]  # the chart's data
    colors = {t["name"]: t["line"]["color"] for t in spec["data"]}
    at.multiselect(key="runs").set_value(["diverging", "healthy"]).run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["data"][0]["name"] == "diverging"
    assert spec["data"][0]["line"]["color"] == colors["diverging"]  # a run keeps its colour


def test_compare_by_regex_log_loss_and_time(logdir: Path) -> None:
    at = _app()
    at.switch_page("views/compare.py")
    at.query_params["q"] = "^(stall|diverg)"
    at.query_params["loss_axis"] = "log"
    at.query_params["align"] = "time"
    at.run()
    assert not at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {t["name"] for t in spec["data"]} == {"stalled", "diverging"}
    assert spec["layout"]["yaxis2"]["type"] == "log"
    assert spec["layout"]["xaxis2"]["title"]["text"] == "hours since the run's first record"


def test_missing_and_empty_logdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGWATCH_LOGDIR", str(tmp_path / "nope"))
    at = _app().run()
    assert not at.exception and "no such file or folder" in at.error[0].value
    monkeypatch.setenv("SEGWATCH_LOGDIR", str(tmp_path))
    st.cache_data.clear()
    at = _app().run()
    assert not at.exception and at.warning[0].value.startswith("No training logs found")


def test_run_page_shows_the_logged_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGWATCH_LOGDIR", str(Path(APP).parent.parent / "sample_logs" / "mmseg0x"))
    at = _app()
    at.query_params["run"] = "pspnet_r50_uavid_overfit"
    at.query_params["tab"] = "Run facts"
    at.switch_page("views/run.py").run()
    assert not at.exception
    facts = next(d.value for d in at.dataframe if "fact" in d.value.columns)
    values = dict(zip(facts["fact"], facts["value"], strict=True))
    assert values["planned_steps"] == "16000"
    assert "class_names" in values and "crop_size" in values


@pytest.mark.parametrize("asked", ["../../etc", "/etc/passwd", "stalled/../../outside"])
def test_a_run_outside_the_log_folder_is_refused(logdir: Path, asked: str) -> None:
    at = _app()
    at.query_params["run"] = asked
    at.switch_page("views/run.py").run()
    assert not at.exception
    assert any("only runs found inside it can be opened" in w.value for w in at.warning)
    assert at.selectbox(key="run").value != asked


def test_the_dashboard_judges_with_the_settings_file_as_check_does(
    logdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """LOGDIR/segwatch.toml's [diagnosis] reaches the dashboard too: CLI and pages agree."""
    from dashboard.cli import main

    (logdir / "segwatch.toml").write_text("[diagnosis]\nmin_evals = 50\n")  # no verdict yet
    main(["check", str(logdir), "--json"])
    by_check = {r["run"]: r["status"] for r in json.loads(capsys.readouterr().out)["runs"]}
    frame = _app().run().dataframe[0].value
    by_page = {r: s for r, s in zip(frame["run"], frame["status"], strict=True)}
    assert by_check["stalled"] == "ok" and by_page["stalled"] == "🟢 ok"
