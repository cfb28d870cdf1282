"""Merge the files of one run into one tidy table: launches in time order, twins read once.

Each (split, metric) of a launch comes from the most precise file that has it, so a text log
and its JSON twin are never counted twice; a later launch (a resume or relaunch) preempts the
earlier records from its first step on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from metrics.readers.base import BadLine, Restart
from metrics.readers.registry import LogData
from metrics.runs.discover import LogFile, RunSource
from metrics.schema import concat_tables, constant_categorical, empty_table


@dataclass(frozen=True)
class Run:
    """One run read in full: its tidy table and what the readers noticed."""

    name: str
    path: str
    table: pd.DataFrame
    files: tuple[LogFile, ...]
    restarts: tuple[Restart, ...] = ()
    bad_lines: tuple[tuple[str, BadLine], ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)
    updated: float | None = None  # latest modification time of the run's files (epoch seconds)
    #: What the logged config says (``metrics.facts.RunFacts.to_dict()``); empty when not read.
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def format(self) -> str:
        """The format of the run's preferred file."""
        return min(self.files, key=lambda f: f.priority).format if self.files else ""


def merge_run(source: RunSource, datas: Sequence[tuple[LogFile, LogData]]) -> Run:
    """Merge files of one run: launches in time order, twins without double counting."""
    by_launch: dict[str, list[tuple[LogFile, LogData]]] = {}
    for f, d in datas:
        by_launch.setdefault(f.launch, []).append((f, d))
    tables = []
    for launch in sorted(by_launch):
        tables.append(_merge_twins(by_launch[launch]))
    table = _resolve_launches(tables) if len(tables) > 1 else (tables[0] if tables else None)
    if table is None:
        table = empty_table()
    table = table.assign(run=constant_categorical(source.name, len(table)))
    restarts = tuple(r for _, d in datas for r in d.restarts)
    bad = tuple((d.path, b) for _, d in datas for b in d.bad_lines)
    meta: dict[str, Any] = {}
    for _, d in sorted(datas, key=lambda fd: -fd[0].priority):
        meta.update(d.meta)
    return Run(source.name, source.path, table, source.files, restarts, bad, meta)


def _merge_twins(group: Iterable[tuple[LogFile, LogData]]) -> pd.DataFrame:
    """Files of one launch: each (split, metric) comes from the most preferred file having it."""
    taken: set[tuple[str, str]] = set()
    parts = []
    for _f, d in sorted(group, key=lambda fd: fd[0].priority):
        t = d.table
        if t.empty:
            continue
        pairs = pd.MultiIndex.from_arrays([t["split"], t["metric"]])
        present = {(str(a), str(b)) for a, b in pairs.unique()}
        if taken:
            t = t.loc[~pairs.isin(list(taken))]
        taken |= present
        parts.append(t)
    return concat_tables(parts)


def _resolve_launches(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Later launches preempt earlier records from their first step on (a resume or relaunch)."""
    kept: list[pd.DataFrame] = []
    for t in tables:
        if t.empty:
            continue
        train = t["split"] == "train"
        first = int(t.loc[train, "step"].min()) if train.any() else int(t["step"].min())
        kept = [k.loc[k["step"] < first] for k in kept]
        kept.append(t)
    return concat_tables(kept)
