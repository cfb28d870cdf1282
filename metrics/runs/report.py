"""One run's report for ``segwatch check``: its summary, facts and diagnosis as plain data.

``report_run`` is what every way of checking runs shares — in process, in worker processes
(``metrics.runs.parallel``), on a Dask cluster — and what the summary cache stores
(``metrics.runs.cache``). Only this small report leaves a worker: never the run's table.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from metrics.diagnosis import Clock, DiagnosisConfig, RunSeries, diagnose_series, life_state
from metrics.errors import MetricsError
from metrics.runs.discover import RunSource
from metrics.runs.load import load_run
from metrics.runs.merge import Run
from metrics.runs.summary import summarize_miou


@dataclass(frozen=True)
class RunReport:
    """What ``check`` prints for one run (``entry``), the warnings reading it raised, and the
    clock inputs of its diagnosis (None when the run could not be read)."""

    entry: dict[str, Any]
    warnings: tuple[str, ...] = ()
    clock: Clock | None = None
    #: the lifecycle state the diagnosis was made under (``metrics.diagnosis.life_state``)
    state: tuple[Any, ...] | None = None
    #: what ``report_run``'s ``extra`` drew from the table (the dashboard's trend), else None
    extra: dict[str, Any] | None = None

    @property
    def failed(self) -> bool:
        return "error" in self.entry


def report_run(
    source: RunSource,
    options: Mapping[str, Any] | None,
    config: DiagnosisConfig,
    now: float | None = None,
    extra: Callable[[Run], dict[str, Any]] | None = None,
) -> RunReport:
    """Read, summarise and diagnose one run; a failure is contained to its run (an ``error``).

    The diagnosis works on the series it needs (``RunSeries``), pulled once from the table; the
    table is dropped before the rules run. ``extra`` (a module-level function, so it can travel
    to a worker process) draws more from the run before that; its result is ``report.extra``.
    """
    now = time.time() if now is None else now
    clock: Clock | None = None
    state: tuple[Any, ...] | None = None
    more: dict[str, Any] | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            run = load_run(source, options=options)
            rs = RunSeries.from_table(run.table, run.meta, run.updated)
            miou, records = rs.miou, len(run.table)
            summary = summarize_miou(
                miou.steps, miou.values, records, rs.last_step, run.name, run.path, run.format
            )
            entry = summary.to_dict()
            entry["files"] = [{"path": f.path, "format": f.format} for f in run.files]
            entry["restarts"] = [{"step": r.step, "line": r.line} for r in run.restarts]
            entry["bad_lines"] = len(run.bad_lines)
            entry["facts"] = dict(run.facts)
            fmt = run.format
            more = extra(run) if extra is not None else None
            del run  # the table is not needed past here
            verdict = diagnose_series(rs, config=config, now=now, format=fmt)
            entry.update(verdict.to_dict())
            clock = Clock.of(rs)
            state = life_state(clock.judge(config, now))
        except MetricsError as exc:
            entry = {"run": source.name, "path": source.path, "error": str(exc)}
            clock = state = more = None
        except Exception as exc:  # a reader bug must not hide the other runs
            what = f"{type(exc).__name__}: {exc}"[:300]
            error = f"internal error while reading ({what}); please report it"
            entry = {"run": source.name, "path": source.path, "error": error}
            clock = state = more = None
    return RunReport(entry, tuple(str(w.message) for w in caught), clock, state, more)
