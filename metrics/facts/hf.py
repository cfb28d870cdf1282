"""Facts from a Hugging Face Trainer run: ``trainer_state.json`` and the model's ``config.json``.

``training_args.bin`` is a pickle and is never opened (unpickling runs code).
"""

from __future__ import annotations

import json
from typing import Any

from metrics.facts.budget import Budget, too_deep
from metrics.facts.model import RunFacts, as_int, first


def load_json(text: str, where: str = "JSON config") -> dict[str, Any] | None:
    """A JSON object, or None; ``ConfigBudgetError`` when nested too deep to parse."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    except RecursionError:
        raise too_deep(where) from None
    return data if isinstance(data, dict) else None


def facts_from_state(
    state: dict[str, Any], model_config: dict[str, Any] | None, source: str
) -> RunFacts:
    """Planned steps and batch size from the trainer state; labels and model from config.json."""
    model_config = model_config or {}
    names = _labels(model_config.get("id2label"))
    arch = model_config.get("architectures")
    model = arch[0] if isinstance(arch, list) and arch and isinstance(arch[0], str) else None
    config = {
        "trainer_state": {k: v for k, v in state.items() if k != "log_history"},
        "model_config": model_config,
    }
    Budget(source).spend(config)  # the config is walked by diff and shown: bound it
    return RunFacts(
        planned_steps=as_int(state.get("max_steps")) or None,
        batch_size=as_int(state.get("train_batch_size")),
        num_classes=as_int(first(model_config.get("num_labels"), len(names) if names else None)),
        ignore_index=as_int(model_config.get("semantic_loss_ignore_index")),
        class_names=names,
        model=first(model, model_config.get("model_type")),
        size_order="hw",
        framework="hf",
        source=source,
        config=config,
    )


def _labels(id2label: Any) -> list[str] | None:
    """Class names in id order from ``{"0": "road", …}``; None if the ids are not 0…n-1."""
    if not isinstance(id2label, dict) or not id2label:
        return None
    try:
        by_id = {int(k): str(v) for k, v in id2label.items()}
    except ValueError:
        return None
    if sorted(by_id) != list(range(len(by_id))):
        return None
    return [by_id[i] for i in range(len(by_id))]
