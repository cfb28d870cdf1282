"""TensorBoard tags → tidy (split, metric, unit), on top of the shared column rules.

:mod:`metrics.readers.mapping` gives the split (``train/``, ``val_``, ``eval/`` … prefixes;
quality metrics without one are val) and the canonical names (``mIoU`` → ``miou``). Added here:

* Detectron2's ``sem_seg/*`` (and PaddleSeg's ``Evaluate/*``) are validation; every
  ``sem_seg/*`` value is percent (``100 *`` in ``sem_seg_evaluation.py``).
* MMSeg's ``mIoU``/``aAcc``/``mAcc``/``IoU.*``/``Acc.*`` are percent only once the file has shown
  MMSeg 1.x (mmengine) keys before them — flat ``decode.*`` keys, or ``train/decode.*`` with
  ``train/lr`` (``log_with_hierarchy``); MMSeg 0.x (``train/decode.*`` with ``learning_rate``)
  logs fractions. Units come from the writer, never from the magnitude.
* A tag the rules do not know loses its ``train/``/``val/``… prefix (``train/decode.loss_ce`` →
  ``decode.loss_ce``, as the MMSeg readers name it) and otherwise keeps its name.

User options (``columns``, ``percent``) work as for CSV logs, with tags as column names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from metrics.readers.mapping import ColumnMapping, Target, auto_target, canonical_metric, split_of

_VAL_GROUPS = {"sem_seg": True, "evaluate": False}  # val tag groups → whether in percent
_MMSEG_EVAL = ("mIoU", "aAcc", "mAcc", "IoU.", "Acc.")


@dataclass
class TagNamer:
    """Names tags in the order they first appear; remembers evidence of the writing framework."""

    mapping: ColumnMapping = field(default_factory=ColumnMapping)
    seen: set[str] = field(default_factory=set)

    def note(self, tag: str) -> None:
        """Record what a tag says about the framework (MMSeg 1.x flat or hierarchical keys)."""
        if tag.startswith(("decode.", "aux.")):
            self.seen.add("mmseg1")
        elif tag.startswith("train/decode."):
            self.seen.add("train/decode")
        elif tag == "train/lr":
            self.seen.add("train/lr")

    @property
    def mmseg1(self) -> bool:
        """Whether MMSeg 1.x keys (so percent evaluation metrics) were seen."""
        return "mmseg1" in self.seen or {"train/decode", "train/lr"} <= self.seen

    def name(self, tag: str) -> Target | None:
        """The tidy name of ``tag`` (None: the user dropped it), judged on what came before."""
        self.note(tag)
        if tag in self.mapping.columns:
            return self.mapping.target(tag)
        split, metric, percent = self._auto(tag)
        if any(fnmatchcase(tag, p) or fnmatchcase(metric, p) for p in self.mapping.percent):
            percent = True
        return Target(split, metric, percent)

    def _auto(self, tag: str) -> tuple[str, str, bool]:
        group, sep, rest = tag.partition("/")
        if sep and rest and group.lower() in _VAL_GROUPS:
            return "val", canonical_metric(rest) or rest, _VAL_GROUPS[group.lower()]
        split, metric = auto_target(tag)
        if metric == tag:
            prefix_split, rest = split_of(tag)
            if prefix_split == split and tag.endswith("/" + rest):
                metric = rest
        bare = tag.removeprefix("val/")
        percent = self.mmseg1 and split == "val" and bare.startswith(_MMSEG_EVAL)
        return split, metric, percent
