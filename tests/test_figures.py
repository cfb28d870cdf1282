"""Figure builders and the pure dashboard helpers, checked on ``fig.to_dict()`` and exact values."""

from __future__ import annotations

import base64
import io
import math
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.cli.demo import (
    curve_lines,
    meta_line,
    write_diverging,
    write_finished,
    write_run,
    write_stalled,
)
from dashboard.figures.compare import compare_figure, compare_series, compare_table
from dashboard.figures.downsample import thin
from dashboard.figures.export import compare_csv, report_html, run_chart_csv, table_csv
from dashboard.figures.overview import (
    RowInput,
    age_text,
    filter_frame,
    overview_frame,
    overview_row,
    with_age,
)
from dashboard.figures.prepare import (
    bad_points,
    best_point,
    class_iou,
    curve,
    metric_series,
    prepare_run,
    robust_bounds,
    run_forecast,
    trajectory,
)
from dashboard.figures.run import (
    LABEL_CHARS,
    LABEL_PX,
    class_heatmap_figure,
    run_figure,
    trajectory_figure,
)
from metrics.diagnosis import Finding, RunDiagnosis, diagnose
from metrics.readers.registry import read_log
from metrics.runs import discover_runs, load_run
from metrics.runs.live import LiveRun
from metrics.stats.smoothing import ema

XSS = "<img src=x onerror=alert(1)>"


def arr(v: object) -> np.ndarray:
    """A trace array from ``fig.to_dict()`` (plotly sends numpy arrays as base64 ``bdata``)."""
    if isinstance(v, dict) and "bdata" in v:
        out = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        if "shape" in v:
            out = out.reshape([int(n) for n in str(v["shape"]).split(",")])
        return out
    return np.asarray(v)


@pytest.fixture()
def runs_dir(tmp_path: Path) -> Path:
    write_stalled(tmp_path, "stalled")
    write_diverging(tmp_path, "diverging")
    return tmp_path


def _run(folder: Path, name: str):  # type: ignore[no-untyped-def]
    (source,) = [s for s in discover_runs(str(folder)) if s.name == name]
    return load_run(source)


# --- downsampling ----------------------------------------------------------------------------


def test_thin_keeps_spike_and_counts_every_point() -> None:
    x = np.arange(100_000)
    y = np.sin(x / 500.0)
    y[54_321] = 40.0  # a single spike
    y[10] = np.nan
    t = thin(x, y, 2000)
    assert t.total == 100_000 and 1900 <= t.shown <= 2000
    assert 54_321 in t.x and t.y.max() == 40.0
    assert t.x[0] == 0 and t.x[-1] == 99_999
    assert np.all(np.isfinite(t.y)) and np.all(np.diff(t.x) > 0)


def test_thin_short_series_drops_only_non_finite() -> None:
    t = thin([1, 2, 3, 4], [0.5, np.inf, np.nan, 0.2])
    assert t.x.tolist() == [1, 4] and t.y.tolist() == [0.5, 0.2] and t.total == 4


# --- preparing series ------------------------------------------------------------------------


def test_curve_smooths_at_full_resolution_then_thins() -> None:
    rng = np.random.default_rng(0)
    steps = np.arange(1, 50_001, dtype=np.float64)
    values = 2.0 * np.exp(-steps / 1e4) + rng.normal(0, 0.1, len(steps))
    c = curve(steps, values, 0.6)
    assert c is not None and c.smooth is not None
    full = ema(values, 0.6)
    idx = c.smooth.x.astype(int) - 1
    np.testing.assert_array_equal(c.smooth.y, full[idx])  # points of the full-resolution EMA
    assert c.raw.shown <= 2000 and c.raw.total == 50_000


def test_curve_without_weight_is_never_smoothed() -> None:
    c = curve(np.array([100.0, 200.0]), np.array([0.3, 0.4]), None)
    assert c is not None and c.smooth is None
    assert c.raw.y.tolist() == [0.3, 0.4]


