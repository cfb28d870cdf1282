"""Find the runs below a log folder and read each one into a single tidy table.

A run is named by its folder relative to LOGDIR. Files of one experiment belong to one run:
MMEngine's ``<ts>/vis_data/scalars.json`` with ``<ts>/<ts>.log``, several timestamped
launches in one work_dir (a resume), a text log and its JSON twin (read once: each metric is
taken from the most precise file that has it, so nothing is counted twice).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import fsspec

from metrics.errors import LogFormatError, LogReadError
from metrics.readers.confine import is_inside, real_root
from metrics.readers.registry import SNIFF_BYTES, formats, get_format, sniff_format
from metrics.readers.source import open_source

TIMESTAMP_RE = re.compile(r"\d{8}_\d{6}")
# Folders that hold a run's files but do not name the run.
LAUNCH_DIR = r"\d{8}_\d{6}"  # a timestamped launch folder (MMEngine, a resume)
# Files that are never logs: checkpoints, weights, images, archives, configs, code.
_NOT_LOGS = re.compile(
    r"\.(pth|pt|ckpt|pdparams|pdopt|pdstates|pkl|pickle|bin|safetensors|onnx|h5|npy|npz|"
    r"png|jpe?g|bmp|tif|tiff|gif|webp|mp4|zip|tar|gz|tgz|bz2|xz|7z|py|pyc|ya?ml|md|cfg|ini|"
    r"html?|css|js|so|whl)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class LogFile:
    """One log file of a run: where it is, its format, and which launch wrote it."""

    path: str
    format: str
    launch: str  # a timestamp from the path ("" when the file names none)
    priority: int  # lower is preferred when two files carry the same metric
    #: real path of LOGDIR (of the real file's folder when a file was given): every file
    #: opened for this run, side files included, must lie inside it
    #: (``metrics.readers.confine``); None for remote (fsspec) paths
    root: str | None = None


@dataclass(frozen=True)
class RunSource:
    """The files of one run, found by ``discover_runs``."""

    name: str
    path: str
    files: tuple[LogFile, ...]


def discover_runs(logdir: str, options: Mapping[str, Any] | None = None) -> list[RunSource]:
    """Every run below ``logdir`` (a local folder, an fsspec URL, or a single log file).

    ``options`` are the readers' (a column mapping can name a step column that makes a CSV
    or JSON-lines file recognisable).
    """
    fs, root = fsspec.core.url_to_fs(str(logdir))
    prefix = _url_prefix(str(logdir), root)
    if not fs.exists(root):
        raise LogReadError(f"{logdir}: no such file or folder")
    if _is_special(fs, root):
        raise LogReadError(
            f"{logdir}: not a regular file or folder (a FIFO or device); segwatch reads log "
            "files and folders only"
        )
    if fs.isfile(root):
        fmt, _ = _sniff(prefix + root, options)
        if fmt is None:
            raise LogFormatError(_unknown(str(logdir)))
        name = posixpath.basename(root)
        # the file was named: its real folder confines the side files read beside it
        real = _real_root(fs, root)
        folder = posixpath.dirname(real) if real is not None else None
        lf = LogFile(prefix + root, fmt, "", _priority(fmt), folder)
        return [RunSource(name, str(logdir), (lf,))]
    found: dict[str, list[LogFile]] = {}
    seen: set[tuple[str, int, bytes]] = set()
    inside = _confinement(fs, root)
    real = _real_root(fs, root)
    canonical = {n for f in formats() for n in f.canonical_names}
    listed = _files(fs, root, real)
    for path, size, linked in sorted(listed, key=lambda e: _canonical_first(e[0], canonical)):
        rel = posixpath.relpath(path, root)
        if any(part.startswith(".") for part in rel.split("/")) or _NOT_LOGS.search(path):
            continue
        if linked and not inside(path):
            continue  # a symlink pointing out of LOGDIR: never served
        fmt, digest = _sniff(prefix + path, options)
        if fmt is None:
            continue
        run_dir = _run_dir(posixpath.dirname(rel))
        # MMEngine writes vis_data/scalars.json and an identical vis_data/<ts>.json: read once
        twin = (run_dir, size, digest)
        if twin in seen:
            continue
        seen.add(twin)
        inner = rel if run_dir == "." else rel[len(run_dir) + 1 :]
        launch = m.group(0) if (m := TIMESTAMP_RE.search(inner)) else ""
        lf = LogFile(prefix + path, fmt, launch, _priority(fmt), real)
        found.setdefault(run_dir, []).append(lf)
    runs = []
    top = posixpath.basename(root.rstrip("/")) or root
    for run_dir, files in sorted(found.items()):
        for name, group in _split_same_format(run_dir, files, top):
            path = prefix + (posixpath.join(root, run_dir) if run_dir != "." else root)
            runs.append(RunSource(name, path, tuple(group)))
    return runs


def _is_special(fs: Any, root: str) -> bool:
    """Whether a local path is neither a folder nor a regular file (a FIFO, ``/dev/zero``)."""
    if "file" not in ((fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)):
        return False
    try:
        mode = os.stat(root).st_mode
    except OSError:
        return False
    return not (stat.S_ISDIR(mode) or stat.S_ISREG(mode))


def _real_root(fs: Any, root: str) -> str | None:
    """The confinement root of local files (``LogFile.root``); None for remote ones."""
    if "file" not in ((fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)):
        return None
    return real_root(root or ".")


def _confinement(fs: Any, root: str) -> Callable[[str], bool]:
    """Whether a path found below ``root`` really lies inside it once symlinks are resolved."""
    top = _real_root(fs, root)
    if top is None:
        return lambda path: True
    return lambda path: is_inside(path, top)


#: Sniffed local files: (path, size, mtime_ns, inode, options) → (format, digest of the head).
_SNIFFED: dict[tuple[Any, ...], tuple[str | None, bytes]] = {}
_SNIFFED_MAX = 200_000


SniffKey = tuple[Any, ...]


def known_sniffs() -> dict[SniffKey, tuple[str | None, bytes]]:
    """The sniffed local files (key: path, size, mtime_ns, inode, options), to persist."""
    return dict(_SNIFFED)


def remember_sniffs(entries: Mapping[SniffKey, tuple[str | None, bytes]]) -> None:
    """Sniffs persisted earlier (``metrics.runs.cache``): a file whose stat still matches its
    key is not read again by discovery."""
    if len(_SNIFFED) + len(entries) >= _SNIFFED_MAX:
        _SNIFFED.clear()
    _SNIFFED.update(entries)


def _sniff(path: str, options: Mapping[str, Any] | None) -> tuple[str | None, bytes]:
    """The format of a file judged by its first bytes, and a digest of those bytes.

    A local file is sniffed again only when its stat changed: discovering 1,000 unchanged
    runs again (the dashboard does every few seconds) costs a stat per file, not a read of
    up to ``SNIFF_BYTES`` of each.
    """
    key: tuple[Any, ...] | None = None
    if "://" not in path:
        try:
            st = os.stat(path)
        except OSError:
            return None, b""
        key = (path, st.st_size, st.st_mtime_ns, st.st_ino, repr(sorted((options or {}).items())))
        if key in _SNIFFED:
            return _SNIFFED[key]
    try:
        head = open_source(path).read_head(SNIFF_BYTES)
    except LogReadError:
        return None, b""
    fmt = sniff_format(head, path, options)  # an empty file may be a log not yet flushed
    found = (fmt.name if fmt else None), hashlib.sha1(head).digest()
    if key is not None:
        if len(_SNIFFED) >= _SNIFFED_MAX:
            _SNIFFED.clear()
        _SNIFFED[key] = found
    return found


def _canonical_first(path: str, canonical: set[str]) -> tuple[str, int, str]:
    """Sort key: by folder, a framework's canonical file name first (kept among twins)."""
    folder, name = posixpath.split(path)
    return folder, 0 if name in canonical else 1, name


