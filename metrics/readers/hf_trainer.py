"""Hugging Face ``Trainer`` ``trainer_state.json``: one JSON document, rewritten at each save.

``log_history`` holds three kinds of entries, each with its ``step`` (the global step):
train (``loss``, ``learning_rate`` → ``lr``, ``grad_norm``, ``epoch``), eval (``eval_*`` keys →
split val: ``eval_mean_iou`` → ``miou``, ``eval_mean_accuracy`` → ``macc``,
``eval_overall_accuracy`` → ``aacc``, ``eval_loss`` → ``loss``, ``eval_iou_<label>`` →
``iou/<label>``, ``eval_accuracy_<label>`` → ``acc/<label>``, the lists
``eval_per_category_iou``/``_accuracy`` → ``iou/<i>``/``acc/<i>`` by class index since the
state has no ``id2label``; others such as ``eval_runtime`` keep their names) and the final
summary (``train_loss``, ``train_runtime`` …) which goes to ``meta.train_summary``.
``evaluate``'s ``mean_iou`` gives fractions, kept as they are. ``max_steps`` → ``planned_steps``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from metrics.readers.base import LogFormat, Parser, RecordBuilder, WholeFileParser
from metrics.readers.mapping import as_number, as_step
from metrics.readers.registry import register
from metrics.schema import AACC, LOSS, LR, MACC, MIOU, acc_metric, iou_metric

EVAL = "eval_"
_EVAL_NAMES = {"mean_iou": MIOU, "mean_accuracy": MACC, "overall_accuracy": AACC, "loss": LOSS}
_TRAIN_NAMES = {"learning_rate": LR}
_EVAL_LISTS = {"per_category_iou": iou_metric, "per_category_accuracy": acc_metric}
_SUMMARY_KEYS = frozenset(("train_runtime", "train_loss"))
_SKIP_KEYS = frozenset(("step", "total_flos"))
_HEAD_RE = re.compile(rb'^\s*\{\s*"[A-Za-z_]+"\s*:')


def eval_metric(key: str) -> str:
    """The tidy name of an ``eval_*`` key (without its list handling)."""
    name = key[len(EVAL) :]
    if name in _EVAL_NAMES:
        return _EVAL_NAMES[name]
    if name.startswith("iou_") and len(name) > 4:
        return iou_metric(name[4:])
    if name.startswith("accuracy_") and len(name) > 9:
        return acc_metric(name[9:])
    return key


class HfTrainerParser(WholeFileParser):
    """Parses the whole ``trainer_state.json`` document."""

    def parse_document(self, data: bytes, out: RecordBuilder) -> None:
        try:
            state = json.loads(data)
        except (ValueError, RecursionError) as exc:
            # a state being rewritten can be caught half-written: report, record nothing
            out.bad(1, f"not a complete JSON document ({exc})", data[:200])
            return
        history = state.get("log_history") if isinstance(state, dict) else None
        if not isinstance(history, list):
            out.bad(1, "no 'log_history' list", data[:200])
            return
        max_steps = state.get("max_steps")
        if isinstance(max_steps, int) and not isinstance(max_steps, bool) and max_steps > 0:
            out.meta.planned_steps = max_steps
        for index, entry in enumerate(history):
            self._parse_entry(index, entry, out)

    def _parse_entry(self, index: int, entry: object, out: RecordBuilder) -> None:
        if not isinstance(entry, dict):
            out.bad(0, f"log_history[{index}] is not an object", json.dumps(entry)[:200])
            return
        step = entry.get("step")
        if not isinstance(step, int) or as_step(step) is None:
            out.bad(0, f"log_history[{index}] has no integer 'step'", json.dumps(entry)[:200])
            return
        if entry.keys() & _SUMMARY_KEYS:
            out.meta.train_summary = {
                k: v for k, v in entry.items() if k not in _SKIP_KEYS and as_number(v) is not None
            }
        elif any(k.startswith(EVAL) for k in entry):
            self._add_eval(index, step, entry, out)
        else:
            for key, value in entry.items():
                number = as_number(value)
                if number is not None and key not in _SKIP_KEYS:
                    out.add(index, step, "train", _TRAIN_NAMES.get(str(key), str(key)), number)

    def _add_eval(
        self, index: int, step: int, entry: Mapping[str, Any], out: RecordBuilder
    ) -> None:
        for key, value in entry.items():
            if not key.startswith(EVAL):
                continue
            list_metric = _EVAL_LISTS.get(key[len(EVAL) :])
            if list_metric is not None and isinstance(value, list):
                for i, item in enumerate(value):
                    number = as_number(item)
                    if number is not None:
                        out.add(index, step, "val", list_metric(str(i)), number)
                continue
            number = as_number(value)
            if number is not None:
                out.add(index, step, "val", eval_metric(key), number)


class HfTrainerFormat(LogFormat):
    """A JSON document with ``log_history`` and ``global_step`` (sorted keys, indent 2)."""

    name = "hf-trainer"
    detect_rank = 100
    canonical_names = ("trainer_state.json",)
    inner_dirs = r"checkpoint-\d+"
    title = "Hugging Face Trainer (trainer_state.json)"
    whole_file = True

    def sniff(self, head: bytes, path: str) -> bool:
        return (
            _HEAD_RE.match(head) is not None
            and b'"log_history":' in head
            and b'"global_step":' in head
        )

    def new_parser(self, options: Mapping[str, Any] | None = None) -> Parser:
        return HfTrainerParser()


register(HfTrainerFormat())
