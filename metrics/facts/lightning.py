"""Facts from a Lightning run's ``hparams.yaml`` (whatever the LightningModule saved)."""

from __future__ import annotations

from typing import Any

from metrics.facts.model import RunFacts, as_float, as_int, first


def facts_from_hparams(hparams: dict[str, Any], source: str) -> RunFacts:
    """The usual hyper-parameter names (``lr``, ``num_classes``, ``batch_size``, ``max_steps``)."""
    model = first(*(hparams.get(k) for k in ("arch", "model", "architecture", "encoder")))
    max_steps = as_int(hparams.get("max_steps"))
    return RunFacts(
        planned_steps=max_steps if max_steps and max_steps > 0 else None,
        batch_size=as_int(hparams.get("batch_size")),
        num_classes=as_int(first(hparams.get("num_classes"), hparams.get("n_classes"))),
        ignore_index=as_int(hparams.get("ignore_index")),
        base_lr=as_float(first(hparams.get("lr"), hparams.get("learning_rate"))),
        optimizer=hparams.get("optimizer") if isinstance(hparams.get("optimizer"), str) else None,
        weight_decay=as_float(hparams.get("weight_decay")),
        model=model if isinstance(model, str) else None,
        framework="lightning",
        source=source,
        config=hparams,
    )
