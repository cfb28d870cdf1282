"""Merge the files of one run into one tidy table: launches in time order, twins read once.

Each (split, metric) of a launch comes from the most precise file that has it, so a text log
and its JSON twin are never counted twice; a later launch (a resume or relaunch) preempts the
earlier records from its first step on. Event files of one folder (one per writer launch) are
one file read in file-name order, as TensorBoard reads them: a later file's SessionLog START
(``purge_step``) voids the earlier files' records from its step on.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from metrics.readers.base import BadLine, LogMeta, Restart, merged_meta
from metrics.readers.registry import LogData, get_format
from metrics.readers.restarts import void_in_earlier
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
    meta: LogMeta = field(default_factory=LogMeta)  # what the logs state, config facts over them
    updated: float | None = None  # latest modification time of the run's files (epoch seconds)
    #: What the logged config says (``metrics.facts.RunFacts.to_dict()``); empty when not read.
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def format(self) -> str:
        """The format of the run's preferred file."""
        return min(self.files, key=lambda f: f.priority).format if self.files else ""


def merge_run(source: RunSource, datas: Sequence[tuple[LogFile, LogData]]) -> Run:
    """Merge files of one run: launches in time order, twins without double counting."""
    joined, restarts = _join_folders(datas)
    by_launch: dict[str, list[tuple[LogFile, pd.DataFrame]]] = {}
    for f, t in joined:
        by_launch.setdefault(f.launch, []).append((f, t))
    tables = []
    for launch in sorted(by_launch):
        tables.append(_merge_twins(by_launch[launch]))
    table = _resolve_launches(tables) if len(tables) > 1 else (tables[0] if tables else None)
    if table is None:
        table = empty_table()
    table = table.assign(run=constant_categorical(source.name, len(table)))
    bad = tuple((d.path, b) for _, d in datas for b in d.bad_lines)
    meta = merged_meta(d.meta for _, d in sorted(datas, key=lambda fd: -fd[0].priority))
    return Run(source.name, source.path, table, source.files, restarts, bad, meta)


def _join_folders(
    datas: Sequence[tuple[LogFile, LogData]],
) -> tuple[list[tuple[LogFile, pd.DataFrame]], tuple[Restart, ...]]:
    """Each file's table, event files of one folder and launch joined into one in file-name
    order (each file's restarts voiding the earlier files' records); and the restarts applied,
    to report (one that could only void earlier files, and voided nothing, is left out)."""
    groups: dict[tuple[str, str, str], list[tuple[LogFile, LogData]]] = {}
    for f, d in datas:
        folder = posixpath.dirname(f.path) if get_format(f.format).folder_is_run else f.path
        groups.setdefault((f.format, f.launch, folder), []).append((f, d))
    joined: list[tuple[LogFile, pd.DataFrame]] = []
    restarts: list[Restart] = []
    for group in groups.values():
        group.sort(key=lambda fd: fd[0].path)
        tables, applied = void_in_earlier(
            [d.table for _, d in group], [d.restarts for _, d in group]
        )
        restarts.extend(applied)
        joined.append((group[-1][0], tables[0] if len(tables) == 1 else concat_tables(tables)))
    return joined, tuple(restarts)


def _merge_twins(group: Iterable[tuple[LogFile, pd.DataFrame]]) -> pd.DataFrame:
    """Files of one launch: each (split, metric) comes from the most preferred file having it."""
    tables = [t for _f, t in sorted(group, key=lambda ft: ft[0].priority) if not t.empty]
    if len(tables) <= 1:  # nothing to choose between (and no pairs to build on a big table)
        return concat_tables(tables)
    taken: set[tuple[str, str]] = set()
    parts = []
    for t in tables:
        pairs, names = _pair_codes(t)
        present = {names[int(c)] for c in np.unique(pairs)}
        if taken:
            drop = [i for i, name in enumerate(names) if name in taken]
            t = t.loc[~np.isin(pairs, drop)]
        taken |= present
        parts.append(t)
    return concat_tables(parts)


def _pair_codes(t: pd.DataFrame) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Each row's (split, metric) as one integer code, and the pair each code stands for."""
    split = pd.Categorical(t["split"]) if t["split"].dtype != "category" else t["split"].array
    metric = pd.Categorical(t["metric"]) if t["metric"].dtype != "category" else t["metric"].array
    n = len(metric.categories)  # type: ignore[union-attr]
    codes = np.asarray(split.codes, np.int64) * n + np.asarray(metric.codes, np.int64)  # type: ignore[union-attr]
    names = [
        (str(s), str(m))
        for s in split.categories  # type: ignore[union-attr]
        for m in metric.categories  # type: ignore[union-attr]
    ]
    return codes, names


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
