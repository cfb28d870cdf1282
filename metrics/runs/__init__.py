"""Runs: find them below a log folder, read and merge their files, follow them while written.

``discover_runs`` finds the runs (``RunSource``: a name and its files), ``load_run`` reads one in
full (``Run``: one tidy table and the facts of its config), ``LogTailer`` follows one growing
file and ``LiveRun`` a whole run; ``summarize`` gives its headline numbers and ``diff_runs``
what changed between two runs.
"""

from metrics.runs.diff import RunDiff, diff_runs
from metrics.runs.discover import LogFile, RunSource, discover_runs
from metrics.runs.live import LiveRun, RunState
from metrics.runs.load import facts_for_run, load_run, with_facts
from metrics.runs.merge import Run, merge_run
from metrics.runs.summary import RunSummary, summarize
from metrics.runs.tail import LogTailer

__all__ = [
    "LiveRun",
    "LogFile",
    "LogTailer",
    "Run",
    "RunDiff",
    "RunSource",
    "RunState",
    "RunSummary",
    "diff_runs",
    "discover_runs",
    "facts_for_run",
    "load_run",
    "merge_run",
    "summarize",
    "with_facts",
]
