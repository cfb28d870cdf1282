"""Shared pieces of every run: seeds, fixed wall times, run labels and the output collector."""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

SEED = 20240611

UTC = timezone.utc


def rng_for(name: str) -> np.random.Generator:
    """A generator seeded from the run name (crc32, not the salted built-in hash)."""
    return np.random.default_rng([SEED, zlib.crc32(name.encode())])


class Clock:
    """Fixed wall times: starts at ``start`` (UTC) and moves on by what the run spends."""

    def __init__(self, start: datetime) -> None:
        self.t = start.timestamp()

    def tick(self, seconds: float) -> float:
        self.t += seconds
        return self.t

    def dt(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)


def logged(x: Any) -> Any:
    """A value as frameworks log it: a float32 tensor read back with ``.item()``.

    Besides being true to the frameworks, this makes the files independent of the CPU they are
    generated on: numpy picks different SIMD kernels for ``exp``/``pow`` per CPU (AVX-512 or
    not), whose results can differ in the last bit of a float64, never in a float32.
    """
    if isinstance(x, np.ndarray):
        return x.astype(np.float32).astype(np.float64)
    return float(np.float32(x))


def hms(seconds: float) -> str:
    """PaddleSeg's ETA: HH:MM:SS with hours allowed past 24."""
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def tdelta(seconds: float) -> str:
    """``str(datetime.timedelta)`` as mmcv/mmengine/detectron2 print an ETA."""
    return str(timedelta(seconds=int(seconds)))


@dataclass
class RunTruth:
    """Labels of one run for the diagnosis, as ``truth.json`` stores them."""

    format: str
    files: list[str]
    status: str
    findings: list[str]
    evals: list[tuple[int, float]]  # (step, mIoU fraction) as the files say, after restarts
    last_step: int
    note: str
    optional_findings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        best = best_of(self.evals)
        readers = {f: reader_for(f) for f in self.files}
        return {
            "format": self.format,
            "files": {f: r for f, r in readers.items() if r is not None},
            "other_files": [f for f, r in readers.items() if r is None],
            "status": self.status,
            "findings": self.findings,
            "optional_findings": self.optional_findings,
            "best_miou": None if best is None else round(best[1], 6),
            "best_step": None if best is None else best[0],
            "last_step": self.last_step,
            "n_evals": len(self.evals),
            "note": self.note,
        }


def reader_for(path: str) -> str | None:
    """The segwatch format (``read_log(format=...)``) of a file; None: not a log to read."""
    name = path.rsplit("/", 1)[-1]
    family = path.split("/", 1)[0]
    if family == "mmseg1x":
        if name == "scalars.json":
            return "mmseg1-json"
        return "mmseg1-text" if name.endswith(".log") else None  # vis_data/<ts>.json: a twin
    by_family = {
        "paddleseg": "paddleseg",
        "detectron2": "detectron2",
        "hf": "hf-trainer",
        "tensorboard": "tensorboard",
        "csv": "csv",
    }
    if family == "mmseg0x":
        return "mmseg0-json" if name.endswith(".log.json") else "mmseg0-text"
    if family == "lightning":
        return "lightning-csv" if name == "metrics.csv" else None
    return by_family[family]


def best_of(evals: Sequence[tuple[int, float]]) -> tuple[int, float] | None:
    """The first eval with the highest finite mIoU."""
    finite = [(s, v) for s, v in evals if math.isfinite(v)]
    if not finite:
        return None
    top = max(v for _, v in finite)
    return next((s, v) for s, v in finite if v == top)


class Out:
    """Collects files (path relative to the output folder → bytes) and run labels."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.runs: dict[str, RunTruth] = {}

    def write(self, rel: str, data: str | bytes) -> str:
        self.files[rel] = data.encode("utf-8") if isinstance(data, str) else data
        return rel

    def run(self, rel: str, truth: RunTruth) -> None:
        self.runs[rel] = truth
