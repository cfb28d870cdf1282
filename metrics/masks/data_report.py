"""Saved results of ``segwatch eval`` / ``segwatch labels``: JSON files in a run's folder.

``segwatch eval … --save DIR`` writes ``DIR/segwatch-eval.json`` and ``segwatch labels … --save
DIR`` writes ``DIR/segwatch-labels.json``; the dashboard's Data page reads them back from the
run's folder under its LOGDIR. Loading validates every field and rebuilds the library's own
result objects (the eval scores are recomputed from the saved confusion matrix, so they always
agree with it); a malformed file raises ``DataReportError`` naming the file.
"""

from __future__ import annotations

import json
import math
import os
import posixpath
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn

import fsspec
import numpy as np
from numpy.typing import NDArray

from metrics.errors import DataReportError, LogReadError
from metrics.masks.folder_eval import FileProblem, SegEvaluation
from metrics.masks.label_audit import ClassStat, LabelAudit
from metrics.masks.label_flags import Flag
from metrics.masks.miou import scores
from metrics.readers.confine import check_inside

__all__ = [
    "EVAL_FILE",
    "LABELS_FILE",
    "DataReportError",
    "SavedAudit",
    "SavedEval",
    "is_folder",
    "load_audit",
    "load_eval",
    "report_path",
    "save_audit",
    "save_eval",
]

EVAL_FILE = "segwatch-eval.json"
LABELS_FILE = "segwatch-labels.json"
VERSION = 1
MAX_BYTES = 64 << 20  # a 1,000-class confusion matrix is ~10 MB of JSON
_INT64 = 1 << 63
_KINDS = {
    str: "a string",
    int: "a whole number",
    list: "a list",
    dict: "an object",
    float: "a number",
    bool: "true/false",
}


@dataclass(frozen=True, eq=False)
class SavedEval:
    """A saved ``segwatch eval`` result, with the command that made it and when (UTC, ISO)."""

    result: SegEvaluation
    command: str
    created: str


@dataclass(frozen=True)
class SavedAudit:
    """A saved ``segwatch labels`` result, with the command that made it and when (UTC, ISO)."""

    audit: LabelAudit
    command: str
    created: str


def save_eval(
    result: SegEvaluation, folder: str | Path, command: str = "", now: datetime | None = None
) -> str:
    """Write ``folder/segwatch-eval.json`` (atomically when local); return its path."""
    doc = {"kind": "segwatch-eval", **_stamp(command, now), **result.to_dict()}
    doc["class_names"] = list(result.class_names)
    return _write(folder, EVAL_FILE, doc)


def save_audit(
    audit: LabelAudit, folder: str | Path, command: str = "", now: datetime | None = None
) -> str:
    """Write ``folder/segwatch-labels.json`` (atomically when local); return its path."""
    doc = {"kind": "segwatch-labels", **_stamp(command, now), **audit.to_dict()}
    doc["clean"] = audit.clean
    return _write(folder, LABELS_FILE, doc)


def load_eval(path: str | Path, root: str | None = None) -> SavedEval:
    """Read a ``segwatch-eval.json`` back into a ``SegEvaluation`` (scores recomputed); with
    ``root``, the file must resolve inside it (``metrics.readers.confine``)."""
    r = _Reader(str(path), _read(str(path), root), "segwatch-eval")
    k = r.whole("num_classes", 1)
    names = r.texts("class_names")
    if len(names) != k:
        r.fail(f"'class_names' holds {len(names)} names for num_classes {k}")
    cm = r.matrix("confusion_matrix", k)
    problems = tuple(
        FileProblem(p.text("file"), p.text("code"), p.text("message"))
        for p in r.objects("problems")
    )
    result = SegEvaluation(
        k, r.opt_whole("ignore_index"), names, r.whole("images", 0), cm, scores(cm), problems
    )
    return SavedEval(result, r.text("command"), r.text("created"))


def load_audit(path: str | Path, root: str | None = None) -> SavedAudit:
    """Read a ``segwatch-labels.json`` back into a ``LabelAudit``; with ``root``, the file must
    resolve inside it (``metrics.readers.confine``)."""
    r = _Reader(str(path), _read(str(path), root), "segwatch-labels")
    k = r.whole("num_classes", 1)
    classes = tuple(
        ClassStat(c.whole("id", 0), c.text("name"), c.whole("pixels", 0), c.whole("images", 0),
                  c.share("share"))
        for c in r.objects("classes")
    )  # fmt: skip
    if [c.id for c in classes] != list(range(k)):
        r.fail(f"'classes' must list ids 0…{k - 1} in order")
    flags = tuple(
        Flag(f.text("code"), f.text("message"), f.texts("files"), f.text("fix"))
        for f in r.objects("flags")
    )
    modes = r.get("modes", dict)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in modes.values()):
        r.fail("'modes' must map file kinds to counts")
    audit = LabelAudit(
        r.text("root"), k, r.opt_whole("ignore_index"), r.whole("files", 0),
        r.whole("labelled_pixels", 0), r.whole("ignored_pixels", 0),
        r.whole("out_of_range_pixels", 0), classes, flags, dict(modes),
    )  # fmt: skip
    return SavedAudit(audit, r.text("command"), r.text("created"))


