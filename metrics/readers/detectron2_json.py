"""Detectron2 ``metrics.json``: ``JSONWriter`` lines, one per iteration, keys sorted.

Train scalars (no ``/`` in the key) go to split train, ``total_loss`` as ``loss`` and every
other key (``loss_ce``, ``lr``, ``time``, ``data_time``, ``eta_seconds`` …) by its own name.
Evaluation keys (``<task>/<metric>``) go to val: ``sem_seg/mIoU``, ``mACC``, ``pACC``, ``fwIoU``,
``IoU-<c>``, ``ACC-<c>`` become ``miou``, ``macc``, ``aacc``, ``fwiou``, ``iou/<c>``, ``acc/<c>``
divided by 100 (detectron2 prints percent); other keys (``segm/AP`` …) keep name and unit.

Steps are 1-based like the other frameworks: ``step = iteration + 1``, so the train line of
iteration 19 is step 20 and a periodic eval at ``k*period - 1`` lands on ``k*period``. The final
eval runs after training with ``iteration == max_iter``, in an eval-only line right after the
last train line (iteration ``max_iter - 1``, whose ``eta_seconds`` is 0 when present): it is
reported at ``max_iter``, the step of that last train line, not ``max_iter + 1``. Appended
launches (the file is opened in append mode) show up as a train step going back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from metrics.readers._detectron2_bulk import Lines, read_lines, records
from metrics.readers.base import LogFormat, Parsed, Parser, PerLineParser, RecordBuilder
from metrics.readers.mapping import as_number, as_step
from metrics.readers.registry import register
from metrics.schema import AACC, LOSS, MACC, MIOU, acc_metric, iou_metric

SEM_SEG = "sem_seg/"
_SEM_SEG_SUMMARY = {"mIoU": MIOU, "mACC": MACC, "pACC": AACC, "fwIoU": "fwiou"}
#: Train keys only detectron2's writers produce; one of them marks a metrics.json.
MARKER_KEYS = frozenset(("total_loss", "data_time", "eta_seconds", "rank_data_time"))


def load_line(raw: bytes) -> dict[str, Any] | None:
    """The JSON object on one line (bare ``NaN`` allowed), or None."""
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


def eval_metric(key: str) -> tuple[str, bool]:
    """The tidy name of an evaluation key and whether its value is percent to divide by 100."""
    if key.startswith(SEM_SEG):
        name = key[len(SEM_SEG) :]
        if name in _SEM_SEG_SUMMARY:
            return _SEM_SEG_SUMMARY[name], True
        if name.startswith("IoU-"):
            return iou_metric(name[4:]), True
        if name.startswith("ACC-"):
            return acc_metric(name[4:]), True
    return key, False


class Detectron2Parser(PerLineParser):
    """Parses ``metrics.json`` lines; keeps the last train iteration to place the final eval."""

    parse_unterminated_tail = True
    #: read lines in bulk (off: each by ``parse_line``, the path the bulk one must match)
    bulk: ClassVar[bool] = True
    #: bytes of lines read in bulk at once (their parsed objects are held together)
    batch_bytes: ClassVar[int] = 1 << 20

    def __init__(self) -> None:
        super().__init__()
        self.last_train_iter: int | None = None
        self.last_eta: float | None = None
        self._fields: dict[tuple[str, ...], list[tuple[str, str, str, bool]]] = {}

    def parse_lines(self, data: bytes, offset: int, out: RecordBuilder) -> None:
        if not self.bulk:
            super().parse_lines(data, offset, out)
            return
        pos, before = 0, self.lines_before
        while pos < len(data):  # batches of lines: their parsed objects held at once
            end = data.rfind(b"\n", pos, pos + self.batch_bytes) + 1
            if end <= pos:  # a line longer than a batch
                end = data.find(b"\n", pos) + 1 or len(data)
            before = self._batch(data[pos:end], offset + pos, before, out)
            pos = end

    def _batch(self, data: bytes, offset: int, before: int, out: RecordBuilder) -> int:
        """Parse ``data`` (whole lines) after line ``before``; returns the last line's number."""
        lines = data.split(b"\n")
        if not lines[-1]:
            lines.pop()
        starts = np.zeros(len(lines) + 1, np.int64)
        np.cumsum(np.fromiter(map(len, lines), np.int64, len(lines)) + 1, out=starts[1:])
        found = read_lines(lines, load_line)
        for i, reason in found.bad:
            out.bad(before + i + 1, reason, lines[i])
        steps = self._steps(found, starts.tolist(), offset, before, out)
        series, obj, code, value = records(found, self._fields_of)
        if len(obj):
            at = np.array(found.line, np.int64)[obj]
            out.add_rows(series, code, starts[at] + offset, np.array(steps, np.int64)[obj], value)
        return before + len(lines)

    def _steps(
        self, found: Lines, starts: list[int], offset: int, before: int, out: RecordBuilder
    ) -> list[int]:
        """Each record line's step, in line order, noting relaunches and the final eval."""
        steps = []
        eta_of: dict[str, Any] | None = None  # the last train line here: its eta when needed
        for j, (iteration, train) in enumerate(zip(found.iteration, found.train(), strict=True)):
            step = iteration + 1
            if train:
                if self.last_train_step is not None and step < self.last_train_step:
                    line = found.line[j]
                    out.restart(offset + starts[line], step, before + line + 1)
                self.last_train_step = step
                self.last_train_iter = iteration
                eta_of = found.objs[j]
            else:
                if eta_of is not None:
                    self.last_eta, eta_of = as_number(eta_of.get("eta_seconds")), None
                if self._is_final_eval(iteration):
                    step = iteration
                    out.meta.ended = True  # the evaluation hook's after-training test
            steps.append(step)
        if eta_of is not None:
            self.last_eta = as_number(eta_of.get("eta_seconds"))
        return steps

    def _fields_of(self, keys: tuple[str, ...]) -> list[tuple[str, str, str, bool]]:
        """(key, split, metric, percent) of a key sequence's records, in ``parse_line`` order."""
        fields = self._fields.get(keys)
        if fields is None:
            train = [
                (k, "train", LOSS if k == "total_loss" else k, False)
                for k in keys
                if "/" not in k and k != "iteration"
            ]
            evals = [(k, "val", *eval_metric(k)) for k in keys if "/" in k]
            fields = self._fields[keys] = train + evals
        return fields

    def finish(self, data: bytes, offset: int) -> Parsed:
        # a growing file's last line may be cut short: parse it only if it is whole JSON
        if load_line(data) is None:
            return RecordBuilder().build()
        return super().finish(data, offset)

    def parse_line(self, raw: bytes, offset: int, line_no: int, out: RecordBuilder) -> None:
        obj = load_line(raw)
        if obj is None:
            out.bad(line_no, "not a JSON object", raw)
            return
        iteration = obj.get("iteration")
        if not isinstance(iteration, int) or as_step(iteration) is None:
            out.bad(line_no, "no integer 'iteration'", raw)
            return
        train = [(k, v) for k, v in obj.items() if "/" not in k and k != "iteration"]
        evals = [(k, v) for k, v in obj.items() if "/" in k]
        step = iteration + 1
        if train:
            if self.last_train_step is not None and step < self.last_train_step:
                out.restart(offset, step, line_no)
            self.last_train_step = step
            self.last_train_iter = iteration
            self.last_eta = as_number(obj.get("eta_seconds"))
            for key, value in train:
                number = as_number(value)
                if number is not None:
                    out.add(offset, step, "train", LOSS if key == "total_loss" else key, number)
        elif self._is_final_eval(iteration):
            step = iteration
            out.meta.ended = True  # the evaluation hook's after-training test
        for key, value in evals:
            number = as_number(value)
            if number is not None:
                metric, percent = eval_metric(key)
                out.add(offset, step, "val", metric, number / 100.0 if percent else number)

    def _is_final_eval(self, iteration: int) -> bool:
        """An eval-only line right after the last train line (``eta_seconds`` 0 or absent)."""
        return self.last_train_iter == iteration - 1 and (
            self.last_eta is None or self.last_eta == 0.0
        )


class Detectron2Format(LogFormat):
    """JSON lines with an integer ``iteration`` and detectron2's train keys."""

    name = "detectron2"
    detect_rank = 130
    canonical_names = ("metrics.json",)
    title = "Detectron2 metrics.json"

    def sniff(self, head: bytes, path: str) -> bool:
        lines = [raw for raw in head.split(b"\n", 50)[:50] if raw.strip()]
        if not lines:
            return False
        first = load_line(lines[0])  # most JSON logs are told apart by their first line alone
        if first is None or not isinstance(first.get("iteration"), int):
            return False
        return any(
            (obj := load_line(raw)) is not None and obj.keys() & MARKER_KEYS for raw in lines
        )

    def new_parser(self, options: Mapping[str, Any] | None = None) -> Parser:
        return Detectron2Parser()


register(Detectron2Format())