def _files(fs: Any, root: str, real: str | None) -> list[tuple[str, int, bool]]:
    """Every regular file below ``root``: its path, its size, and whether a symlink was on
    its way (only those need their real path checked against LOGDIR). A local folder is walked
    with ``os.scandir`` (a third of fsspec's time, and no realpath for plain files)."""
    if real is not None:
        return _local_files(root)
    found = fs.find(root, detail=True)
    return [
        (p, int(info.get("size") or 0), False)
        for p, info in found.items()
        if info.get("type") == "file"
    ]


def _local_files(root: str) -> list[tuple[str, int, bool]]:
    """``_files`` of a local folder. Hidden entries are skipped, as discovery skips them
    anyway; a symlinked folder is not entered (as fsspec's walk does not), a symlinked file is
    listed (and checked against LOGDIR by the caller)."""
    out: list[tuple[str, int, bool]] = []
    stack = [root]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for e in entries:
            if e.name.startswith("."):
                continue
            try:
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
                elif e.is_file():
                    out.append((e.path, e.stat().st_size, e.is_symlink()))
            except OSError:
                continue
    return out


def _priority(fmt: str) -> int:
    """Which file wins between files carrying the same metric: the format's precision rank."""
    return get_format(fmt).precision


def _inner_dirs() -> re.Pattern[str]:
    """Folder names that hold a run's files but do not name it, as the formats declare them."""
    parts = [LAUNCH_DIR, *(f.inner_dirs for f in formats() if f.inner_dirs)]
    return re.compile("^(" + "|".join(parts) + ")$")


