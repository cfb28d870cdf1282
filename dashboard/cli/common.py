"""What the ``segwatch`` commands share: exit codes and the reader options of a log folder."""

from __future__ import annotations

import argparse
from typing import Any

from metrics.settings import column_options, read_settings, settings_path

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
    settings = settings_path(path, args.config)
    table = read_settings(settings).get("columns") if settings else None
    return column_options(
        table, mapping=args.map, step=args.step_column, percent=args.percent, source=str(settings)
    )
