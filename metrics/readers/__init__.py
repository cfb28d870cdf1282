"""Readers of training logs, one module per format, behind one registry.

Each format declares everything about itself on its ``LogFormat`` class: how to recognise it
(``sniff``) and where detection tries it (``detect_rank``: binary formats first, then JSON
documents and JSON lines with distinctive keys, then CSV, then text logs, the generic readers
last), which file wins between twins (``precision``), its canonical file name and the folders
that hold a run's files. Adding a format is adding its module here: every module of this
package is imported once, and formats register themselves.
"""

from __future__ import annotations

import importlib
import pkgutil

_loaded = False


def load_builtin_formats() -> None:
    """Import every module of this package once (each format module registers its format)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