def report_path(folder: str, name: str) -> str | None:
    """``folder/name`` (a local path or fsspec URL) when it is an existing file, else None."""
    path = posixpath.join(folder.rstrip("/"), name) if "://" in folder else str(Path(folder) / name)
    try:
        fs, inner = fsspec.core.url_to_fs(path)
        return path if fs.isfile(inner) else None
    except (OSError, ValueError):
        return None


def is_folder(path: str) -> bool:
    """Whether ``path`` (a local path or fsspec URL) is an existing folder."""
    try:
        fs, inner = fsspec.core.url_to_fs(path)
        return bool(fs.isdir(inner))
    except (OSError, ValueError):
        return False


def _stamp(command: str, now: datetime | None) -> dict[str, Any]:
    when = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return {"version": VERSION, "command": command, "created": when.strftime("%Y-%m-%dT%H:%M:%SZ")}


def _write(folder: str | Path, name: str, doc: Mapping[str, Any]) -> str:
    data = json.dumps(doc, ensure_ascii=False, allow_nan=False).encode() + b"\n"
    text = str(folder)
    if "://" in text:
        path = posixpath.join(text.rstrip("/"), name)
        fs, inner = fsspec.core.url_to_fs(path)
        fs.makedirs(posixpath.dirname(inner), exist_ok=True)
        with fs.open(inner, "wb") as out:
            out.write(data)
        return path
    target = Path(folder) / name
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)  # a reader never sees half a file
    except OSError as exc:
        raise DataReportError(f"{target}: cannot write ({exc.strerror or exc})") from None
    return str(target)


def _read(path: str, root: str | None = None) -> dict[str, Any]:
    try:
        fs, inner = fsspec.core.url_to_fs(path)
        if "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)):
            try:
                check_inside(inner, root, path)
            except LogReadError as exc:
                raise DataReportError(str(exc)) from None
        if fs.size(inner) > MAX_BYTES:
            raise DataReportError(f"{path}: larger than {MAX_BYTES >> 20} MiB")
        with fs.open(inner, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise DataReportError(f"{path}: no such file") from None
    except OSError as exc:
        raise DataReportError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataReportError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise DataReportError(f"{path}: expected a JSON object")
    return doc


class _Reader:
    """Typed access to one JSON object of a saved file; every failure names the file."""

    def __init__(self, path: str, doc: Mapping[str, Any], kind: str | None = None) -> None:
        self.path, self.doc = path, doc
        if kind is not None and doc.get("kind") != kind:
            self.fail(f"not a {kind} file ('kind' is {doc.get('kind')!r})")

    def fail(self, why: str) -> NoReturn:
        raise DataReportError(f"{self.path}: {why}")

    def get(self, key: str, kind: type) -> Any:
        v = self.doc.get(key)
        if not isinstance(v, kind) or (isinstance(v, bool) and kind is not bool):
            self.fail(f"'{key}' must be {_KINDS.get(kind, kind.__name__)}, got {_json_type(v)}")
        return v

    def text(self, key: str) -> str:
        v: str = self.get(key, str)
        return v

    def whole(self, key: str, low: int) -> int:
        v: int = self.get(key, int)
        if not low <= v < _INT64:
            self.fail(f"'{key}' must be a whole number >= {low}, got {v}")
        return v

    def opt_whole(self, key: str) -> int | None:
        return None if self.doc.get(key) is None else self.whole(key, -_INT64)

    def share(self, key: str) -> float:
        """A fraction in [0, 1], or NaN for null."""
        v = self.doc.get(key)
        if v is None:
            return math.nan
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
            self.fail(f"'{key}' must be a fraction in [0, 1] or null, got {v!r}")
        return float(v)

    def texts(self, key: str) -> tuple[str, ...]:
        v: list[Any] = self.get(key, list)
        if not all(isinstance(s, str) for s in v):
            self.fail(f"'{key}' must be a list of strings")
        return tuple(v)

    def objects(self, key: str) -> list[_Reader]:
        v: list[Any] = self.get(key, list)
        if not all(isinstance(d, dict) for d in v):
            self.fail(f"'{key}' must be a list of objects")
        return [_Reader(f"{self.path}: {key}[{i}]", d) for i, d in enumerate(v)]

    def matrix(self, key: str, k: int) -> NDArray[np.int64]:
        rows: list[Any] = self.get(key, list)
        ok = len(rows) == k and all(
            isinstance(r, list) and len(r) == k
            and all(type(x) is int and 0 <= x < _INT64 for x in r)
            for r in rows
        )  # fmt: skip
        if not ok:
            self.fail(f"'{key}' must be a {k}×{k} list of lists of pixel counts >= 0")
        return np.array(rows, dtype=np.int64).reshape(k, k)


def _json_type(v: object) -> str:
    return "null" if v is None else _KINDS.get(type(v), type(v).__name__)
