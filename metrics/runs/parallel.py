"""Check many runs at once: their reports made in worker processes, returned in order.

Each worker reads, summarises and diagnoses one run at a time and sends back its report only
(``RunReport``: a few kB), never its table, so memory grows with the number of workers, not of
runs. Results come back in the order the runs were given (as discovered).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from metrics.diagnosis import DiagnosisConfig
from metrics.runs.discover import RunSource
from metrics.runs.report import RunReport, report_run

#: A run and the reader options of the folder it was found in.
Task = tuple[RunSource, Mapping[str, Any] | None]


def default_workers() -> int:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def report_runs(
    tasks: Sequence[Task],
    config: DiagnosisConfig,
    workers: int = 1,
    now: float | None = None,
) -> Iterator[RunReport]:
    """The report of each run, in the order given; ``workers`` processes (1: in this one).

    A worker that dies (killed, out of memory) costs the runs it had: each gets an error entry
    saying so, and the others are still reported.
    """
    workers = min(workers, len(tasks))
    if workers <= 1:
        for source, options in tasks:
            yield report_run(source, options, config, now)
        return
    context = multiprocessing.get_context(_start_method(tasks))
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures: list[Future[RunReport]] = [
            pool.submit(report_run, source, options, config, now) for source, options in tasks
        ]
        for (source, _), future in zip(tasks, futures, strict=True):
            try:
                yield future.result()
            except BrokenProcessPool:
                error = "its worker process died (killed or out of memory); try --workers 1"
                yield RunReport({"run": source.name, "path": source.path, "error": error})
            except Exception as exc:  # a report that cannot travel back costs its run only
                error = f"internal error in a worker ({type(exc).__name__}: {exc})"[:300]
                yield RunReport({"run": source.name, "path": source.path, "error": error})


def _start_method(tasks: Sequence[Task]) -> str | None:
    """fork for local logs: the workers inherit the imported modules (no second start-up per
    worker). forkserver once a remote filesystem was touched: fsspec runs an event loop in a
    thread, and a fork taken while it holds a lock can hang the child (seen with fsspec 2023.9).
    """
    if not sys.platform.startswith("linux"):
        return None
    remote = any("://" in source.path for source, _ in tasks)
    return "forkserver" if remote else "fork"