def test_bad_points_and_robust_bounds() -> None:
    steps = np.array([1.0, 2, 3, 4, 5])
    values = np.array([1.0, np.nan, np.inf, -np.inf, 2.0])
    bad = bad_points(steps, values)
    assert bad.steps.tolist() == [2, 3, 4] and bad.kinds == ("NaN", "+inf", "-inf")
    v = np.r_[np.linspace(1.0, 2.0, 100), 1e6]  # one outlier
    lo, hi = robust_bounds(v)  # type: ignore[misc]
    a, b = np.percentile(v, [5, 95])
    assert (lo, hi) == (a - 0.1 * (b - a), b + 0.1 * (b - a))
    assert hi < 2.2  # the 1e6 outlier does not stretch the axis
    assert robust_bounds(np.array([np.nan])) is None


def test_best_point_is_first_step_at_max() -> None:
    assert best_point(np.array([1.0, 2, 3]), np.array([0.5, 0.7, 0.7])) == (2, 0.7)
    assert best_point(np.array([1.0]), np.array([np.nan])) is None


def test_prepare_run_on_a_diverging_run(runs_dir: Path) -> None:
    run = _run(runs_dir, "diverging")
    diag = diagnose(run)
    plot = prepare_run(run.name, run.table, diag, None, 6000, 0.6)
    assert plot.status == "diverging"
    assert plot.best == (1500, 0.4656)
    assert plot.loss is not None and len(plot.loss.bad) == 65 and plot.loss.raw.total == 120
    assert plot.miou is not None and plot.miou.smooth is None and plot.miou.raw.total == 12


def test_trajectory_means_loss_over_each_interval(runs_dir: Path) -> None:
    run = _run(runs_dir, "stalled")
    frame = trajectory(run.table)
    assert len(frame) == 16 and frame["step"].iloc[0] == 500
    t = run.table
    first = t[(t.metric == "loss") & (t.split == "train") & (t.step <= 500)]["value"].mean()
    assert frame["train_mean"].iloc[0] == pytest.approx(first)
    assert frame["train_n"].iloc[0] == 10


def test_class_iou_follows_class_names(runs_dir: Path) -> None:
    run = _run(runs_dir, "stalled")
    wide = class_iou(run.table, run.meta)
    assert list(wide.index) == list(run.meta.class_names or [])
    assert wide.shape == (7, 16) and list(wide.columns)[:2] == [500, 1000]


def test_run_forecast_needs_a_plan_and_fractions() -> None:
    s = np.arange(1, 11) * 1000.0
    v = 0.7 - 0.5 * (s / 1000) ** -0.5
    fc = run_forecast(s, v, 20_000, n_boot=20)
    assert fc is not None and fc.ok and fc.last_step == 20_000 and v[-1] < fc.value < 0.7
    assert run_forecast(s, v, None) is None
    assert run_forecast(s, v, 10_000) is None  # already at the end
    assert run_forecast(s, v * 100, 20_000) is None  # percent: no bounded forecast


# --- figures ---------------------------------------------------------------------------------


def _plot(runs_dir: Path, name: str, findings=None, weight: float = 0.6):  # type: ignore[no-untyped-def]
    run = _run(runs_dir, name)
    diag = diagnose(run) if findings is None else RunDiagnosis("stalled", findings)
    m = run.table[run.table.metric == "miou"]
    fc = None
    if name == "stalled":
        fc = run_forecast(m.step.to_numpy(float), m.value.to_numpy(), 16_000, n_boot=20)
    return run, prepare_run(run.name, run.table, diag, fc, 16_000, weight)


def test_run_figure_traces_axes_and_markers(runs_dir: Path) -> None:
    _, plot = _plot(runs_dir, "diverging")
    d = run_figure(plot).to_dict()
    by_name = {t["name"]: t for t in d["data"]}
    assert by_name["train loss (raw)"]["yaxis"] == "y"
    assert (
        by_name["train loss (smoothed)"]["line"]["width"]
        > by_name["train loss (raw)"]["line"]["width"]
    )
    assert by_name["train loss (raw)"]["opacity"] == 0.25
    assert by_name["val mIoU"]["yaxis"] == "y2"
    assert by_name["lr"]["yaxis"] == "y3" and by_name["lr"]["xaxis"] == "x2"
    assert d["layout"]["xaxis"]["matches"] == "x2" or d["layout"]["xaxis2"].get("matches") == "x"
    nan = by_name["train loss: 65 non-finite"]
    assert nan["yaxis"] == "y4" and nan["marker"]["symbol"] == "x"
    assert set(arr(nan["y"]).tolist()) == {0.97} and len(arr(nan["x"])) == 65
    assert d["layout"]["yaxis4"]["range"] == [0, 1] and d["layout"]["yaxis4"]["overlaying"] == "y"
    assert "best checkpoint: 0.4656 @ 1500" in by_name
    assert d["layout"]["uirevision"] == "diverging"


