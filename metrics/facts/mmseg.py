"""Facts from MMSegmentation configs: 0.x (``runner``, ``data``) and 1.x / MMEngine (``train_cfg``,
``train_dataloader``), found in the JSON log's line 1, the text log's ``Config:`` dump, or
``vis_data/config.py``. The config is read by ``literal_config`` as data, never executed."""

from __future__ import annotations

import json
import re
from typing import Any

from metrics.facts.literal_config import parse_config
from metrics.facts.model import (
    RunFacts,
    as_float,
    as_floats,
    as_int,
    as_names,
    as_size,
    by_type,
    dig,
    first,
    params,
)

# mmcv (0.x) ``2023-01-20 01:50:43,330 - mmseg - INFO - ``, mmengine ``2023/06/14 06:55:03 - ``
# and its console form ``06/14 06:55:03 - ``: the line that ends a printed config.
_LOG_LINE_RE = re.compile(r"^(?:\d{4}[-/])?\d{2}[-/]\d{2} \d{2}:\d{2}:\d{2}(?:,\d{3})? - ", re.M)
_CONFIG_RE = re.compile(r" - \S+ - INFO - Config:[ \t]*\r?\n")


def config_from_text_log(text: str) -> str | None:
    """The last config a text log printed after ``… - INFO - Config:``, as text."""
    starts = list(_CONFIG_RE.finditer(text))
    if not starts:
        return None
    begin = starts[-1].end()
    end = _LOG_LINE_RE.search(text, begin)
    return text[begin : end.start() if end else len(text)].replace("\r\n", "\n")


def meta_from_json_log(first_line: str) -> tuple[str | None, list[str] | None]:
    """The config text and ``CLASSES`` of an MMSeg 0.x ``.log.json`` line 1."""
    try:
        meta = json.loads(first_line)
    except ValueError:
        return None, None
    if not isinstance(meta, dict) or "mode" in meta:
        return None, None
    config = meta.get("config")
    return (config if isinstance(config, str) else None), as_names(meta.get("CLASSES"))


def facts_from_config_text(
    text: str, source: str, class_names: list[str] | None = None
) -> RunFacts | None:
    """Facts of an MMSeg config text (None when no assignment could be read)."""
    cfg = parse_config(text, source)
    return facts_from_config(cfg, source, class_names) if cfg else None


def facts_from_config(
    cfg: dict[str, Any], source: str, class_names: list[str] | None = None
) -> RunFacts:
    """Read the facts out of an MMSeg 0.x or 1.x config tree."""
    train_ds = first(dig(cfg, "data", "train"), dig(cfg, "train_dataloader", "dataset"), {})
    val_ds = first(dig(cfg, "data", "val"), dig(cfg, "val_dataloader", "dataset"), {})
    train = first(dig(train_ds, "pipeline"), cfg.get("train_pipeline"))
    val = first(dig(val_ds, "pipeline"), cfg.get("val_pipeline"), cfg.get("test_pipeline"))
    head = _decode_head(cfg)
    names = first(
        class_names,
        as_names(dig(cfg, "metainfo", "classes")),
        as_names(dig(train_ds, "metainfo", "classes")),
        as_names(cfg.get("classes")),
        as_names(dig(train_ds, "classes")),
    )
    optimizer = first(dig(cfg, "optim_wrapper", "optimizer"), cfg.get("optimizer"), {})
    preproc = first(dig(cfg, "model", "data_preprocessor"), cfg.get("data_preprocessor"))
    return RunFacts(
        planned_steps=as_int(
            first(
                dig(cfg, "runner", "max_iters"),
                dig(cfg, "train_cfg", "max_iters"),
                cfg.get("total_iters"),
            )
        ),
        batch_size=as_int(
            first(dig(cfg, "data", "samples_per_gpu"), dig(cfg, "train_dataloader", "batch_size"))
        ),
        num_classes=as_int(first(dig(head, "num_classes"), len(names) if names else None)),
        ignore_index=as_int(
            first(dig(head, "ignore_index"), dig(_loss_terms(head), 0, "ignore_index"))
        ),
        class_names=names,
        crop_size=first(_crop(train), as_size(cfg.get("crop_size"))),
        normalize=first(_normalize(train), _mean_std(preproc), _mean_std(cfg.get("img_norm_cfg"))),
        base_lr=as_float(dig(optimizer, "lr")),
        lr_schedule=_schedule(cfg),
        optimizer=_str(dig(optimizer, "type")),
        weight_decay=as_float(dig(optimizer, "weight_decay")),
        loss=_loss(head),
        model=_model(cfg.get("model")),
        dataset=_str(first(dig(train_ds, "type"), cfg.get("dataset_type"))),
        eval_transforms=val if isinstance(val, list) else None,
        size_order="hw",
        eval_size=_eval_size(cfg, val),
        eval_normalize=first(_normalize(val), _mean_std(preproc)),
        framework="mmseg",
        source=source,
        config=cfg,
    )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _decode_head(cfg: dict[str, Any]) -> dict[str, Any]:
    head = dig(cfg, "model", "decode_head")
    if isinstance(head, list):  # cascade decoders: the last one predicts
        head = head[-1] if head else None
    return head if isinstance(head, dict) else {}


