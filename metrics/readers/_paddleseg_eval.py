"""PaddleSeg ``[EVAL]`` blocks: the summary, per-class numpy arrays over several lines, "best" line.

An eval is held until its block ends (the "best ... saved at iter N" line, the next train line,
the next eval, or the end of a full read), because the "best" line names the exact iteration
when evaluation ran between two train lines. The state lives here, so a block cut across
chunks reads the same as one read whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from metrics.readers._paddleseg_common import EVAL_TAG, prefix_time, to_float
from metrics.readers.base import RecordBuilder
from metrics.schema import AACC, ACC_PREFIX, IOU_PREFIX, MIOU

# a key starts after a non-word byte: findall stays linear on a long garbled line
_SUMMARY_FIELD = re.compile(rb"(?<![\w#])(#?\w+)(?:: ?|=)(\S+)")
_BEST = re.compile(
    rb"The (EMA )?model with the best validation mIoU \((\S+)\) was saved at iter (\d+)"
)
_CLASS = re.compile(rb"Class (IoU|Acc|Precision|Recall):")
_ARRAY_CHARS = b"-+0123456789eE.naif \t\r\n"
_MAX_ARRAY_BYTES = 1 << 20

SUMMARY_NAMES = {b"mIoU": MIOU, b"Acc": AACC, b"Kappa": "kappa", b"Dice": "dice"}
CLASS_PREFIX = {
    b"IoU": IOU_PREFIX,
    b"Acc": ACC_PREFIX,
    b"Precision": "precision/",
    b"Recall": "recall/",
}

LineNumber = Callable[[bytes, int], int]


@dataclass
class _Pending:
    offset: int
    step: int
    wall: float
    prefix: str  # "ema_" for the EMA model's eval right after the model's own
    miou: bytes | None
    names: list[str]
    values: list[float]
    arrays: list[tuple[str, int]] = field(default_factory=list)  # (prefix, class count)


@dataclass
class _Array:
    pos: int  # of its header in the current chunk; the line number is worked out when needed
    line: int | None
    prefix: str
    text: bytes = b""


class EvalBlocks:
    """Turns eval blocks into ``val`` records attached to their training iteration."""

    def __init__(self) -> None:
        self.pending: _Pending | None = None
        self.array: _Array | None = None
        self.trains_seen = 0  # train lines before the current chunk
        self.summary_trains = -1  # train lines seen before the last summary
        self.done: dict[tuple[object, ...], list[tuple[int, int, float, list[float]]]] = {}

    def parse(
        self,
        data: bytes,
        offset: int,
        eval_pos: np.ndarray,
        train_pos: np.ndarray,
        train_step: np.ndarray,
        prev_step: int | None,
        out: RecordBuilder,
        line_number: LineNumber,
    ) -> None:
        """Read the eval lines (tags at ``eval_pos``) of one chunk and its train lines'
        positions and steps."""
        pos = self._array_text(data, 0, out, line_number) if self.array else 0
        found = eval_pos[eval_pos >= pos]
        befores = np.searchsorted(train_pos, found).tolist()
        for at, before in zip(found.tolist(), befores, strict=True):
            trains = self.trains_seen + before
            if self.pending and trains > self.summary_trains:
                self.flush()
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end
            body = data[at + len(EVAL_TAG) : end].rstrip(b"\r")
            if body.startswith(b"#Images"):
                step = int(train_step[before - 1]) if before else prev_step
                self._summary(data, at, offset, body, step, trains, out, line_number)
            elif (cls := _CLASS.match(body)) is not None:
                self.array = _Array(at, None, CLASS_PREFIX[cls.group(1)])
                self._array_text(data, end + 1, out, line_number)
            elif (best := _BEST.match(body)) is not None:
                self._best(best, out)
        self.trains_seen += len(train_pos)
        if self.array is not None and self.array.line is None:  # carried to the next chunk
            self.array.line = line_number(data, self.array.pos)
        if self.pending and self.trains_seen > self.summary_trains:
            self.flush()
        self.emit(out)

    def flush(self) -> None:
        """Close the held eval (its block ended); ``emit`` adds it to the records."""
        p, self.pending = self.pending, None
        if p is not None and p.values:
            key = (p.prefix, *p.names, *p.arrays)
            self.done.setdefault(key, []).append((p.offset, p.step, p.wall, p.values))

    def emit(self, out: RecordBuilder) -> None:
        """Add the closed evals to ``out``, one array per metric (evals share their names)."""
        for key, evals in self.done.items():
            prefix, names = str(key[0]), [str(k) for k in key[1:] if isinstance(k, str)]
            for cls_prefix, count in (k for k in key[1:] if isinstance(k, tuple)):
                names += [f"{cls_prefix}{i}" for i in range(count)]
            offsets, steps, walls, rows = zip(*evals, strict=True)
            values = np.array(rows, np.float64)
            offs, steps_, walls_ = np.array(offsets), np.array(steps), np.array(walls, np.float64)
            for j, name in enumerate(names):
                out.add_many("val", prefix + name, offs, steps_, values[:, j], walls_)
        self.done.clear()

    def _summary(
        self,
        data: bytes,
        at: int,
        offset: int,
        body: bytes,
        step: int | None,
        trains: int,
        out: RecordBuilder,
        line_number: LineNumber,
    ) -> None:
        names: list[str] = []
        values: list[float] = []
        miou = None
        for key, text in _SUMMARY_FIELD.findall(body):
            if key == b"#Images":
                if text.isdigit():
                    out.meta.val_images = int(text)
                continue
            try:
                values.append(to_float(text))
            except ValueError:
                out.bad(line_number(data, at), f"eval field {key.decode()} is not a number", body)
                return
            miou = text if key == b"mIoU" else miou
            names.append(SUMMARY_NAMES.get(key) or key.decode().lower())
        self.flush()
        prefix = "ema_" if trains == self.summary_trains else ""  # no training since: EMA model
        self.summary_trains = trains
        wall, _ = prefix_time(data[max(0, at - 40) : at])
        step = 0 if step is None else step
        self.pending = _Pending(offset + at, step, wall, prefix, miou, names, values)

    def _best(self, best: re.Match[bytes], out: RecordBuilder) -> None:
        ema, text, iteration = best.groups()
        p = self.pending
        try:
            value: float | None = to_float(text)
        except ValueError:  # a garbled line: it names no best value
            value = None
        if ema is None and value is not None:
            out.meta.best_miou = value
            out.meta.best_step = int(iteration)
            # the eval just held is the new best: the line names its exact iteration
            if p is not None and not p.prefix and p.miou == text and int(iteration) > p.step:
                p.step = int(iteration)
        self.flush()

    def _array_text(
        self, data: bytes, pos: int, out: RecordBuilder, line_number: LineNumber
    ) -> int:
        """Collect the open per-class array from ``pos`` up to its ``]``; returns where it ends."""
        a = self.array
        if a is None or pos >= len(data):
            return pos
        close = data.find(b"]", pos)
        end = len(data) if close < 0 else data.find(b"\n", close)
        end = len(data) if end < 0 else end
        text = data[pos:end]
        if not _array_like(text, first=not a.text) or len(a.text) + len(text) > _MAX_ARRAY_BYTES:
            where = a.line if a.line is not None else line_number(data, a.pos)
            out.bad(where, "per-class array cut short", data[pos : pos + 200].split(b"\n")[0])
            self.array = None
            return pos
        a.text += text + b"\n"
        if close >= 0:
            self.array = None
            tokens = a.text.replace(b"[", b" ").replace(b"]", b" ").split()
            try:
                values = list(map(float, tokens))
            except ValueError:
                where = a.line if a.line is not None else line_number(data, a.pos)
                out.bad(where, "per-class array has a non-number", a.text)
                return end + 1
            if self.pending is not None and values:
                self.pending.values.extend(values)
                self.pending.arrays.append((a.prefix, len(values)))
        return min(end + 1, len(data))


def _array_like(text: bytes, first: bool) -> bool:
    """Whether ``text`` is (a piece of) numpy's print of a 1-D array: ``[0.9271 0.     nan]``."""
    body = text.lstrip(b" \t")
    if first:
        if not body.startswith(b"["):
            return False
        body = body[1:]
    close = body.find(b"]")
    if close >= 0:
        if body[close + 1 :].strip(b" \t\r"):
            return False
        body = body[:close]
    return not body.translate(None, _ARRAY_CHARS)