def test_run_figure_shades_finding_ranges(runs_dir: Path) -> None:
    f = Finding("miou_plateau", "warning", "flat", {}, ("iterations",), (6000, 8000))
    _, plot = _plot(runs_dir, "stalled", findings=(f,))
    d = run_figure(plot).to_dict()
    rects = [s for s in d["layout"]["shapes"] if s["type"] == "rect"]
    assert [(r["x0"], r["x1"]) for r in rects] == [(6000, 8000)] * 2  # one per subplot row
    assert rects[0]["yref"] == "paper" or rects[0]["yref"].endswith("domain")
    assert any(a["text"] == "miou_plateau" for a in d["layout"]["annotations"])


def test_run_figure_loss_axis_shows_every_point_by_default(runs_dir: Path) -> None:
    _, plot = _plot(runs_dir, "diverging")
    assert plot.loss is not None and plot.loss.bounds is not None
    assert "range" not in run_figure(plot).to_dict()["layout"]["yaxis"]  # start of training kept
    d = run_figure(plot, loss_axis="robust").to_dict()
    assert d["layout"]["yaxis"]["range"] == list(plot.loss.bounds)
    log = run_figure(plot, loss_axis="log").to_dict()["layout"]["yaxis"]
    # full labels on every log tick (0.2, 0.5, 1, 2 …), never bare minor digits "9 8 … 3 2"
    assert log["type"] == "log" and log["dtick"] == "D2" and log["tickformat"] == ".3~g"


def test_run_figure_title_never_shares_the_legend_space(runs_dir: Path) -> None:
    _, plot = _plot(runs_dir, "stalled")
    page = run_figure(plot).to_dict()["layout"]
    assert "title" not in page or not page["title"].get("text")  # the page header names the run
    report = run_figure(plot, title=True).to_dict()["layout"]
    assert report["title"]["text"] == "stalled"
    legend = report["legend"]
    assert legend["yanchor"] == "top" and legend["y"] < 0  # beneath the plot, title above it


def test_run_figure_miou_axis_fits_the_data_or_spans_0_to_1(runs_dir: Path) -> None:
    _, plot = _plot(runs_dir, "stalled")
    assert plot.miou is not None
    lo, hi = run_figure(plot).to_dict()["layout"]["yaxis2"]["range"]
    ys = plot.miou.raw.y
    assert lo > 0.0 and lo < ys.min() and hi > ys.max() and hi - lo < 1.5 * (ys.max() - ys.min())
    assert run_figure(plot, miou_full=True).to_dict()["layout"]["yaxis2"]["range"] == [0, 1]


def test_run_figure_constant_lr_sits_mid_axis_and_can_be_log(tmp_path: Path) -> None:
    steps = np.arange(1, 101, dtype=np.int64)
    table = pd.concat(
        [
            pd.DataFrame({"run": "r", "step": steps, "split": "train", "metric": m,
                          "value": v, "wall_time": 1000.0 + steps * 2.0})
            for m, v in (("loss", 1.0 / steps), ("lr", np.full(100, 0.01)))
        ]
    )  # fmt: skip
    plot = prepare_run("r", table, RunDiagnosis("no_eval", ()), None, None, 0.6)
    lo, hi = run_figure(plot).to_dict()["layout"]["yaxis3"]["range"]
    assert 0 < lo < 0.01 < hi and (lo + hi) / 2 == pytest.approx(0.01)
    assert run_figure(plot, lr_log=True).to_dict()["layout"]["yaxis3"]["type"] == "log"
    hovers = {t["name"]: t.get("hovertemplate") for t in run_figure(plot).to_dict()["data"]}
    assert hovers["train loss (smoothed)"] == "%{y:.4f}"
    assert run_figure(plot).to_dict()["layout"]["hoverlabel"]["namelength"] == -1


