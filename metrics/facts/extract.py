"""``facts_for_files``: find a run's logged config (by its files' formats) and read its facts.

Only the first few MB of each file are read: frameworks print the config at the top.
Files that are not metrics logs (``vis_data/config.py``, Detectron2's ``log.txt`` and
``config.yaml``, HF's ``config.json``, Lightning's ``hparams.yaml``) are looked for beside them,
inside the run's confinement root only (``metrics.readers.confine``). A config over its budget
(``metrics.facts.budget``) gives facts with only ``unavailable`` set: that run shows why.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence
from typing import Protocol

from metrics.errors import ConfigBudgetError, LogReadError
from metrics.facts import detectron2, hf, lightning, mmseg, paddleseg
from metrics.facts.model import RunFacts, load_yaml
from metrics.readers.source import open_source
from metrics.readers.textutil import ANSI_RE, decode

HEAD_BYTES = 4 * 1024 * 1024


def read_text(path: str, limit: int = HEAD_BYTES, root: str | None = None) -> str | None:
    """The first ``limit`` bytes of a file as text (cut at the last whole line), or None
    (also when it resolves outside ``root``: ``metrics.readers.confine``)."""
    try:
        raw = open_source(path, root).read_head(limit)
    except LogReadError:
        return None
    if len(raw) >= limit and b"\n" in raw:
        raw = raw[: raw.rindex(b"\n") + 1]
    if b"\x1b" in raw:
        raw = ANSI_RE.sub(b"", raw)
    return decode(raw)


def _beside(path: str, name: str) -> str:
    return posixpath.join(posixpath.dirname(path), name)


def _paddleseg(path: str, root: str | None) -> RunFacts | None:
    text = read_text(path, root=root)
    return paddleseg.facts_from_text(text, path) if text else None


def _mmseg0_json(path: str, root: str | None) -> RunFacts | None:
    text = read_text(path, root=root)
    if not text:
        return None
    config, classes = mmseg.meta_from_json_log(text.split("\n", 1)[0])
    return mmseg.facts_from_config_text(config, path, classes) if config else None


def _mm_text(path: str, root: str | None) -> RunFacts | None:
    text = read_text(path, root=root)
    config = mmseg.config_from_text_log(text) if text else None
    return mmseg.facts_from_config_text(config, path) if config else None


def _mmseg1_json(path: str, root: str | None) -> RunFacts | None:
    config_py = _beside(path, "config.py")
    text = read_text(config_py, root=root)
    return mmseg.facts_from_config_text(text, config_py) if text else None


def _detectron2(path: str, root: str | None) -> RunFacts | None:
    log = _beside(path, "log.txt")
    text = read_text(log, root=root)
    cfg = detectron2.config_from_log(text) if text else None
    if cfg is not None:
        return detectron2.facts_from_config(cfg, log)
    saved = _beside(path, "config.yaml")
    text = read_text(saved, root=root)
    cfg = load_yaml(text, saved) if text else None
    return detectron2.facts_from_config(cfg, saved) if cfg is not None else None


def _hf(path: str, root: str | None) -> RunFacts | None:
    text = read_text(path, limit=64 * 1024 * 1024, root=root)  # one JSON document: whole
    state = hf.load_json(text, path) if text else None
    if state is None:
        return None
    model_config = None
    for folder in (posixpath.dirname(path), posixpath.dirname(posixpath.dirname(path))):
        found = read_text(posixpath.join(folder, "config.json"), root=root)
        model_config = hf.load_json(found, posixpath.join(folder, "config.json")) if found else None
        if model_config is not None:
            break
    return hf.facts_from_state(state, model_config, path)


def _lightning(path: str, root: str | None) -> RunFacts | None:
    hparams = _beside(path, "hparams.yaml")
    text = read_text(hparams, root=root)
    cfg = load_yaml(text, hparams) if text else None
    return lightning.facts_from_hparams(cfg, hparams) if cfg is not None else None


# Per format, how to find its config; the order is the preference among a run's files.
READERS: dict[str, Callable[[str, str | None], RunFacts | None]] = {
    "mmseg0-json": _mmseg0_json,
    "mmseg0-text": _mm_text,
    "mmseg1-json": _mmseg1_json,
    "mmseg1-text": _mm_text,
    "paddleseg": _paddleseg,
    "detectron2": _detectron2,
    "hf-trainer": _hf,
    "lightning-csv": _lightning,
}
_RANK = {name: i for i, name in enumerate(READERS)}
# What budget errors name when the config has no file of its own (``load_yaml``'s default…).
_GENERIC_WHERE = ("YAML config", "JSON config", "config")


class LogFileRef(Protocol):
    """What facts need to know of a run's log file (``metrics.runs.LogFile`` is one); its
    ``root``, when it has one, confines the side files read (``metrics.readers.confine``)."""

    @property
    def path(self) -> str: ...
    @property
    def format(self) -> str: ...
    @property
    def launch(self) -> str: ...


def facts_for_files(files: Sequence[LogFileRef]) -> RunFacts | None:
    """Facts of the latest launch's config, from the best file that has one."""
    ordered = sorted(
        (f for f in files if f.format in READERS),
        key=lambda f: (f.launch, -_RANK[f.format]),
        reverse=True,
    )
    for f in ordered:
        try:
            facts = READERS[f.format](f.path, getattr(f, "root", None))
        except ConfigBudgetError as exc:
            why = str(exc)
            for generic in _GENERIC_WHERE:  # a config block inside the log itself
                if why.startswith(generic + ":"):
                    why = f.path + why[len(generic) :]
            return RunFacts(source=f.path, unavailable=why)
        if facts is not None:
            return facts
    return None
