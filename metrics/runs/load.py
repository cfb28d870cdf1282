"""Read a discovered run in full: every file, merged, with the facts of its logged config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from metrics.errors import LogReadError, MetricsError
from metrics.facts import RunFacts, facts_for_files
from metrics.facts.schedule_name import planned_from_names
from metrics.readers.registry import read_log
from metrics.readers.source import open_source
from metrics.runs.discover import RunSource
from metrics.runs.merge import Run, merge_run


def load_run(
    source: RunSource, facts: bool = True, options: Mapping[str, Any] | None = None
) -> Run:
    """Read every file of a run and merge them into one tidy table.

    ``options`` go to the readers (a column mapping, see ``metrics.settings``). With ``facts``,
    the run's logged config is read too (``metrics.facts``): its facts go to ``Run.facts`` and
    the ones the diagnosis uses (planned steps, classes, ignore index) into ``Run.meta``, where
    the config wins over what the readers inferred.
    """
    datas = [
        (f, read_log(f.path, format=f.format, run=source.name, options=options, root=f.root))
        for f in source.files
    ]
    run = merge_run(source, datas)
    mtimes = []
    for f in source.files:
        try:
            mtimes.append(open_source(f.path, f.root).stat().mtime)
        except LogReadError:
            continue
    if mtimes:
        run = replace(run, updated=max(mtimes))
    return with_facts(run) if facts else run


def facts_for_run(run: Run) -> RunFacts:
    """Facts of a run: from its logged config, completed by what its readers saw (``meta``)."""
    try:
        facts = facts_for_files(run.files) or RunFacts()
    except MetricsError as exc:  # a config that cannot be read costs its facts, not the run
        facts = RunFacts(unavailable=str(exc))
    return facts.filled_from(run.meta)


def with_facts(run: Run, facts: RunFacts | None = None) -> Run:
    """The run with the facts of its logged config attached (see ``load_run``).

    With no planned steps from its logs or config, a run that ended exactly on the step count
    its directory names state (``…_4xb4-40k_…`` at step 40000) counts as planned that long."""
    found = facts_for_run(run) if facts is None else facts
    meta = replace(run.meta, **found.as_meta())
    if meta.planned_steps is None and len(run.table):
        last = int(run.table["step"].max())
        meta.planned_steps = planned_from_names((f.path for f in run.files), last)
    return replace(run, facts=found.to_dict(), meta=meta)