def test_run_figure_x_axis_by_wall_or_relative_time(tmp_path: Path) -> None:
    steps = np.arange(0, 7200, 10, dtype=np.int64)
    table = pd.DataFrame({"run": "r", "step": steps, "split": "train", "metric": "loss",
                          "value": 1.0 + 0 * steps, "wall_time": 1.7e9 + steps * 1.0})  # fmt: skip
    plot = prepare_run("r", table, RunDiagnosis("no_eval", ()), None, None, 0.0)
    rel = run_figure(plot, x="relative").to_dict()
    x = arr(rel["data"][0]["x"])
    assert x[0] == 0 and x[-1] == pytest.approx(7190 / 3600)
    assert rel["layout"]["xaxis2"]["title"]["text"] == "hours since the first record"
    wall = run_figure(plot, x="wall").to_dict()
    assert str(wall["data"][0]["x"][0]).startswith("2023-11-14T22:13:20")
    no_clock = prepare_run(
        "r", table.assign(wall_time=np.nan), RunDiagnosis("no_eval", ()), None, None, 0.0
    )
    assert run_figure(no_clock, x="wall").to_dict()["layout"]["xaxis2"]["title"]["text"] == "step"


def test_finding_labels_never_share_a_row_when_they_would_overlap() -> None:
    from dashboard.figures.run import label_rows

    # three labels 10 chars wide at 1 unit/char: 0 and 5 overlap, 30 fits back on row 0
    assert label_rows([(0, 50), (5, 9), (30, 40)], 10, 1.0) == [0, 1, 0]
    assert label_rows([(0, 1), (2, 3), (4, 5)], 10, 1.0) == [0, 1, 2]


def test_run_figure_forecast_with_band(runs_dir: Path) -> None:
    _, plot = _plot(runs_dir, "stalled")
    assert plot.forecast is not None
    d = run_figure(plot).to_dict()
    end = [
        t
        for t in d["data"]
        if t["name"].endswith(f"band: {plot.forecast.low:.4f}–{plot.forecast.high:.4f}")
    ]
    assert len(end) == 1 and list(end[0]["x"]) == [16_000]
    assert end[0]["error_y"]["array"][0] == pytest.approx(plot.forecast.high - plot.forecast.value)


def test_log_strings_are_escaped_for_plotly(tmp_path: Path) -> None:
    write_stalled(tmp_path, XSS)
    run, plot = _plot(tmp_path, XSS)
    d = run_figure(plot, title=True).to_dict()
    assert d["layout"]["title"]["text"] == "&lt;img src=x onerror=alert(1)&gt;"
    wide = class_iou(run.table, run.meta).rename(index={"road": "<b>road</b>"})
    h = class_heatmap_figure(wide, XSS).to_dict()
    assert "&lt;b&gt;road&lt;/b&gt;" in list(h["data"][0]["y"])
    assert "<img" not in h["layout"]["title"]["text"]
    t = trajectory_figure(trajectory(run.table), "stalled", XSS).to_dict()
    assert "<img" not in t["layout"]["title"]["text"]


def test_trajectory_reading_comes_from_status(runs_dir: Path) -> None:
    run = _run(runs_dir, "stalled")
    d = trajectory_figure(trajectory(run.table), "overfitting").to_dict()
    assert "overfitting: loss keeps falling while mIoU drops" in d["layout"]["title"]["text"]
    tr = d["data"][0]
    assert arr(tr["marker"]["color"])[:2].tolist() == [500, 1000] and tr["marker"]["showscale"]


def test_heatmap_is_class_by_eval(runs_dir: Path) -> None:
    run = _run(runs_dir, "stalled")
    wide = class_iou(run.table, run.meta)
    d = class_heatmap_figure(wide).to_dict()
    z = arr(d["data"][0]["z"])
    assert z.shape == (7, 16)
    assert z[0, 0] == pytest.approx(float(wide.iloc[0, 0]))
    assert d["data"][0]["zmin"] == 0 and d["data"][0]["zmax"] == 1


