"""What the ``segwatch`` commands share: exit codes, the reader options of a log folder, strict
JSON and terminal-safe text."""

from __future__ import annotations

import argparse
import json
import math
import numbers
import re
from collections.abc import Mapping
from typing import Any

EXIT_OK, EXIT_FLAGGED, EXIT_USAGE = 0, 1, 2


def add_column_flags(parser: argparse.ArgumentParser) -> None:
    """``--map``, ``--step-column`` and ``--percent``: how to read user-written logs."""
    group = parser.add_argument_group("columns of CSV, JSON-lines, Lightning and TensorBoard logs")
    group.add_argument(
        "--map", action="append", default=[], metavar="COLUMN=METRIC",
        help="read COLUMN as METRIC (e.g. val_jacc=miou, v_road=val/iou/road; empty drops it)",
    )  # fmt: skip
    group.add_argument("--step-column", metavar="NAME", help="the column holding the step")
    group.add_argument(
        "--percent", action="append", default=[], metavar="METRIC",
        help="a metric logged in percent (glob allowed, e.g. 'iou/*')",
    )  # fmt: skip


def reader_options(args: argparse.Namespace, path: str) -> dict[str, Any] | None:
    """Column mapping from the flags over the settings file's [columns] table."""
    from metrics.settings import folder_reader_options

    return folder_reader_options(
        path, args.config, mapping=args.map, step=args.step_column, percent=args.percent
    )


def strict_json(data: Any) -> str:
    """``data`` as strict JSON (RFC 8259): NaN and ±inf become ``null``, other objects text.

    Every ``--json`` prints through here, so a run whose losses are all NaN still gives JSON
    that any parser reads.
    """
    return json.dumps(_finite(data), indent=2, ensure_ascii=False, allow_nan=False, default=str)


def _finite(value: Any) -> Any:
    """``value`` with non-finite numbers as None and numpy scalars as Python numbers (numpy
    registers its scalars with the ``numbers`` ABCs, so it need not be imported here)."""
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with control characters (terminal escapes) shown as ``\\x1b``, never sent raw."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)
