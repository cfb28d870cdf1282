"""The library's public surface: ``metrics.__all__`` is complete and the documented names exist."""

from __future__ import annotations

import importlib

import metrics


def test_all_names_exist_and_every_public_error_is_exported() -> None:
    for name in metrics.__all__:
        assert hasattr(metrics, name), name
    errors = {n for n in dir(metrics.errors) if n.endswith("Error")}
    assert errors <= set(metrics.__all__)


def test_the_main_entry_points_are_public() -> None:
    """What a user scripts with: read, find and load runs, diagnose, metrics, statistics."""
    for name in (
        "read_log", "LogTailer", "discover_runs", "load_run", "LiveRun", "summarize",
        "diagnose", "diagnose_table", "load_config", "mean_iou", "confusion_matrix", "ema",
        "progress", "forecast", "diff_runs",
    ):  # fmt: skip
        assert name in metrics.__all__ and callable(getattr(metrics, name)), name


def test_names_other_parts_rely_on() -> None:
    for module, names in {
        "metrics.masks.miou": ["confusion_matrix", "iou_per_class", "mean_iou"],
        "metrics.stats.smoothing": ["ema"],
        "metrics.masks.pixel": ["mse", "psnr"],
        "metrics.diagnosis": ["diagnose", "RunDiagnosis", "Finding"],
        "metrics.runs": ["discover_runs", "load_run"],
        "metrics": ["LogTailer", "read_log"],
    }.items():
        mod = importlib.import_module(module)
        for name in names:
            assert callable(getattr(mod, name)), f"{module}.{name}"


def test_the_library_never_imports_streamlit_or_plotly() -> None:
    from tests.conftest import REPO

    for path in (REPO / "metrics").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for banned in ("import streamlit", "from streamlit", "import plotly", "from plotly"):
            assert banned not in text, f"{path}: {banned}"
