"""MMSegmentation 0.x ``<timestamp>.log.json``: mmcv's ``TextLoggerHook`` JSON lines.

Line 1 is run metadata (``env_info``, ``config``, ``CLASSES``…), then ``"mode": "train"``
records (``iter`` = training iteration) and ``"mode": "val"`` records whose ``iter`` is the
val-set size, so a val record is attached to the last train iteration before it. Scores are
fractions. Epoch-based runs log the inner iteration of each epoch: their step is the sum of
the last logged inner iteration of every earlier epoch plus the inner iteration (exact when
the loader length is a multiple of the log interval; the JSON does not record that length).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson

from metrics.readers._mmseg_common import POSITION_KEYS, emit_columns, int_column
from metrics.readers._mmseg_jsonl import Batch, JsonLinesParser
from metrics.readers.base import LogFormat, Parser, RecordBuilder
from metrics.readers.registry import register

_MAX_ITERS = re.compile(r"\bmax_iters\s*=\s*(\d+)")
_META_KEYS = ("env_info", "config", "CLASSES", "mmseg_version", "exp_name")
_SKIP = {"train": POSITION_KEYS, "val": POSITION_KEYS | {"lr"}}


def _meta_rows(batch: Batch, kind: np.ndarray) -> np.ndarray:
    """Which non-records are the run-metadata line (not malformed)."""
    meta = np.zeros(len(kind), bool)
    for j in np.flatnonzero(kind == 0).tolist():
        rec = batch.record(j)
        meta[j] = "mode" not in rec and any(k in rec for k in _META_KEYS)
    return meta


class MMSeg0JsonParser(JsonLinesParser):
    """Stateful: the last train step (for val records) and the epoch bookkeeping."""

    def __init__(self) -> None:
        super().__init__()
        self.by_epoch = False
        self.epoch: int | None = None
        self.inner = 0
        self.epoch_base = 0

    def handle(self, batch: Batch, data: bytes, base: int, out: RecordBuilder) -> None:
        n, offs, blocks = len(batch), batch.offs, batch.blocks
        kind = np.zeros(n, np.int8)  # 1 train, 2 val, 0 not a record
        iters = np.full(n, np.nan)
        epochs = np.full(n, np.nan)
        for pos, cols in blocks:
            modes = cols.get("mode")
            if modes is None:  # the run-metadata line (or a malformed one, reported below)
                for j in pos.tolist() if any(k in cols for k in _META_KEYS) else ():
                    self._meta(batch.record(j), out)
                continue
            mode = np.array(modes, object)
            kind[pos] = np.where(mode == "train", 1, np.where(mode == "val", 2, 0))
            iters[pos] = int_column(cols.get("iter"), len(pos))
            epochs[pos] = int_column(cols.get("epoch"), len(pos))
        bad = ((kind == 1) & np.isnan(iters)) | ((kind == 0) & ~_meta_rows(batch, kind))
        for j in np.flatnonzero(bad).tolist():
            reason = "train record without integer 'iter'" if kind[j] else "no 'mode' train/val"
            text = orjson.dumps(batch.record(j))[:200]
            out.bad(self._line(data, offs[j], base), reason, text)
        kind[bad] = 0
        steps = self._steps(kind, iters, epochs)
        t = np.flatnonzero(kind == 1)
        self.track_train_steps(data, offs[t], steps[t], out, base)
        for pos, cols in blocks:
            for code, split in ((1, "train"), (2, "val")):
                keep = kind[pos] == code
                if keep.any():
                    skip = _SKIP[split]
                    emit_columns(out, split, cols, skip, pos, keep, offs, steps, str)

    def _steps(self, kind: np.ndarray, iters: np.ndarray, epochs: np.ndarray) -> np.ndarray:
        """Train steps from ``iter`` (or epochs); val records take the last train step."""
        steps = np.zeros(len(kind), np.int64)
        t = np.flatnonzero(kind == 1)
        if len(t):
            ep = np.where(np.isnan(epochs[t]), -1, epochs[t]).astype(np.int64)
            steps[t] = self._train_steps(ep, iters[t].astype(np.int64))
        idx = np.where(kind == 1, np.arange(len(kind)), -1)
        np.maximum.accumulate(idx, out=idx)
        v = np.flatnonzero(kind == 2)
        before = self.last_train_step if self.last_train_step is not None else 0
        steps[v] = np.where(idx[v] >= 0, steps[np.maximum(idx[v], 0)], before)
        return steps

    def _train_steps(self, ep: np.ndarray, inner: np.ndarray) -> np.ndarray:
        """Steps of train lines in file order, line by line as a live read meets them: ``iter``
        until a line shows an epoch-based runner (``iter`` restarts as ``epoch`` grows), then
        the epoch base (last ``iter`` of every earlier epoch, always kept) plus ``iter``."""
        known = np.where(ep >= 0, np.arange(len(ep)), -1)
        np.maximum.accumulate(known, out=known)
        seed = -1 if self.epoch is None else self.epoch  # the last epoch seen so far
        upto = np.where(known >= 0, ep[np.maximum(known, 0)], seed)
        prev_e = np.concatenate(([seed], upto[:-1]))
        prev_i = np.concatenate(([self.inner], inner[:-1]))
        grew = (ep >= 0) & (prev_e >= 0) & (ep > prev_e)
        base = self.epoch_base + np.cumsum(np.where(grew, prev_i, 0))
        trigger = np.flatnonzero(grew & (inner <= prev_i))
        on = 0 if self.by_epoch else (int(trigger[0]) if len(trigger) else len(ep))
        self.by_epoch = on < len(ep)
        self.epoch = None if upto[-1] < 0 else int(upto[-1])
        self.inner, self.epoch_base = int(inner[-1]), int(base[-1])
        out: np.ndarray = np.where(np.arange(len(ep)) >= on, base + inner, inner)
        return out

    def _meta(self, rec: dict[str, Any], out: RecordBuilder) -> None:
        classes = rec.get("CLASSES")
        if isinstance(classes, list) and all(isinstance(c, str) for c in classes):
            out.meta.class_names = list(classes)
        config = rec.get("config")
        if isinstance(config, str):
            found = _MAX_ITERS.findall(config)
            if found:
                out.meta.planned_steps = int(found[-1])

    def _line(self, data: bytes, off: int, base: int) -> int:
        return self.line_number(data, int(off) - base)


class MMSeg0JsonFormat(LogFormat):
    """MMSegmentation 0.x JSON log (``*.log.json``)."""

    name = "mmseg0-json"
    detect_rank = 110
    title = "MMSegmentation 0.x JSON log"

    def sniff(self, head: bytes, path: str) -> bool:
        text = head.lstrip()
        if not text.startswith(b"{"):
            return False
        return (
            b'"mode": "train"' in head
            or b'"mode": "val"' in head
            or text.startswith(b'{"env_info": ')
        )

    def new_parser(self, options: Mapping[str, Any] | None = None) -> Parser:
        return MMSeg0JsonParser()


register(MMSeg0JsonFormat())