def test_heatmap_labels_fit_its_left_margin() -> None:
    """Issue 16: long class names were clipped at the report's left edge."""
    long_a = "ade20k/" + "stuff " * 12 + "A" + " traffic sign (back side)"
    long_b = "ade20k/" + "stuff " * 12 + "B" + " traffic sign (back side)"
    names = ["road", long_a, long_b, "x" * LABEL_CHARS, "<b>wall</b>"]
    wide = pd.DataFrame(np.full((5, 3), 0.5), index=names, columns=[1000, 2000, 3000])
    d = class_heatmap_figure(wide).to_dict()
    ys = list(d["data"][0]["y"])
    assert ys[0] == "road" and ys[3] == "x" * LABEL_CHARS and ys[4] == "&lt;b&gt;wall&lt;/b&gt;"
    assert ys[1].startswith("ade20k/stuff") and ys[1].endswith("(back side)") and "…" in ys[1]
    assert len(set(ys)) == 5  # two names with the same ends stay two rows
    shown = max(len(y) for y in ys[:4])
    assert shown <= LABEL_CHARS
    assert d["layout"]["margin"]["l"] >= LABEL_PX * shown
    assert d["layout"]["yaxis"]["automargin"] is True
    hover = np.asarray(d["data"][0]["customdata"])
    assert hover.shape == (5, 3) and hover[1, 0] == long_a and hover[2, 2] == long_b


def test_figure_payload_per_trace_is_small() -> None:
    steps = np.arange(1, 1_000_001, dtype=np.float64)
    values = 1 + np.random.default_rng(1).normal(0, 0.1, len(steps))
    table = pd.DataFrame(
        {"run": "r", "step": steps.astype(np.int64), "split": "train", "metric": "loss",
         "value": values, "wall_time": np.nan}
    )  # fmt: skip
    plot = prepare_run("r", table, RunDiagnosis("no_eval", ()), None, None, 0.6)
    fig = run_figure(plot)
    per_trace = len(fig.to_json()) / len(fig.data)
    assert per_trace < 150_000


# --- compare ---------------------------------------------------------------------------------


def test_compare_aligns_by_fraction_of_plan(runs_dir: Path) -> None:
    a, b = _run(runs_dir, "stalled"), _run(runs_dir, "diverging")
    sa = compare_series(a.name, a.table, 8000, 0.6)
    sb = compare_series(b.name, b.table, None, 0.6)
    assert sb.scale == 6000 and not sb.planned
    d = compare_figure([sa, sb], "fraction").to_dict()
    x = arr(d["data"][0]["x"])
    assert x.max() == 1.0 and x[0] == 500 / 8000
    assert d["layout"]["xaxis2"]["title"]["text"] == "fraction of planned iterations"
    d = compare_figure([sa, sb], "step").to_dict()
    assert arr(d["data"][0]["x"]).max() == 8000
    table = compare_table([(a.name, a.table, 8000), (b.name, b.table, 6000)])
    assert table.loc[1, "best mIoU"] == 0.4656 and table.loc[1, "best @ step"] == 1500
    assert table.loc[0, "last step"] == 8000 and table.loc[0, "evals"] == 16


# --- export ----------------------------------------------------------------------------------


def test_report_is_standalone_and_escaped(tmp_path: Path) -> None:
    write_stalled(tmp_path, XSS)
    run, plot = _plot(tmp_path, XSS)
    f = Finding("x", "warning", "class <script>alert(1)</script> dead", {"k": 1.5}, ("labels",))
    page = report_html(run.name, [run_figure(plot)], RunDiagnosis("stalled", (f,)), {"p": XSS})
    assert "<script src=" not in page and "plotly.js v" in page.lower()
    assert len(page) > 1_000_000  # plotly.js inlined
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script>alert(1)</script>" not in page
    assert "Labels: check the class mapping" in page
    small = report_html(
        run.name, [run_figure(plot)], RunDiagnosis("stalled", (f,)), {}, offline=False
    )
    assert len(small) < 150_000 and 'src="https://cdn.plot.ly/' in small


