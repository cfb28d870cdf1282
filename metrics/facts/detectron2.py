"""Facts from Detectron2's config: ``Running with full config:`` in ``log.txt``, else the
``config.yaml`` it saves."""

from __future__ import annotations

import re
from typing import Any

from metrics.facts.model import (
    RunFacts,
    as_float,
    as_floats,
    as_int,
    as_size,
    dig,
    first,
    load_yaml,
)

_FULL_RE = re.compile(r"^\[[^\]]*\] \S+ INFO: Running with full config:[ \t]*\r?\n", re.M)
_LOG_LINE_RE = re.compile(r"^\[\d{2}/\d{2} \d{2}:\d{2}:\d{2}", re.M)


def config_from_log(text: str) -> dict[str, Any] | None:
    """The last full config ``log.txt`` printed (a rerun appends another), as a tree."""
    starts = list(_FULL_RE.finditer(text))
    if not starts:
        return None
    begin = starts[-1].end()
    end = _LOG_LINE_RE.search(text, begin)
    return load_yaml(text[begin : end.start() if end else len(text)])


def facts_from_config(cfg: dict[str, Any], source: str) -> RunFacts:
    """Read the facts out of a Detectron2 (yacs) config tree."""
    solver = dig(cfg, "SOLVER") or {}
    crop = None
    if dig(cfg, "INPUT", "CROP", "ENABLED") and dig(cfg, "INPUT", "CROP", "TYPE") == "absolute":
        crop = as_size(dig(cfg, "INPUT", "CROP", "SIZE"))
    mean, std = (
        as_floats(dig(cfg, "MODEL", "PIXEL_MEAN")),
        as_floats(dig(cfg, "MODEL", "PIXEL_STD")),
    )
    norm = {"mean": mean, "std": std} if mean and std else None
    min_test, max_test = dig(cfg, "INPUT", "MIN_SIZE_TEST"), dig(cfg, "INPUT", "MAX_SIZE_TEST")
    datasets = dig(cfg, "DATASETS", "TRAIN")
    head = dig(cfg, "MODEL", "SEM_SEG_HEAD") or {}
    loss = {"type": head.get("LOSS_TYPE"), "class_weight": None} if "LOSS_TYPE" in head else None
    schedule = {
        k.lower(): v
        for k, v in solver.items()
        if k
        in ("LR_SCHEDULER_NAME", "STEPS", "GAMMA", "WARMUP_ITERS", "WARMUP_FACTOR", "POLY_LR_POWER")
    }
    if "lr_scheduler_name" in schedule:
        schedule["type"] = schedule.pop("lr_scheduler_name")
    return RunFacts(
        planned_steps=as_int(solver.get("MAX_ITER")),
        batch_size=as_int(solver.get("IMS_PER_BATCH")),
        num_classes=as_int(head.get("NUM_CLASSES")),
        ignore_index=as_int(head.get("IGNORE_VALUE")),
        crop_size=crop,
        normalize=norm,
        base_lr=as_float(solver.get("BASE_LR")),
        lr_schedule=schedule or None,
        optimizer=solver.get("OPTIMIZER") if isinstance(solver.get("OPTIMIZER"), str) else None,
        weight_decay=as_float(solver.get("WEIGHT_DECAY")),
        loss=loss,
        model=_model(cfg),
        dataset=", ".join(map(str, datasets)) if isinstance(datasets, list) and datasets else None,
        eval_transforms=[
            {"type": "ResizeShortestEdge", "short_edge": min_test, "max_size": max_test}
        ]
        if min_test is not None
        else None,
        size_order="hw",
        eval_size=None,  # shortest-edge resizing keeps each image's aspect ratio
        eval_normalize=norm,
        framework="detectron2",
        source=source,
        config=cfg,
    )


def _model(cfg: dict[str, Any]) -> str | None:
    arch = dig(cfg, "MODEL", "META_ARCHITECTURE")
    backbone = first(dig(cfg, "MODEL", "BACKBONE", "NAME"))
    if not isinstance(arch, str):
        return None
    return f"{arch}({backbone})" if isinstance(backbone, str) else arch
