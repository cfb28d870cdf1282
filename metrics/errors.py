"""Typed errors of the segwatch library.

Every error a user can act on derives from one base, so the CLI and the dashboard catch only
``MetricsError`` and show its message::

    MetricsError
    ├── LogFormatError        a file is in no known format, or not the one asked for
    ├── LogReadError          a file cannot be read (missing, a FIFO, too large, permission)
    │   └── OutsideLogdirError    it resolves outside the log folder (a symlink out of it)
    ├── SchemaError           a table does not follow the tidy contract
    ├── ColumnMappingError    a CSV/JSON-lines mapping names a column that is not there
    ├── RunSelectionError     a run path resolves outside the log folder
    ├── SettingsError         a settings file or flag is malformed, unknown or out of range
    ├── ConfigBudgetError     a logged config is too large or too deep to read safely
    ├── AlertStateError       ``segwatch watch``'s state file cannot be read or written
    ├── DataReportError       a saved eval/labels report cannot be read or written
    └── InputError            bad arrays passed to a metric (shape, dtype, labels, range)
"""

from __future__ import annotations


class MetricsError(Exception):
    """Base of every error segwatch raises on purpose."""


class LogFormatError(MetricsError):
    """A log is in no known format (the message names the file and the formats tried)."""


class LogReadError(MetricsError):
    """A log cannot be read at all (missing, not a regular file, larger than the limit)."""


class OutsideLogdirError(LogReadError):
    """A file opened for a run resolves (symlinks followed) outside the log folder."""


class SchemaError(MetricsError):
    """A table does not follow the tidy contract (run, step, split, metric, value, wall_time)."""


class ColumnMappingError(MetricsError):
    """A column mapping for CSV or JSON-lines logs is wrong for the file it is applied to."""


class RunSelectionError(MetricsError):
    """A run was asked for that does not exist or lies outside the log folder."""


class SettingsError(MetricsError):
    """A settings file (``segwatch.toml``) or a flag holds a value segwatch cannot use."""


class InputError(MetricsError, ValueError):
    """Arrays given to a metric are not what it expects."""


class ConfigBudgetError(MetricsError):
    """A logged config is too large, too deeply nested or too slow to read within its budget."""


class AlertStateError(MetricsError):
    """The file where ``segwatch watch`` keeps the alerts it sent cannot be read or written."""


class DataReportError(MetricsError):
    """A saved eval or label-audit file is missing, unreadable or malformed (names the file)."""