def test_csv_keeps_nan(tmp_path: Path) -> None:
    write_diverging(tmp_path, "d")
    run = _run(tmp_path, "d")
    back = pd.read_csv(pd.io.common.BytesIO(table_csv(run.table)))
    assert list(back.columns) == ["run", "step", "split", "metric", "value", "wall_time"]
    loss = back[back["metric"] == "loss"]
    assert len(back) == len(run.table) and loss["value"].isna().sum() == 65


def test_run_chart_csv_is_every_curve_at_full_resolution(runs_dir: Path) -> None:
    """Issue 16: the Run page's main chart has its data download, as the small charts do."""
    run = _run(runs_dir, "diverging")
    back = pd.read_csv(io.BytesIO(run_chart_csv(run.name, run.table, 0.6)))
    assert list(back.columns) == ["run", "curve", "step", "value"]
    assert set(back["run"]) == {"diverging"}
    by = {c: g for c, g in back.groupby("curve")}
    assert set(by) == {"train loss", "train loss (smoothed 0.6)", "val mIoU", "lr"}
    t = run.table
    for name, split, metric in (("train loss", "train", "loss"), ("val mIoU", "val", "miou")):
        rows = t[(t["split"] == split) & (t["metric"] == metric)].sort_values("step", kind="stable")
        assert by[name]["step"].tolist() == rows["step"].tolist()  # no thinning
        np.testing.assert_array_equal(by[name]["value"].to_numpy(), rows["value"].to_numpy())
    raw = by["train loss"]["value"].to_numpy()
    assert np.isnan(raw).sum() == 65  # non-finite points kept, as the chart marks them
    smooth = by["train loss (smoothed 0.6)"]["value"].to_numpy()
    np.testing.assert_allclose(smooth, ema(raw, 0.6), equal_nan=True)
    unsmoothed = pd.read_csv(io.BytesIO(run_chart_csv(run.name, run.table, 0.0)))
    assert "train loss (smoothed 0)" not in set(unsmoothed["curve"])


def test_compare_csv_holds_each_run_on_every_x_axis(runs_dir: Path) -> None:
    stalled, diverging = _run(runs_dir, "stalled"), _run(runs_dir, "diverging")
    rows = [("stalled", stalled.table, 8000), ("diverging", diverging.table, None)]
    back = pd.read_csv(io.BytesIO(compare_csv(rows, 0.5)))
    assert list(back.columns) == [
        "run", "curve", "step", "fraction of plan", "hours since start", "value",
    ]  # fmt: skip
    assert set(back["curve"]) == {"val mIoU", "train loss (smoothed 0.5)"}
    s = back[(back["run"] == "stalled") & (back["curve"] == "val mIoU")]
    t = stalled.table
    assert len(s) == len(t[(t["split"] == "val") & (t["metric"] == "miou")])
    np.testing.assert_allclose(s["fraction of plan"], s["step"] / 8000)
    d = back[back["run"] == "diverging"]
    np.testing.assert_allclose(d["fraction of plan"], d["step"] / diverging.table["step"].max())
    loss = d[d["curve"] == "train loss (smoothed 0.5)"]["value"].to_numpy()
    raw = metric_series(diverging.table, "loss", "train")[1]
    np.testing.assert_allclose(loss, ema(raw, 0.5), equal_nan=True)


# --- overview rows ---------------------------------------------------------------------------


