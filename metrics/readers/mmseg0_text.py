"""MMSegmentation 0.x text log (``<timestamp>.log``), written by mmcv's ``TextLoggerHook``.

``Iter [k/N]\\t lr: …, eta: …`` train lines; ``Iter(val) [n]\\t aAcc: …, mIoU: …, IoU.<c>: …``
val lines (fractions; ``n`` is the val-set size, so they belong to the preceding train line).
The per-class PrettyTable before a val line is percent and only used when the val line has no
``IoU.*`` keys (older 0.x). Epoch-based ``Epoch [e][i/n]`` lines get step ``(e-1)*n + i``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from metrics.readers._mmseg_common import metric_name, split_fields, to_float, utc_seconds
from metrics.readers._mmseg_text import TextLineParser
from metrics.readers._mmseg_text_layout import Dialect
from metrics.readers.base import LogFormat, Parser, RecordBuilder
from metrics.readers.mapping import as_step
from metrics.readers.registry import register
from metrics.readers.textutil import decode

_PREFIX = re.compile(rb"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d),(\d{3}) - \S+ - [A-Z]+ - ")
_SNIFF = re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - mmseg - [A-Z]+ - ", re.M)
_ITER = re.compile(r"Iter \[(\d+)/(\d+)\]\s(.*)")
_EPOCH = re.compile(r"Epoch \[(\d+)\]\[(\d+)/(\d+)\]\s(.*)")
_VAL = re.compile(r"(?:Iter|Epoch)\(val\) (?:\[\d+\])?\[\d+\]\s(.*)")
_TRAIN_SKIP = frozenset({"eta"})
_GROUP_LR = re.compile(r"lr_(\S+): (\S+)")
_ETA = rb"[0-9]+ days?, [0-9]+:[0-9]{2}:[0-9]{2}"  # a timedelta of days: its comma stays
# a field's value: no comma (split_fields cuts there), not blank (the stripped line would
# lose the ": " before it, and split_fields would not cut there)
_VALUE = rb"[!-+\--~][ -+\--~]*"
_NUMBER = rb"[!-+\--^`-~][ -+\--^`-~]*"  # and no "_" (to_float refuses what float() reads)
# train lines read in bulk: _PREFIX and _ITER / _EPOCH on printable ASCII, fields cut as
# split_fields cuts them (the comma of an eta of days is not a cut)
_BULK = Dialect(
    prefix=rb"(?P<year>[0-9]{4})-(?P<stamp>[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2},[0-9]{3})"
    rb" - [!-~]+ - [A-Z]+ - ",
    header=rb"(?:Iter \[(?P<it>[0-9]{1,18})/(?P<max>[0-9]{1,18})\]"
    rb"|Epoch \[(?P<ep>[0-9]{1,9})\]\[(?P<inner>[0-9]{1,9})/(?P<len>[0-9]{1,9})\])[\t ]+",
    tail=rb"[\t ]*\r*(?=\n)",
    fields=re.compile(rb"(, )([!-+\--9;-~]+): (" + _ETA + rb"|" + _VALUE + rb")"),
    sep=b", ",
    join=b", ",
    value=_NUMBER,
    eta=rb"(?:" + _ETA + rb"|" + _VALUE + rb")",
    markers=(b"Iter [", b"Epoch ["),
    clock=((0, 2), (3, 2), (6, 2), (9, 2), (12, 2), (15, 3)),
    slow_keys=("lr_",),
)


class MMSeg0TextParser(TextLineParser):
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
        if not msg.startswith(("Iter", "Epoch")):
            return
        y, mo, d, h, mi, s, ms = (int(g) for g in m.groups())
        wall = utc_seconds(y, mo, d, h, mi, s) + ms / 1000.0
        if msg.startswith(("Iter(val)", "Epoch(val)")):
            self._val(msg, off, line_no, wall, out)
        elif msg.startswith(("Iter [", "Epoch [")):
            self._train(msg, off, line_no, wall, out)

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
        values = _numbers(rest, _TRAIN_SKIP)
        if not values:
            out.bad(line_no, "train line without numbers", msg)
            return
        self.train_step(step, off, line_no, out)
        for name, value in values:
            out.add(off, step, "train", name, value, wall)

    def _val(self, msg: str, off: int, line_no: int, wall: float, out: RecordBuilder) -> None:
        m = _VAL.match(msg)
        values = _numbers(m.group(1), frozenset({"lr"})) if m else []
        if not values:
            out.bad(line_no, "val line without numbers", msg)
            return
        step = self.last_train_step if self.last_train_step is not None else 0
        for name, value in values:
            out.add(off, step, "val", name, value, wall)
        has_per_class = any(name.startswith("iou/") for name, _ in values)
        self.emit_table(out, step, off, wall, values_too=not has_per_class)


def _numbers(text: str, skip: frozenset[str]) -> list[tuple[str, float]]:
    """The numeric ``key: value`` fields of a line, under canonical names."""
    found: list[tuple[str, float]] = []
    first_lr = True
    for key, raw in split_fields(text):
        if key.startswith("lr_"):  # ``lr_<group>: v lr_<group>: v``, space-joined; first is ``lr``
            for group, lr in _GROUP_LR.findall(f"{key}: {raw}"):
                value = to_float(lr)
                if value is not None:
                    found.extend([("lr", value)] if first_lr else [])
                    found.append((f"lr/{group}", value))
                    first_lr = False
            continue
        value = to_float(raw)
        if key not in skip and value is not None:
            found.append((metric_name(key), value))
    return found


class MMSeg0TextFormat(LogFormat):
    """MMSegmentation 0.x text log (``*.log``)."""

    name = "mmseg0-text"
    detect_rank = 310
    title = "MMSegmentation 0.x text log"

    def sniff(self, head: bytes, path: str) -> bool:
        return _SNIFF.search(head) is not None

    def new_parser(self, options: Mapping[str, Any] | None = None) -> Parser:
        return MMSeg0TextParser()


register(MMSeg0TextFormat())
