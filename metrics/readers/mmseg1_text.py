"""MMSegmentation 1.x text log (``<timestamp>.log``), written by mmengine's logger.

``Iter(train) [  8/400]  lr: …  eta: …  loss: …`` (two-space separators) train lines;
``Iter(val) [11/11]    aAcc: 96.5700  mIoU: 71.9000 …`` val summaries in percent (stored as
fractions) that belong to the last train iteration; the per-class table ``| Class | IoU | Acc |``
printed just before is the only per-class IoU of MMSeg 1.x. ``Iter(val) [ 50/500]`` progress
lines carry no metrics and are skipped. Console copies (``MM/DD`` stamps) get NaN wall times.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from metrics.readers._mmseg_common import is_score, metric_name, to_float, utc_seconds
from metrics.readers._mmseg_text import TextLineParser
from metrics.readers._mmseg_text_layout import Dialect
from metrics.readers.base import LogFormat, Parser, RecordBuilder
from metrics.readers.mapping import as_step
from metrics.readers.registry import register
from metrics.readers.textutil import decode, strip_ansi

_PREFIX = re.compile(rb"(?:(\d{4})/)?(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d) - \S+ - \S+ - ")
_SNIFF = re.compile(rb"^(?:\d{4}/)?\d\d/\d\d \d\d:\d\d:\d\d - mmengine - ", re.M)
_ITER = re.compile(r"Iter\(train\)\s+\[\s*(\d+)/(\d+)\]\s+(.*)")
_EPOCH = re.compile(r"Epoch\(train\)\s+\[\s*(\d+)\]\[\s*(\d+)/(\d+)\]\s+(.*)")
_VAL = re.compile(r"(?:Iter|Epoch)\(val\)\s+(?:\[\s*\d+\])?\[\s*\d+/\s*\d+\]\s+(.*)")
_BEST = re.compile(r"The best checkpoint with ([-+\d.eE]+|nan) (\S+) at (\d+) (iter|epoch)")
_FIELDS = re.compile(r"\s{2,}")
_PROGRESS_KEYS = frozenset({"eta", "time", "data_time", "memory"})
_WORDS = rb"[!-~]+(?: [!-~]+)*"  # a field's value: no two spaces in a row
_NUMBER = rb"[!-^`-~]+(?: [!-^`-~]+)*"  # and no "_" (to_float refuses what float() reads)
_PROGRESS = rb"(?:eta|time|data_time|memory): " + _WORDS
# train lines read in bulk: _PREFIX and _ITER / _EPOCH on printable ASCII, fields cut as
# _numbers cuts them; "quiet": a val progress line (only progress keys: it ends a table)
_BULK = Dialect(
    prefix=rb"(?:(?P<year>[0-9]{4})/)?(?P<stamp>[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2})"
    rb" - [!-~]+ - [!-~]+ - ",
    header=rb"(?:Iter\(train\) +\[ *(?P<it>[0-9]{1,18})/(?P<max>[0-9]{1,18})\]"
    rb"|Epoch\(train\) +\[ *(?P<ep>[0-9]{1,9})\]\[ *(?P<inner>[0-9]{1,9})/(?P<len>[0-9]{1,9})\]) +",
    tail=rb" *\r*(?=\n)",
    fields=re.compile(rb"(  +)([!-9;-~]+): (" + _WORDS + rb")"),
    sep=b"  ",
    join=b"  +",
    value=_NUMBER,
    eta=_WORDS,
    markers=(b"Iter(train)", b"Epoch(train)"),
    clock=((0, 2), (3, 2), (6, 2), (9, 2), (12, 2)),
    quiet=rb"(?:Iter|Epoch)\(val\) +(?:\[ *[0-9]+\])?\[ *[0-9]+/ *[0-9]+\] +"
    rb"(?P<quiet>" + _PROGRESS + rb"(?:  +" + _PROGRESS + rb")*)",
)


class MMSeg1TextParser(TextLineParser):
    """Stateful: the last train step, the pending per-class table."""

    dialect = _BULK

    def line(self, raw: bytes, off: int, line_no: int, out: RecordBuilder) -> None:
        m = _PREFIX.match(raw)
        if m is None:
            self.unprefixed(raw)
            return
        msg = decode(raw[m.end() :]).strip()
        if msg == "per class results:":
            self.table.start()
            return
        if msg:
            self.table.stop()
        y, mo, d, h, mi, s = m.groups()
        wall = utc_seconds(int(y), int(mo), int(d), int(h), int(mi), int(s)) if y else float("nan")
        if msg.startswith(("Iter(train)", "Epoch(train)")):
            self._train(msg, off, line_no, wall, out)
        elif msg.startswith(("Iter(val)", "Epoch(val)")):
            self._val(msg, off, line_no, wall, out)
        elif msg.startswith("The best checkpoint with"):
            self._best(msg, out)

    def _train(self, msg: str, off: int, line_no: int, wall: float, out: RecordBuilder) -> None:
        it = _ITER.match(msg)
        ep = None if it else _EPOCH.match(msg)
        if it:
            step, rest = int(it.group(1)), it.group(3)
            out.meta.planned_steps = int(it.group(2))
        elif ep:
            e, i, n = int(ep.group(1)), int(ep.group(2)), int(ep.group(3))
            step, rest = (e - 1) * n + i, ep.group(4)
        else:
            out.bad(line_no, "train line without [iter/max]", msg)
            return
        if as_step(step) is None:
            out.bad(line_no, "iteration out of range", msg)
            return
        values = _numbers(rest)
        if not values:
            out.bad(line_no, "train line without numbers", msg)
            return
        self.train_step(step, off, line_no, out)
        for key, value in values:
            out.add(off, step, "train", metric_name(key), value, wall)

    def _val(self, msg: str, off: int, line_no: int, wall: float, out: RecordBuilder) -> None:
        m = _VAL.match(msg)
        values = _numbers(m.group(1)) if m else []
        if all(key in _PROGRESS_KEYS for key, _ in values):
            if m is None:
                out.bad(line_no, "val line without [n/N]", msg)
            return  # a progress line (or an empty summary): no metrics
        step = self.last_train_step if self.last_train_step is not None else 0
        for key, value in values:
            scaled = round(value / 100.0, 12) if is_score(key) else value
            out.add(off, step, "val", metric_name(key), scaled, wall)
        self.emit_table(out, step, off, wall)

    def _best(self, msg: str, out: RecordBuilder) -> None:
        m = _BEST.search(msg)
        if m is None:
            return
        value, key = to_float(m.group(1)), m.group(2)
        if value is None:
            return
        out.meta.best_checkpoint = {
            "metric": metric_name(key),
            "value": round(value / 100.0, 12) if is_score(key) else value,
            "step": int(m.group(3)),
            "unit": m.group(4),
        }


def _numbers(text: str) -> list[tuple[str, float]]:
    """The numeric ``key: value`` fields of a line (``eta`` and other text dropped)."""
    found = []
    for piece in _FIELDS.split(text.strip()):
        key, sep, raw = piece.partition(": ")
        value = to_float(raw.strip()) if sep else None
        if value is not None and key != "eta":
            found.append((key.strip(), value))
    return found


class MMSeg1TextFormat(LogFormat):
    """MMSegmentation 1.x text log (mmengine)."""

    name = "mmseg1-text"
    detect_rank = 320
    title = "MMSegmentation 1.x text log"

    def sniff(self, head: bytes, path: str) -> bool:
        return _SNIFF.search(strip_ansi(head)) is not None

    def new_parser(self, options: Mapping[str, Any] | None = None) -> Parser:
        return MMSeg1TextParser()


register(MMSeg1TextFormat())
