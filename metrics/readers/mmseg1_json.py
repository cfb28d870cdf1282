"""MMSegmentation 1.x ``vis_data/scalars.json``: mmengine's ``LocalVisBackend`` JSON lines.

Train lines carry ``loss``/``lr``, val lines ``mIoU``/``aAcc``… in percent (stored here as
fractions); both carry ``step`` and a val line shares the step of the train line it followed.
``log_with_hierarchy`` prefixes keys with ``train/`` and ``val/``. No per-class values exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson

from metrics.readers._mmseg_common import (
    POSITION_KEYS,
    emit_columns,
    from_percent,
    int_column,
    is_score,
)
from metrics.readers._mmseg_jsonl import Batch, JsonLinesParser
from metrics.readers.base import LogFormat, Parser, RecordBuilder
from metrics.readers.registry import register

_TRAIN_KEYS = frozenset({"loss", "lr", "train/loss", "train/lr"})


def split_of(keys: tuple[str, ...]) -> str:
    """``train`` for a line with loss/lr, ``val`` for one with scores (or ``val/`` keys)."""
    if any(k in _TRAIN_KEYS or k.startswith("train/") for k in keys):
        return "train"
    if any(k.startswith("val/") or is_score(k) for k in keys):
        return "val"
    return "train"


def _plain(key: str) -> str:
    head, slash, rest = key.partition("/")
    return rest if slash and head in ("train", "val") and rest else key


class MMSeg1JsonParser(JsonLinesParser):
    """Stateful: the last train step (restarts)."""

    def handle(self, batch: Batch, data: bytes, base: int, out: RecordBuilder) -> None:
        offs = batch.offs
        steps = np.zeros(len(batch), np.int64)
        train = np.zeros(len(batch), bool)
        blocks = []
        for pos, cols in batch.blocks:
            step = int_column(cols.get("step"), len(pos))
            keep = ~np.isnan(step)
            for j in pos[~keep].tolist():
                line = self.line_number(data, int(offs[j]) - base)
                out.bad(line, "no integer 'step'", orjson.dumps(batch.record(j))[:200])
            steps[pos[keep]] = step[keep].astype(np.int64)
            split = split_of(tuple(cols))
            train[pos[keep]] = split == "train"
            blocks.append((pos, cols, keep, split))
        t = np.flatnonzero(train)
        self.track_train_steps(data, offs[t], steps[t], out, base)
        for pos, cols, keep, split in blocks:
            if keep.any():
                emit_columns(
                    out, split, cols, POSITION_KEYS, pos, keep, offs, steps, _plain, _scale
                )


def _scale(name: str, values: np.ndarray) -> np.ndarray:
    return from_percent(values) if is_score(name) else values


class MMSeg1JsonFormat(LogFormat):
    """MMSegmentation 1.x ``scalars.json`` (mmengine ``LocalVisBackend``)."""

    name = "mmseg1-json"
    detect_rank = 120
    canonical_names = ("scalars.json",)  # mmengine also writes an identical <ts>.json
    inner_dirs = "vis_data"
    title = "MMSegmentation 1.x scalars.json"

    def sniff(self, head: bytes, path: str) -> bool:
        first = head.lstrip().split(b"\n", 1)[0]
        if not first.startswith(b"{") or b'"step": ' not in first:
            return False
        if b'"mode": ' in first or b'"iteration": ' in first:
            return False
        return b'"data_time": ' in head or b'"mIoU": ' in head or b'"val/mIoU": ' in head

    def new_parser(self, options: Mapping[str, Any] | None = None) -> Parser:
        return MMSeg1JsonParser()


register(MMSeg1JsonFormat())
