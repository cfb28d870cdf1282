"""Facts from PaddleSeg's "Config Information" YAML block (printed by ``tools/train.py``)."""

from __future__ import annotations

import re
from typing import Any

from metrics.facts.model import (
    RunFacts,
    as_float,
    as_floats,
    as_int,
    as_size,
    by_type,
    dig,
    first,
    load_yaml,
    params,
)

_TITLE = "Config Information"
_BLOCK_RE = re.compile(
    r"^-{3,}Config Information-{3,}[ \t]*\r?\n(.*?)^-{10,}[ \t]*\r?$", re.MULTILINE | re.DOTALL
)
# PaddleSeg's Normalize defaults (paddleseg/transforms/transforms.py).
_DEFAULT_NORM = {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}
# Transforms that fix the training input size, and the key holding it.
_SIZE_KEYS = {"RandomPaddingCrop": "crop_size", "Resize": "target_size", "RandomCenterCrop": None}


def config_blocks(text: str) -> list[dict[str, Any]]:
    """Every config block of a PaddleSeg log, in file order (one per launch)."""
    found = []
    pos = 0
    # the regex tried only at lines holding the title (str.find), not at every line of the log
    while (at := text.find(_TITLE, pos)) >= 0:
        m = _BLOCK_RE.match(text, text.rfind("\n", 0, at) + 1)
        if m is None:
            pos = at + len(_TITLE)
            continue
        pos = m.end()
        cfg = load_yaml(m.group(1).replace("\r\n", "\n"))
        if cfg is not None:
            found.append(cfg)
    return found


def facts_from_text(text: str, source: str) -> RunFacts | None:
    """Facts of the latest launch in a PaddleSeg log, or None without a config block."""
    blocks = config_blocks(text)
    return facts_from_config(blocks[-1], source) if blocks else None


def facts_from_config(cfg: dict[str, Any], source: str) -> RunFacts:
    """Read the facts out of a PaddleSeg config tree."""
    train = dig(cfg, "train_dataset", "transforms")
    val = dig(cfg, "val_dataset", "transforms")
    base_lr, schedule = _lr(cfg)
    return RunFacts(
        planned_steps=as_int(cfg.get("iters")),
        batch_size=as_int(cfg.get("batch_size")),
        num_classes=as_int(
            first(dig(cfg, "model", "num_classes"), dig(cfg, "train_dataset", "num_classes"))
        ),
        ignore_index=as_int(
            first(
                dig(cfg, "loss", "types", 0, "ignore_index"),
                dig(cfg, "train_dataset", "ignore_index"),
            )
        ),
        crop_size=_train_size(train),
        normalize=_normalize(train),
        base_lr=base_lr,
        lr_schedule=schedule,
        optimizer=_str(dig(cfg, "optimizer", "type")),
        weight_decay=as_float(dig(cfg, "optimizer", "weight_decay")),
        loss=_loss(cfg.get("loss")),
        model=_model(cfg.get("model")),
        dataset=_str(dig(cfg, "train_dataset", "type")),
        eval_transforms=val if isinstance(val, list) else None,
        size_order="wh",
        eval_size=_eval_size(cfg, val),
        eval_normalize=_normalize(val),
        framework="paddleseg",
        source=source,
        config=cfg,
    )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _train_size(transforms: Any) -> list[int] | None:
    size = None
    for t in by_type(transforms, *_SIZE_KEYS):
        key = _SIZE_KEYS[str(t["type"])]
        if key is None:
            continue
        default = [512, 512] if t["type"] == "RandomPaddingCrop" else None
        size = as_size(t.get(key, default)) or size
    return size


def _eval_size(cfg: dict[str, Any], transforms: Any) -> list[int] | None:
    if dig(cfg, "test_config", "is_slide"):
        return as_size(dig(cfg, "test_config", "crop_size"))
    sizes = [as_size(t.get("target_size")) for t in by_type(transforms, "Resize")]
    return next((s for s in reversed(sizes) if s), None)


def _normalize(transforms: Any) -> dict[str, list[float]] | None:
    norms = by_type(transforms, "Normalize")
    if not norms:
        return None
    t = norms[-1]
    mean = as_floats(t.get("mean", _DEFAULT_NORM["mean"]))
    std = as_floats(t.get("std", _DEFAULT_NORM["std"]))
    return {"mean": mean, "std": std} if mean and std else None


def _lr(cfg: dict[str, Any]) -> tuple[float | None, dict[str, Any] | None]:
    """Base lr and schedule: ``lr_scheduler`` (2.1+) or the 2.0 ``learning_rate`` block."""
    sched = cfg.get("lr_scheduler")
    if isinstance(sched, dict):
        return as_float(sched.get("learning_rate")), params(sched, drop=("learning_rate",))
    old = cfg.get("learning_rate")
    if isinstance(old, dict):
        decay = params(old.get("decay"))
        return as_float(old.get("value")), decay or None
    return as_float(first(old, dig(cfg, "optimizer", "learning_rate"))), None


def _loss(loss: Any) -> dict[str, Any] | None:
    types = dig(loss, "types")
    if not isinstance(types, list) or not types:
        return None
    terms = [params(t) for t in types]
    names = sorted({str(t.get("type")) for t in terms})
    weight = next((as_floats(t["weight"]) for t in terms if "weight" in t), None)
    out: dict[str, Any] = {"type": "+".join(names), "class_weight": weight}
    ignore = next((t["ignore_index"] for t in terms if "ignore_index" in t), None)
    if ignore is not None:
        out["ignore_index"] = ignore
    if isinstance(dig(loss, "coef"), list):
        out["coef"] = dig(loss, "coef")
    if len(terms) > 1:
        out["terms"] = terms
    return out


def _model(model: Any) -> str | None:
    name = _str(dig(model, "type"))
    backbone = _str(dig(model, "backbone", "type"))
    if name and backbone:
        return f"{name}({backbone})"
    return name
