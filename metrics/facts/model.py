"""What a run's logged config says about it: ``RunFacts`` and small helpers to read config trees."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from metrics.readers.base import LogMeta

# The facts shown on the run page and in ``segwatch check --json``, in this order.
FACT_KEYS = (
    "planned_steps",
    "batch_size",
    "num_classes",
    "ignore_index",
    "class_names",
    "crop_size",
    "normalize",
    "base_lr",
    "lr_schedule",
    "optimizer",
    "weight_decay",
    "loss",
    "model",
    "dataset",
    "eval_transforms",
)
# The facts the diagnosis reads from ``run.meta``.
META_KEYS = ("planned_steps", "num_classes", "class_names", "ignore_index")


@dataclass(frozen=True)
class RunFacts:
    """Facts from a run's logged config; each None when the log does not say.

    ``crop_size`` and eval sizes are kept as the framework writes them; ``size_order`` says how
    to read them (``"wh"``: PaddleSeg, ``"hw"``: MMSegmentation, Detectron2). ``config`` is the
    whole parsed config (nested), which ``metrics.runs.diff`` compares; ``source`` names the file
    and block the facts came from; ``unavailable`` says why a config was found but not read
    (over its budget: see ``metrics.facts.budget``).
    """

    planned_steps: int | None = None
    batch_size: int | None = None
    num_classes: int | None = None
    ignore_index: int | None = None
    class_names: list[str] | None = None
    crop_size: list[int] | None = None
    normalize: dict[str, list[float]] | None = None
    base_lr: float | None = None
    lr_schedule: dict[str, Any] | None = None
    optimizer: str | None = None
    weight_decay: float | None = None
    loss: dict[str, Any] | None = None
    model: str | None = None
    dataset: str | None = None
    eval_transforms: list[Any] | None = None
    framework: str | None = None  # paddleseg, mmseg, detectron2, hf, lightning
    size_order: str = "hw"
    eval_size: list[int] | None = None  # the fixed size evaluation resizes to, if any
    eval_normalize: dict[str, list[float]] | None = None
    source: str | None = None
    unavailable: str | None = None  # why the config could not be read (too large, too deep)
    config: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The facts as JSON-ready data (``segwatch check --json`` key ``facts``)."""
        out = {k: getattr(self, k) for k in FACT_KEYS}
        out["source"] = self.source
        if self.unavailable is not None:
            out["unavailable"] = self.unavailable
        return out

    def as_meta(self) -> dict[str, Any]:
        """The facts the diagnosis reads (only those the config states), for run.meta."""
        return {k: getattr(self, k) for k in META_KEYS if getattr(self, k) is not None}

    def filled_from(self, log: LogMeta) -> RunFacts:
        """Facts still unknown taken from what the readers saw (``run.meta``)."""
        meta = log.stated()
        known = {f.name for f in fields(self)}
        missing = {
            k: meta[k]
            for k in META_KEYS
            if k in known and getattr(self, k) is None and meta.get(k) is not None
        }
        if self.num_classes is None and "num_classes" not in missing:
            names = missing.get("class_names") or self.class_names
            if names:
                missing["num_classes"] = len(names)
        if not missing:
            return self
        return RunFacts(**{**{f.name: getattr(self, f.name) for f in fields(self)}, **missing})


def dig(tree: Any, *path: str | int) -> Any:
    """``tree[a][b]…`` or None when any step is missing or of the wrong kind."""
    node = tree
    for key in path:
        if isinstance(key, int):
            if not isinstance(node, list) or not -len(node) <= key < len(node):
                return None
            node = node[key]
        elif isinstance(node, Mapping) and key in node:
            node = node[key]
        else:
            return None
    return node


def first(*values: Any) -> Any:
    """The first value that is not None."""
    return next((v for v in values if v is not None), None)


_INT64 = 2**63


def as_int(value: Any) -> int | None:
    """An integral number within int64 (what a table or a chart can hold), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, int):
        return value if -_INT64 <= value < _INT64 else None
    return int(value) if value.is_integer() and -_INT64 <= value < _INT64 else None


def as_float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer beyond float range
        return None


def as_size(value: Any) -> list[int] | None:
    """A size written as one int or a pair of ints, as a two-item list."""
    if as_int(value) is not None:
        return [int(value), int(value)]
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        pair = [as_int(v) for v in value]
        if pair[0] is not None and pair[1] is not None:
            return [pair[0], pair[1]]
    return None


def as_floats(value: Any) -> list[float] | None:
    if isinstance(value, Sequence) and not isinstance(value, str) and value:
        nums = [as_float(v) for v in value]
        if all(n is not None for n in nums):
            return [float(n) for n in nums if n is not None]
    return None


def as_names(value: Any) -> list[str] | None:
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        return None
    return [str(v) for v in value] if all(isinstance(v, str) for v in value) else None


def by_type(transforms: Any, *names: str) -> list[Mapping[str, Any]]:
    """The transforms (dicts with a ``type``) of a pipeline whose type is one of ``names``."""
    if not isinstance(transforms, list):
        return []
    return [t for t in transforms if isinstance(t, Mapping) and t.get("type") in names]


def params(entry: Any, drop: Sequence[str] = ()) -> dict[str, Any]:
    """A config dict's items (without ``drop``), as a plain dict; {} when not a dict."""
    if not isinstance(entry, Mapping):
        return {}
    return {str(k): v for k, v in entry.items() if k not in drop}


def load_yaml(text: str, where: str = "YAML config") -> dict[str, Any] | None:
    """A YAML mapping read as data under a budget, or None (see ``metrics.facts.yaml_config``).

    Aliases are counted as the copies they expand to: a "billion laughs" or a too-deep
    document raises ``ConfigBudgetError`` naming ``where``.
    """
    from metrics.facts.yaml_config import load_yaml as load

    return load(text, where)