def test_overview_sorts_attention_first_and_filters(runs_dir: Path) -> None:
    write_run(runs_dir / "fresh", 20000, curve_lines(20000, 50, 1000)[:30])
    rows = []
    for name, age in (("fresh", 5.0), ("stalled", 50.0), ("diverging", 500.0)):
        run = _run(runs_dir, name)
        r = RowInput(run.name, run.table, 8000, diagnose(run, now=time.time()), None)
        rows.append(with_age(overview_row(r), age, age < 120))
    frame = overview_frame(rows)
    assert frame["run"].tolist() == ["diverging", "stalled", "fresh"]
    assert frame["status"].tolist() == ["🔴 diverging", "🟡 stalled", "🟢 ok"]
    assert frame.loc[2, "updated"] == "● live · 5 s ago"
    assert frame.loc[1, "step"] == "8,000 / 8,000" and frame.loc[1, "done"] == 1.0
    assert frame.loc[1, "top finding"].startswith("miou_plateau: ")
    assert filter_frame(frame, "STALL")["run"].tolist() == ["stalled"]
    assert filter_frame(frame, "", ["ok", "diverging"])["run"].tolist() == ["diverging", "fresh"]
    assert filter_frame(frame, "^(fre|div)")["run"].tolist() == ["diverging", "fresh"]  # regex
    assert filter_frame(frame, "stall(")["run"].tolist() == []  # bad regex: plain text
    assert frame["link"].tolist()[0] == "run?run=diverging"


def test_overview_order_does_not_follow_the_last_update() -> None:
    rows = [
        {"rank": 8, "run": name, "age_s": age, "status": "🟢 ok"}
        for name, age in (("b", 1.0), ("a", 9.0), ("c", 5.0))
    ]
    assert overview_frame(rows)["run"].tolist() == ["a", "b", "c"]
    rows[1]["age_s"] = 0.0  # "a" writes a line: nothing moves
    assert overview_frame(rows)["run"].tolist() == ["a", "b", "c"]
    assert overview_frame([{"rank": 0, "run": "x/é y"}])["link"][0] == "run?run=x/%C3%A9%20y"


def test_advice_listed_once() -> None:
    from dashboard.figures.overview import advice_once

    assert advice_once([("lr", "aug"), ("aug",), ("data", "lr")]) == ["lr", "aug", "data"]


def test_age_text() -> None:
    assert [age_text(x) for x in (3, 95, 7200, 200_000, None)] == [
        "3 s ago", "1 min ago", "2 h ago", "2 d ago", "never"
    ]  # fmt: skip


# --- live ------------------------------------------------------------------------------------


def test_live_run_reads_only_appended_lines(tmp_path: Path) -> None:
    path = tmp_path / "grow" / "20240611_120000.log.json"
    path.parent.mkdir()
    lines = curve_lines(20000, 50, 1000)
    path.write_text(meta_line(20000) + "\n" + "\n".join(lines[:40]) + "\n")
    (source,) = discover_runs(str(tmp_path))
    live = LiveRun(source)
    s1 = live.refresh()
    assert s1.run is not None and int(s1.run.table["step"].max()) == 1950
    assert live.refresh() is s1  # nothing new: only stats, same state
    with open(path, "a") as fh:
        fh.write("\n".join(lines[40:60]) + "\n" + lines[60])  # last line not yet terminated
    s2 = live.refresh()
    assert s2.key != s1.key and s2.run is not None
    assert int(s2.run.table["step"].max()) == 2900  # the unterminated line is held back
    full = read_log(str(path)).table  # a whole read parses it (it is complete JSON)
    assert int(full["step"].max()) == 2950
    old = time.time() - 3600
    os.utime(path, (old, old))
    s3 = live.refresh()  # quiet for long: the run stopped, its last line is read too
    assert s3.run is not None and len(s3.run.table) == len(full)


