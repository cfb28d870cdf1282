"""segwatch's library: log readers, segmentation metrics, trend statistics and diagnosis.

No Streamlit here: the dashboard and the CLI are thin layers over these functions.
"""

from __future__ import annotations

from metrics.errors import (
    ColumnMappingError,
    ConfigBudgetError,
    InputError,
    LogFormatError,
    LogReadError,
    MetricsError,
    OutsideLogdirError,
    RunSelectionError,
    SchemaError,
)
from metrics.readers.registry import LogData, detect_format, formats, get_format, read_log
from metrics.runs.tail import LogTailer
from metrics.schema import COLUMNS, validate_table

__all__ = [
    "COLUMNS",
    "ColumnMappingError",
    "ConfigBudgetError",
    "InputError",
    "LogData",
    "LogFormatError",
    "LogReadError",
    "LogTailer",
    "MetricsError",
    "OutsideLogdirError",
    "RunSelectionError",
    "SchemaError",
    "detect_format",
    "formats",
    "get_format",
    "read_log",
    "validate_table",
]
