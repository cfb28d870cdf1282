"""One confinement rule for every file segwatch opens for a run: it must lie inside LOGDIR.

Discovery skips files whose real path (symlinks followed) is outside LOGDIR, but a run also
opens side files (``config.json``, ``hparams.yaml``, ``vis_data/config.py``, Detectron2's
``log.txt``/``config.yaml``, saved ``segwatch-*.json`` reports), and a watched log can be
swapped for a symlink after discovery. So the rule is applied when a file is opened: its real
path must lie under the real path of the run's root. Remote (fsspec) paths have no symlinks
and are not checked.
"""

from __future__ import annotations

import os

from metrics.errors import OutsideLogdirError


def real_root(folder: str) -> str:
    """The real path of a local folder, as ``root`` for ``check_inside``."""
    return os.path.realpath(folder)


def is_inside(path: str, root: str) -> bool:
    """Whether local ``path``, symlinks followed, lies in ``root`` (already a real path)."""
    real = os.path.realpath(path)
    try:
        return os.path.commonpath([root, real]) == root
    except ValueError:  # different drives
        return False


def check_inside(path: str, root: str | None, shown: str | None = None) -> None:
    """Raise ``OutsideLogdirError`` when local ``path`` resolves outside ``root`` (None: no
    rule)."""
    if root is not None and not is_inside(path, root):
        raise OutsideLogdirError(
            f"{shown or path}: resolves outside the log folder {root} (a symlink or a path "
            "out of LOGDIR); segwatch reads only files inside it"
        )
