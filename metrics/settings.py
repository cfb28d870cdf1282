"""segwatch's settings file: a TOML file with a ``[diagnosis]`` and a ``[columns]`` table.

``segwatch.toml`` at the top of a log folder is read automatically; ``--config FILE`` names
another. ``[columns]`` maps the columns of user-written logs (CSV, JSON lines, Lightning CSV,
TensorBoard tags) when the automatic rules of ``metrics.readers.mapping`` are not enough::

    [columns]
    step = "global_step"               # the step column
    wall_time = "timestamp"            # seconds since the epoch
    percent = ["miou", "iou/*"]        # logged in percent: divided by 100
    [columns.map]
    val_jacc = "miou"                  # column → metric (prefix train/ or val/ to set the split)
    debug_value = ""                   # an empty name drops the column
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from metrics.errors import ColumnMappingError, SettingsError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SETTINGS_FILE = "segwatch.toml"
_COLUMN_KEYS = {"step", "wall_time", "percent", "map"}


def read_settings(path: str | Path) -> dict[str, Any]:
    """The tables of a settings file; ``SettingsError`` naming the file when it is unusable."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read the settings file ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from None


def settings_path(logdir: str, explicit: str | None = None) -> Path | None:
    """The settings file to use: ``explicit``, else ``segwatch.toml`` in a local ``logdir``."""
    if explicit:
        return Path(explicit)
    candidate = Path(logdir) / SETTINGS_FILE
    return candidate if "://" not in logdir and candidate.is_file() else None


def folder_reader_options(
    logdir: str,
    explicit: str | None = None,
    *,
    mapping: Sequence[str] = (),
    step: str | None = None,
    percent: Sequence[str] = (),
) -> dict[str, Any] | None:
    """Reader options for the runs below ``logdir``: the flags over its settings file's
    ``[columns]`` table. The one resolver for ``segwatch check``, ``watch`` and the dashboard."""
    path = settings_path(logdir, explicit)
    table = read_settings(path).get("columns") if path else None
    return column_options(table, mapping=mapping, step=step, percent=percent, source=str(path))


def column_options(
    table: Mapping[str, Any] | None = None,
    *,
    mapping: Sequence[str] = (),
    step: str | None = None,
    percent: Sequence[str] = (),
    source: str = "settings",
) -> dict[str, Any] | None:
    """Reader options (``metrics.readers.mapping``) from a ``[columns]`` table and CLI flags.

    ``mapping`` holds ``COLUMN=METRIC`` strings (an empty METRIC drops the column); flags win
    over the table. None when nothing is mapped.
    """
    table = dict(table or {})
    unknown = sorted(set(table) - _COLUMN_KEYS)
    if unknown:
        raise ColumnMappingError(
            f"{source}: unknown key(s) {unknown} in [columns]; known: {sorted(_COLUMN_KEYS)}"
        )
    columns: dict[str, str | None] = {
        str(k): None if v is False else (str(v) or None) for k, v in table.get("map", {}).items()
    }
    for item in mapping:
        col, sep, metric = item.partition("=")
        if not sep or not col:
            raise ColumnMappingError(f"--map expects COLUMN=METRIC, got {item!r}")
        columns[col] = metric or None
    options: dict[str, Any] = {}
    if columns:
        options["columns"] = columns
    if step or table.get("step"):
        options["step"] = step or str(table["step"])
    if table.get("wall_time"):
        options["wall_time"] = str(table["wall_time"])
    pct = [*map(str, table.get("percent", [])), *percent]
    if pct:
        options["percent"] = pct
    return options or None
