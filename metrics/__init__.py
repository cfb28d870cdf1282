"""segwatch's library: log readers, segmentation metrics, trend statistics and diagnosis.

No Streamlit here: the dashboard and the CLI are thin layers over these functions.
"""

from __future__ import annotations

from metrics.errors import (
    AlertStateError,
    ColumnMappingError,
    InputError,
    LogFormatError,
    LogReadError,
    MetricsError,
    RunSelectionError,
    SchemaError,
)
from metrics.readers.registry import LogData, detect_format, formats, get_format, read_log
from metrics.runs.tail import LogTailer
from metrics.schema import COLUMNS, validate_table

__all__ = [
    "COLUMNS",
    "AlertStateError",
    "ColumnMappingError",
    "InputError",
    "LogData",
    "LogFormatError",
    "LogReadError",
    "LogTailer",
    "MetricsError",
    "RunSelectionError",
    "SchemaError",
    "detect_format",
    "formats",
    "get_format",
    "read_log",
    "validate_table",
]
