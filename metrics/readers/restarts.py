"""Relaunches appended to one file: a step that goes back voids the records it overlaps.

TensorBoard's rule: when a record's step goes back to ``s``, every earlier record with step
``>= s`` belongs to an abandoned launch and is dropped, so a resumed run draws one clean line.
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
    ordered = sorted(restarts, key=lambda r: r.offset)
    r_off = np.array([r.offset for r in ordered], np.int64)
    r_step = np.array([r.step for r in ordered], np.int64)
    # the smallest restart step among the restarts after each position
    suffix_min = np.minimum.accumulate(r_step[::-1])[::-1]
    suffix_min = np.append(suffix_min, np.iinfo(np.int64).max)
    first_after = np.searchsorted(r_off, records["offset"].to_numpy(), side="right")
    keep = records["step"].to_numpy() < suffix_min[first_after]
    if keep.all():
        return records
    return records.loc[keep].reset_index(drop=True)
