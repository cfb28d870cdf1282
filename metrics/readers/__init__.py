"""Readers of training logs, one module per format, behind one registry.

Detection order matters: binary formats first, then JSON documents and JSON lines with
distinctive keys, then CSV, then text logs, and the generic readers last.
"""

from __future__ import annotations

import importlib

# module names in detection order
BUILTIN_MODULES: tuple[str, ...] = (
    "tensorboard_events",
    "paddleseg_vdl",
    "hf_trainer",
    "mmseg0_json",
    "mmseg1_json",
    "detectron2_json",
    "lightning_csv",
    "paddleseg_text",
    "mmseg0_text",
    "mmseg1_text",
    "generic_jsonl",
    "generic_csv",
)

_loaded = False


def load_builtin_formats() -> None:
    """Import every built-in reader module once (each registers its format)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in BUILTIN_MODULES:
        try:
            importlib.import_module(f"metrics.readers.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"metrics.readers.{name}":
                raise
