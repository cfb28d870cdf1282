"""Check runs on a Dask cluster: each run's report made by a Dask worker, gathered in order.

The work per run is ``report_run`` (read, summarise, diagnose), the same as in process or in
worker processes; only the run's ``RunSource`` goes to the cluster and only its small report
comes back. The workers read the files themselves, so LOGDIR must be reachable from them with
the same URL (``s3://…`` with credentials in their environment, or a shared filesystem).
``dask[distributed]`` is an optional extra (``pip install 'segwatch[dask]'``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from metrics.diagnosis import DiagnosisConfig
from metrics.errors import MetricsError
from metrics.runs.parallel import Task
from metrics.runs.report import RunReport, report_run


class ClusterError(MetricsError):
    """The Dask cluster cannot be used (package missing, scheduler unreachable)."""


def report_runs_on_dask(
    tasks: Sequence[Task],
    config: DiagnosisConfig,
    address: str,
    now: float | None = None,
    timeout_s: float = 10.0,
) -> Iterator[RunReport]:
    """The report of each run, in the order given, made on the cluster at ``address``
    (``tcp://scheduler:8786``). A run whose task failed on the cluster gets an error entry."""
    try:
        from distributed import Client as _Client
    except ImportError:
        raise ClusterError(
            "--dask needs dask's distributed package: pip install 'segwatch[dask]'"
        ) from None
    connect: Any = _Client  # untyped package
    try:
        client: Any = connect(address, timeout=timeout_s)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        futures = [
            client.submit(report_run, source, options, config, now, pure=False)
            for source, options in tasks
        ]
        for (source, _), future in zip(tasks, futures, strict=True):
            try:
                yield future.result()
            except Exception as exc:  # a lost worker or task costs its run only
                error = f"its task failed on the Dask cluster ({type(exc).__name__}: {exc})"
                yield RunReport({"run": source.name, "path": source.path, "error": error[:300]})
    finally:
        client.close()