def _loss_terms(head: dict[str, Any]) -> list[dict[str, Any]]:
    loss = head.get("loss_decode")
    terms = loss if isinstance(loss, list) else [loss]
    return [t for t in terms if isinstance(t, dict)]


def _flat(pipeline: Any) -> list[Any]:
    """A pipeline with ``MultiScaleFlipAug``/``TestTimeAug`` inner transforms spliced in."""
    out: list[Any] = []
    for t in pipeline if isinstance(pipeline, list) else []:
        out.append(t)
        inner = dig(t, "transforms")
        if isinstance(inner, list):
            out.extend(_flat([x for x in inner if isinstance(x, dict)]))
    return out


def _crop(pipeline: Any) -> list[int] | None:
    crops = by_type(pipeline, "RandomCrop", "RandomCenterCrop")
    return as_size(crops[-1].get("crop_size")) if crops else None


def _mean_std(cfg: Any) -> dict[str, list[float]] | None:
    mean, std = as_floats(dig(cfg, "mean")), as_floats(dig(cfg, "std"))
    return {"mean": mean, "std": std} if mean and std else None


def _normalize(pipeline: Any) -> dict[str, list[float]] | None:
    norms = by_type(_flat(pipeline), "Normalize")
    return _mean_std(norms[-1]) if norms else None


def _eval_size(cfg: dict[str, Any], pipeline: Any) -> list[int] | None:
    """The size evaluation feeds, in (h, w) order: a sliding-window crop or a resize scale."""
    if dig(cfg, "model", "test_cfg", "mode") == "slide":
        return as_size(dig(cfg, "model", "test_cfg", "crop_size"))
    for t in pipeline if isinstance(pipeline, list) else []:
        scale = (
            as_size(first(dig(t, "img_scale"), dig(t, "scale"))) if isinstance(t, dict) else None
        )
        if scale is not None and t.get("type") in ("MultiScaleFlipAug", "Resize"):
            return [scale[1], scale[0]]  # MMSeg scales are (w, h)
    return None


def _schedule(cfg: dict[str, Any]) -> dict[str, Any] | None:
    lr_config = cfg.get("lr_config")
    if isinstance(lr_config, dict):
        return {"type": lr_config.get("policy"), **params(lr_config, drop=("policy",))}
    sched = cfg.get("param_scheduler")
    phases = [
        params(s) for s in (sched if isinstance(sched, list) else [sched]) if isinstance(s, dict)
    ]
    if not phases:
        return None
    if len(phases) == 1:
        return phases[0]
    return {"type": "+".join(str(p.get("type")) for p in phases), "phases": phases}


def _loss(head: dict[str, Any]) -> dict[str, Any] | None:
    terms = _loss_terms(head)
    if not terms:
        return None
    weight = next((as_floats(t["class_weight"]) for t in terms if "class_weight" in t), None)
    out: dict[str, Any] = {
        "type": "+".join(dict.fromkeys(str(t.get("type")) for t in terms)),
        "class_weight": weight,
    }
    if len(terms) == 1:
        out.update(params(terms[0], drop=("type", "class_weight")))
    else:
        out["terms"] = terms
    return out


def _model(model: Any) -> str | None:
    kind = _str(dig(model, "type"))
    if kind is None:
        return None
    backbone = _str(dig(model, "backbone", "type"))
    depth = as_int(dig(model, "backbone", "depth"))
    if backbone and depth:
        backbone = f"{backbone}-{depth}"
    head = dig(model, "decode_head")
    head_type = _str(dig(head[-1] if isinstance(head, list) and head else head, "type"))
    parts = [p for p in (backbone, head_type) if p]
    return f"{kind}({', '.join(parts)})" if parts else kind
