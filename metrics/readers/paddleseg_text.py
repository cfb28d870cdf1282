"""PaddleSeg's captured stdout (``train.log``, ``workerlog.0``, ``trainer-0.log``).

``[TRAIN] epoch: E, iter: k/N, loss: …, lr: …, batch_cost: …`` (``key=value`` in v2.0) → ``loss``,
``lr`` and every other number under its own name (``batch_cost``, ``reader_cost``, ``ips``,
``max_mem_*``) at step ``k``. ``epoch`` is not a record: it is ``(k-1) // iters_per_epoch + 1``,
a staircase of ``k`` that would add a sixth of the table and say nothing new; the last one
goes to ``meta.last_epoch``. ``[EVAL]`` summaries and per-class arrays → ``val`` records
(fractions, as printed) at the iteration of the train line before them. Launches appended to
one file (the iteration goes back) become restarts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from metrics.readers._paddleseg_common import EVAL_TAG, TRAIN_TAG
from metrics.readers._paddleseg_eval import EvalBlocks
from metrics.readers._paddleseg_train import find_tags, read_train_lines
from metrics.readers.base import LineParser, LogFormat, Parsed, Parser, RecordBuilder
from metrics.readers.registry import register

_SNIFF = re.compile(
    rb"\[TRAIN\] epoch(?:: |=)\d+, iter(?:: |=)\d+/\d+, "
    rb"|\[EVAL\] #Images(?:: |=)\d+ mIoU(?:: |=)"
)


class PaddleSegTextParser(LineParser):
    """Reads train lines in bulk (numpy) and eval blocks line by line, keeping eval state."""

    def __init__(self) -> None:
        super().__init__()
        self.evals = EvalBlocks()

    def parse_lines(self, data: bytes, offset: int, out: RecordBuilder) -> None:
        train_tags, eval_tags = find_tags(data, (TRAIN_TAG, EVAL_TAG))
        rows = read_train_lines(data, train_tags)
        for pos, reason in rows.bad:
            end = data.find(b"\n", pos)
            out.bad(self.line_number(data, pos), reason, data[pos : end if end >= 0 else None])
        prev_step = self.last_train_step
        offsets = rows.start + offset
        self.evals.parse(
            data, offset, eval_tags, rows.tag, rows.step, prev_step, out, self.line_number
        )
        for name, (idx, values) in rows.values.items():
            out.add_many("train", name, offsets[idx], rows.step[idx], values, rows.wall[idx])
        self.track_train_steps(data, offsets, rows.step, out, offset)
        if rows.planned is not None:
            out.meta.planned_steps = rows.planned
        if rows.epoch is not None:
            out.meta.last_epoch = rows.epoch

    def finish(self, data: bytes, offset: int) -> Parsed:
        out = RecordBuilder()
        self.evals.flush()  # an eval block the file ends in
        self.evals.emit(out)
        return out.build()


class PaddleSegText(LogFormat):
    """PaddleSeg 2.x/develop text logs, recognised by their train or eval lines."""

    name = "paddleseg"
    detect_rank = 300
    title = "PaddleSeg text log (train.log, workerlog.N)"

    def sniff(self, head: bytes, path: str) -> bool:
        return _SNIFF.search(head) is not None

    def new_parser(self, options: Mapping[str, Any] | None = None) -> Parser:
        return PaddleSegTextParser()


register(PaddleSegText())