def test_live_run_reports_errors_and_keeps_last_table(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    write_finished(tmp_path, "r")
    (source,) = discover_runs(str(tmp_path))
    live = LiveRun(source)
    good = live.refresh()
    from metrics.errors import LogReadError

    def boom(self, final=False):  # type: ignore[no-untyped-def]
        raise LogReadError(f"{self.path}: cannot read (Permission denied)")

    monkeypatch.setattr("metrics.runs.tail.LogTailer.poll", boom)
    with open(source.files[0].path, "a") as fh:
        fh.write("\n")
    bad = live.refresh()
    assert bad.error is not None and "Permission denied" in bad.error
    assert bad.run is good.run
    assert math.isfinite(bad.polled_in_s)


# --- run page helpers: evidence, all metrics, class order ---------------------------------------


def test_evidence_reads_like_the_sentence() -> None:
    from dashboard.figures.evidence import evidence_rows

    rows = evidence_rows(
        {"gain": 0.00009999999999998899, "noise": 0.004987, "threshold": 0.0141,
         "window_steps": [6000, 8000], "best_step": 4000, "silent_seconds": 7200.0}
    )  # fmt: skip
    got = {r["evidence"]: r["value"] for r in rows}
    assert got["mIoU gain over the window"] == "0.0001"
    assert got["eval-to-eval noise (±)"] == "0.0050"  # the sentence prints ±0.0050
    assert got["window (steps)"] == "6,000–8,000" and got["best at step"] == "4,000"
    assert got["seconds without a new line"] == "7,200"


def test_all_metrics_groups_every_logged_scalar_and_folds_classes(runs_dir: Path) -> None:
    from dashboard.figures.all_metrics import class_figure, metric_figure, metric_groups

    run = _run(runs_dir, "stalled")
    groups = {g.split: g for g in metric_groups(run.table)}
    assert next(iter(groups)) == "train" and "loss" in groups["train"].scalars
    assert "miou" in groups["val"].scalars and groups["val"].per_class == ("iou/",)
    assert not any(m.startswith("iou/") for m in groups["val"].scalars)
    d = metric_figure(run.table, "val", "miou").to_dict()
    assert len(arr(d["data"][0]["y"])) == 16
    labels = [b["label"] for m in d["layout"]["updatemenus"] for b in m["buttons"]]
    assert labels == ["linear", "log", "all points", "ignore outliers"]
    c = class_figure(run.table, "val", "iou/").to_dict()
    assert len(c["data"]) == 7


def test_class_ids_sort_as_numbers() -> None:
    rows = [
        {"run": "r", "step": 1, "split": "val", "metric": f"iou/{c}", "value": 0.5,
         "wall_time": np.nan}
        for c in ("1", "10", "11", "2", "bg")
    ]  # fmt: skip
    wide = class_iou(pd.DataFrame(rows))
    assert list(wide.index) == ["1", "2", "10", "11", "bg"]


# --- compare: what changed, colours, loss axis -------------------------------------------------


def test_what_changed_across_all_runs_sets_single_run_keys_apart() -> None:
    from dashboard.figures.changes import what_changed

    shared, single = what_changed(
        {
            "a": {"optimizer": {"lr": 0.01, "type": "SGD"}, "mmseg_only": 1, "iters": 8000},
            "b": {"optimizer": {"lr": 0.02, "type": "SGD"}, "iters": 8000, "mmseg_only": 1},
            "c": {"optimizer": {"lr": 0.01, "type": "SGD"}, "iters": 16000, "pad": None},
        }
    )
    assert shared["key"].tolist() == ["iters", "optimizer.lr"]
    assert shared.set_index("key").loc["optimizer.lr"].tolist() == ["0.01", "0.02", "0.01"]
    assert single["key"].tolist() == ["mmseg_only", "pad"]
    assert single.set_index("key").loc["mmseg_only"].tolist() == ["1", "1", "—"]
    assert single.set_index("key").loc["pad"].tolist() == ["—", "—", "null"]  # never "None"


def test_compare_loss_axis_ignores_a_diverged_run(runs_dir: Path) -> None:
    from dashboard.figures.compare import run_colors

    a, b = _run(runs_dir, "stalled"), _run(runs_dir, "diverging")
    sa, sb = compare_series(a.name, a.table, 8000, 0.6), compare_series(b.name, b.table, None, 0.6)
    _lo, hi = compare_figure([sa, sb], loss_axis="robust").to_dict()["layout"]["yaxis2"]["range"]
    assert hi < float(np.nanmax(sb.loss.y))  # the blow-up no longer sets the scale
    assert compare_figure([sa, sb], loss_axis="log").to_dict()["layout"]["yaxis2"]["type"] == "log"
    colors = run_colors(["diverging", "healthy", "stalled"])
    one = compare_figure([sa], colors=colors).to_dict()["data"][0]["line"]["color"]
    both = compare_figure([sb, sa], colors=colors).to_dict()["data"][2]["line"]["color"]
    assert one == both == colors["stalled"]
    assert compare_table([(a.name, a.table, None)])["planned"].tolist() == ["not logged"]
