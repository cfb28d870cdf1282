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
* The folder can name the split: Keras writes ``train/`` and ``validation/`` runs, and
  tensorboardX's ``add_scalars('loss', {'train': …, 'val': …})`` sub-runs ``loss/train``,
  ``loss/val`` whose tag is the bare ``loss``. A tag naming no split itself takes its
  folder's (``folder_split``).
* Keras tags: ``epoch_<m>`` and ``batch_<m>`` are ``<m>`` per epoch and per batch (the preferred
  one, batch for train and epoch for val, keeps the bare name, as for Lightning's
  ``_step``/``_epoch``: ``batch_miou`` → ``miou`` in train, ``epoch_miou`` → ``miou_epoch``);
  ``evaluation_<m>_vs_iterations`` is val ``<m>_vs_iterations``.

User options (``columns``, ``percent``) work as for CSV logs, with tags as column names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from metrics.readers.mapping import (
    ColumnMapping,
    Target,
    auto_target,
    canonical_metric,
    default_split,
    split_of,
)

_VAL_GROUPS = {"sem_seg": True, "evaluate": False}  # val tag groups → whether in percent
_MMSEG_EVAL = ("mIoU", "aAcc", "mAcc", "IoU.", "Acc.")
_KERAS_RE = re.compile(r"^(epoch|batch)_(.+)$")
_KERAS_EVAL_RE = re.compile(r"^evaluation_(.+)_vs_iterations$")
_PHASE_RE = re.compile(r"_(step|epoch)$", re.IGNORECASE)
_FOLDER_SPLITS = {
    **dict.fromkeys(("val", "valid", "validation", "eval", "evaluation", "test"), "val"),
    **dict.fromkeys(("train", "training"), "train"),
}


def folder_split(folder: str) -> str | None:
    """The split a run folder's name says (Keras ``validation/``, ``add_scalars``'s ``val/``)."""
    return _FOLDER_SPLITS.get(folder.lower())


@dataclass
class TagNamer:
    """Names tags in the order they first appear; remembers evidence of the writing framework."""

    mapping: ColumnMapping = field(default_factory=ColumnMapping)
    seen: set[str] = field(default_factory=set)
    folder_split: str | None = None  # the split the file's folder names (see ``folder_split``)

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
        keras = self._keras(tag)
        if keras is not None:
            return keras
        split, metric = auto_target(tag)
        if self.folder_split and not self._names_split(tag):
            split = self.folder_split
        if metric == tag:
            prefix_split, rest = split_of(tag)
            if prefix_split == split and tag.endswith("/" + rest):
                metric = rest
        bare = tag.removeprefix("val/")
        percent = self.mmseg1 and split == "val" and bare.startswith(_MMSEG_EVAL)
        return split, metric, percent

    def _keras(self, tag: str) -> tuple[str, str, bool] | None:
        """Keras' ``epoch_<m>``/``batch_<m>``/``evaluation_<m>_vs_iterations`` of a known m."""
        m = _KERAS_EVAL_RE.match(tag)
        if m and (canon := canonical_metric(m.group(1))):
            return "val", f"{canon}_vs_iterations", False
        m = _KERAS_RE.match(tag)
        if m is None or (canon := canonical_metric(m.group(2))) is None:
            return None
        split = self.folder_split or default_split(canon)
        phase = "step" if m.group(1) == "batch" else "epoch"
        preferred = "step" if split == "train" else "epoch"
        return split, canon if phase == preferred else f"{canon}_{phase}", False

    @staticmethod
    def _names_split(tag: str) -> bool:
        """Whether the tag itself names a split (``val/…``, ``…_train``, ``val_loss_epoch``)."""
        return split_of(tag)[0] is not None or split_of(_PHASE_RE.sub("", tag))[0] is not None
