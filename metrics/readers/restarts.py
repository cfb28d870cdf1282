"""Relaunches and purges inside one file: a restart at step ``s`` voids the earlier records it
overlaps (step ``>= s``), so a resumed run draws one clean line.

Which events are restarts is each reader's rule, per format:

* text and JSON-lines logs (PaddleSeg, MMSeg, Detectron2 …): a relaunch re-logs everything, so
  a train step going back is a relaunch and voids every series;
* TensorBoard event files with ``file_version`` ``brain.Event:2`` (every modern writer): only a
  SessionLog START (written by a writer's ``purge_step``) voids, every series, as TensorBoard
  does; a step going back on its own keeps every point;
* legacy event files (``brain.Event:1``): TensorBoard's out-of-order rule, per tag — an event
  whose step is below the previous event's voids only the series of its own tags
  (``Restart.series``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from metrics.readers.base import Restart


def apply_restarts(records: pd.DataFrame, restarts: Sequence[Restart]) -> pd.DataFrame:
    """Drop records preempted by a later restart (records carry their byte ``offset``)."""
    if not restarts or records.empty:
        return records
    keep = np.ones(len(records), bool)
    offsets = records["offset"].to_numpy()
    steps = records["step"].to_numpy()
    ordered = sorted((r for r in restarts if r.series is None), key=lambda r: r.offset)
    if ordered:
        r_off = np.array([r.offset for r in ordered], np.int64)
        r_step = np.array([r.step for r in ordered], np.int64)
        # the smallest restart step among the restarts after each position
        suffix_min = np.minimum.accumulate(r_step[::-1])[::-1]
        suffix_min = np.append(suffix_min, np.iinfo(np.int64).max)
        first_after = np.searchsorted(r_off, offsets, side="right")
        keep &= steps < suffix_min[first_after]
    scoped = [r for r in restarts if r.series is not None]
    if scoped:
        splits = records["split"].astype(str).to_numpy()
        metrics = records["metric"].astype(str).to_numpy()
        for r in scoped:
            assert r.series is not None
            split, metric = r.series
            keep &= ~(
                (offsets < r.offset) & (steps >= r.step) & (splits == split) & (metrics == metric)
            )
    if keep.all():
        return records
    return records.loc[keep].reset_index(drop=True)


def void_in_earlier(
    tables: Sequence[pd.DataFrame], restarts: Sequence[Sequence[Restart]]
) -> tuple[list[pd.DataFrame], list[Restart]]:
    """Files of one folder read in file order, as TensorBoard reads them: each file's restarts
    also void the records of every earlier file (all of which came before them).

    ``tables`` are the files' tables with their own restarts applied; returns them with the
    later files' restarts applied too, and the restarts to report: those that void something
    in their own file, and ``earlier_files`` ones only if they voided something here.
    """
    out = list(tables)
    reported: list[Restart] = []
    for k, rs in enumerate(restarts):
        for r in rs:
            voided = 0
            for j in range(k):
                t = out[j]
                if t.empty:
                    continue
                hit = t["step"].to_numpy() >= r.step
                if r.series is not None:
                    split, metric = r.series
                    hit &= (t["split"].astype(str).to_numpy() == split) & (
                        t["metric"].astype(str).to_numpy() == metric
                    )
                if hit.any():
                    voided += int(hit.sum())
                    out[j] = t.loc[~hit].reset_index(drop=True)
            if not r.earlier_files or voided:
                reported.append(r)
    return out, reported
