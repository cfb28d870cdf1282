"""The ``segwatch`` command: ``serve`` the dashboard, ``check`` runs from scripts and CI, check
the data behind a run (``eval``, ``labels``), what changed between runs (``diff``) and
notifications when a run needs attention (``watch``).

One module per group of sub-commands; each parses its arguments, calls the library and turns
its exceptions into messages and exit codes.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from dashboard.cli.check import add_check_command
from dashboard.cli.common import EXIT_USAGE
from dashboard.cli.data import add_data_commands
from dashboard.cli.diff import add_facts_commands
from dashboard.cli.serve import add_serve_commands
from dashboard.cli.watch import add_watch_command


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        code: int = args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader went away (``segwatch check … | head``): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_USAGE
    return code


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="segwatch",
        description="Training monitor for semantic-segmentation runs: reads the logs "
        "PaddleSeg, MMSegmentation, Detectron2, HF Trainer, Lightning and TensorBoard write.",
    )
    sub = p.add_subparsers(dest="command")
    add_serve_commands(sub)
    add_check_command(sub)
    add_data_commands(sub)
    add_facts_commands(sub)
    add_watch_command(sub)
    return p
