"""segwatch's library: log readers, runs, segmentation metrics, trend statistics and diagnosis.

No Streamlit here: the dashboard and the CLI are thin layers over these functions. The layers,
from a log line to a finding::

    readers/    one module per log format → one tidy table (run, step, split, metric, value,
                wall_time), detected by content, read whole or tailed
    runs/       the runs below a folder, their files merged, followed live, summarised, diffed
    facts/      what a run's logged config says (read as data, never executed)
    stats/      smoothing, trend and noise statistics, the forecast of the final mIoU
    diagnosis/  rules over a run's series → findings with evidence, checks and a status
    masks/      mIoU from prediction/label masks, image-output MSE, label audits
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the names are, for type checkers; loaded on first use at run time
    from metrics.diagnosis import (
        DiagnosisConfig,
        Finding,
        RunDiagnosis,
        diagnose,
        diagnose_table,
        load_config,
    )
    from metrics.errors import (
        AlertStateError,
        ColumnMappingError,
        ConfigBudgetError,
        DataReportError,
        InputError,
        LogFormatError,
        LogReadError,
        MetricsError,
        OutsideLogdirError,
        RunSelectionError,
        SchemaError,
        SettingsError,
    )
    from metrics.facts import RunFacts
    from metrics.masks.miou import confusion_matrix, iou_per_class, mean_iou, scores
    from metrics.masks.pixel import mse, psnr
    from metrics.readers.base import LogMeta
    from metrics.readers.registry import LogData, detect_format, formats, get_format, read_log
    from metrics.runs import (
        LiveRun,
        LogTailer,
        Run,
        RunSource,
        RunSummary,
        diff_runs,
        discover_runs,
        load_run,
        summarize,
    )
    from metrics.schema import COLUMNS, validate_table
    from metrics.stats.forecast import Forecast, forecast
    from metrics.stats.smoothing import ema, ema_by_step
    from metrics.stats.trends import Progress, noise_level, progress, trend

#: Where each public name lives: ``import metrics`` stays cheap (``segwatch --help`` starts
#: without pandas), and ``metrics.load_run`` imports its module on first use (PEP 562).
_WHERE = {
    "AlertStateError": "metrics.errors",
    "COLUMNS": "metrics.schema",
    "ColumnMappingError": "metrics.errors",
    "ConfigBudgetError": "metrics.errors",
    "DataReportError": "metrics.errors",
    "DiagnosisConfig": "metrics.diagnosis",
    "Finding": "metrics.diagnosis",
    "Forecast": "metrics.stats.forecast",
    "InputError": "metrics.errors",
    "LiveRun": "metrics.runs",
    "LogData": "metrics.readers.registry",
    "LogFormatError": "metrics.errors",
    "LogMeta": "metrics.readers.base",
    "LogReadError": "metrics.errors",
    "LogTailer": "metrics.runs",
    "MetricsError": "metrics.errors",
    "OutsideLogdirError": "metrics.errors",
    "Progress": "metrics.stats.trends",
    "Run": "metrics.runs",
    "RunDiagnosis": "metrics.diagnosis",
    "RunFacts": "metrics.facts",
    "RunSelectionError": "metrics.errors",
    "RunSource": "metrics.runs",
    "RunSummary": "metrics.runs",
    "SchemaError": "metrics.errors",
    "SettingsError": "metrics.errors",
    "confusion_matrix": "metrics.masks.miou",
    "detect_format": "metrics.readers.registry",
    "diagnose": "metrics.diagnosis",
    "diagnose_table": "metrics.diagnosis",
    "diff_runs": "metrics.runs",
    "discover_runs": "metrics.runs",
    "ema": "metrics.stats.smoothing",
    "ema_by_step": "metrics.stats.smoothing",
    "forecast": "metrics.stats.forecast",
    "formats": "metrics.readers.registry",
    "get_format": "metrics.readers.registry",
    "iou_per_class": "metrics.masks.miou",
    "load_config": "metrics.diagnosis",
    "load_run": "metrics.runs",
    "mean_iou": "metrics.masks.miou",
    "mse": "metrics.masks.pixel",
    "noise_level": "metrics.stats.trends",
    "progress": "metrics.stats.trends",
    "psnr": "metrics.masks.pixel",
    "read_log": "metrics.readers.registry",
    "scores": "metrics.masks.miou",
    "summarize": "metrics.runs",
    "trend": "metrics.stats.trends",
    "validate_table": "metrics.schema",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'metrics' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "COLUMNS",
    "AlertStateError",
    "ColumnMappingError",
    "ConfigBudgetError",
    "DataReportError",
    "DiagnosisConfig",
    "Finding",
    "Forecast",
    "InputError",
    "LiveRun",
    "LogData",
    "LogFormatError",
    "LogMeta",
    "LogReadError",
    "LogTailer",
    "MetricsError",
    "OutsideLogdirError",
    "Progress",
    "Run",
    "RunDiagnosis",
    "RunFacts",
    "RunSelectionError",
    "RunSource",
    "RunSummary",
    "SchemaError",
    "SettingsError",
    "confusion_matrix",
    "detect_format",
    "diagnose",
    "diagnose_table",
    "diff_runs",
    "discover_runs",
    "ema",
    "ema_by_step",
    "forecast",
    "formats",
    "get_format",
    "iou_per_class",
    "load_config",
    "load_run",
    "mean_iou",
    "mse",
    "noise_level",
    "progress",
    "psnr",
    "read_log",
    "scores",
    "summarize",
    "trend",
    "validate_table",
]
