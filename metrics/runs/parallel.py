"""Check many runs at once: their reports made in worker processes, returned in order.

Each worker reads, summarises and diagnoses a few runs at a time (``batch_size``) and sends
back their reports only (``RunReport``: a few kB each), never a table, so memory grows with the
number of workers, not of runs. Results come back in the order the runs were given (as discovered).
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
    size = batch_size(len(tasks), workers)
    batches = [tasks[i : i + size] for i in range(0, len(tasks), size)]
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures: list[Future[list[RunReport]]] = [
            pool.submit(_report_batch, batch, config, now) for batch in batches
        ]
        for batch, future in zip(batches, futures, strict=True):
            try:
                yield from future.result()
            except BrokenProcessPool:
                error = "its worker process died (killed or out of memory); try --workers 1"
                yield from _errors(batch, error)
            except Exception as exc:  # a batch that cannot travel back costs its runs only
                error = f"internal error in a worker ({type(exc).__name__}: {exc})"[:300]
                yield from _errors(batch, error)


def batch_size(tasks: int, workers: int) -> int:
    """Runs sent to a worker at a time: up to 8 (a round trip per run costs the parent ~0.4 ms,
    about as much as it spends on the run's report), yet at least 4 batches per worker so the
    last ones do not leave a worker idle."""
    return max(1, min(8, tasks // (4 * workers)))


def _report_batch(
    batch: Sequence[Task], config: DiagnosisConfig, now: float | None
) -> list[RunReport]:
    return [report_run(source, options, config, now) for source, options in batch]


def _errors(batch: Sequence[Task], error: str) -> Iterator[RunReport]:
    for source, _ in batch:
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