def _run_dir(folder: str) -> str:
    inner = _inner_dirs()
    parts = [p for p in folder.split("/") if p and p != "."]
    while parts and inner.match(parts[-1]):
        parts.pop()
    return "/".join(parts) or "."


def _split_same_format(
    run_dir: str, files: list[LogFile], top: str
) -> list[tuple[str, list[LogFile]]]:
    """Unrelated logs side by side in one folder (same format, same launch) are separate runs;
    event files of one folder are one run (TensorBoard's rule).

    A run whose files lie directly in LOGDIR is named after LOGDIR itself (``top``).
    """
    base = run_dir if run_dir != "." else ""
    files = _latest_snapshots(files)
    seen: dict[tuple[str, str, str], list[LogFile]] = {}
    for f in files:
        # event files of one folder are one run (one file per writer launch), as TensorBoard
        folder = posixpath.dirname(f.path) if get_format(f.format).folder_is_run else ""
        seen.setdefault((f.format, f.launch, folder), []).append(f)
    clashing = {f.path for k, group in seen.items() if len(group) > 1 and not k[2] for f in group}
    if not clashing:
        return [(base or top, files)]
    out: list[tuple[str, list[LogFile]]] = []
    rest = [f for f in files if f.path not in clashing]
    for path in sorted(clashing):
        leaf = posixpath.basename(path)
        name = posixpath.join(base, leaf) if base else leaf
        out.append((name, [lf for lf in files if lf.path == path]))
    if rest:
        out.append((base or top, rest))
    return out


_CHECKPOINT_RE = re.compile(r"/checkpoint-(\d+)/")


def _latest_snapshots(files: list[LogFile]) -> list[LogFile]:
    """Of HF-style state files copied into every ``checkpoint-N/``, keep the newest one.

    A top-level copy (written by ``save_state()``) wins; else the highest checkpoint.
    """
    snaps = [f for f in files if _CHECKPOINT_RE.search(f.path)]
    if not snaps:
        return files
    fmts = {f.format for f in snaps}
    keep: list[LogFile] = [f for f in files if f.format not in fmts]
    for fmt in fmts:
        same = [f for f in files if f.format == fmt]
        top = [f for f in same if not _CHECKPOINT_RE.search(f.path)]
        if top:
            keep.extend(top)
            continue
        keep.append(max(same, key=lambda f: int(_CHECKPOINT_RE.search(f.path).group(1))))  # type: ignore[union-attr]
    return keep


def _url_prefix(url: str, root: str) -> str:
    """The protocol prefix to put back in front of paths fsspec returns (``memory://``)."""
    if "://" in url and not url.startswith("file://"):
        return url.split("://", 1)[0] + "://"
    return ""


def _unknown(path: str) -> str:
    tried = ", ".join(f.name for f in formats())
    return f"{path}: not a log segwatch can read; formats tried: {tried}"
