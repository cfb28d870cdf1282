"""What ``segwatch serve`` passes to the app after ``--``: the log folder and reader options."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from metrics.diagnosis import DiagnosisConfig, load_config
from metrics.settings import folder_reader_options, settings_path

SAMPLE_LOGS = Path(__file__).resolve().parent.parent / "sample_logs"


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--logdir", default=None)
    parser.add_argument("--config", default=None)
    parser.add_argument("--map", action="append", default=[])
    parser.add_argument("--step-column", default=None)
    parser.add_argument("--percent", action="append", default=[])
    parser.add_argument("--cache-dir", default=None)
    args, _ = parser.parse_known_args(sys.argv[1:])
    return args


def logdir() -> str:
    """The folder of runs: ``--logdir`` (segwatch serve), $SEGWATCH_LOGDIR, else the samples."""
    return str(_args().logdir or os.environ.get("SEGWATCH_LOGDIR") or SAMPLE_LOGS)


def reader_options() -> dict[str, Any] | None:
    """Column mapping for user-written logs: ``serve`` flags over the settings file's table."""
    args = _args()
    return folder_reader_options(
        logdir(), args.config, mapping=args.map, step=args.step_column, percent=args.percent
    )


def diagnosis_config() -> DiagnosisConfig:
    """The ``[diagnosis]`` thresholds of the settings file, as ``segwatch check`` reads them."""
    return load_config(settings_path(logdir(), _args().config))


def summary_cache_dir() -> str:
    """Where the summary cache lives (``serve --cache-dir``, else ``check``'s default)."""
    from metrics.runs.cache import default_cache_dir

    return str(_args().cache_dir or default_cache_dir())
