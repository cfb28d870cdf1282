"""YAML configs read as data under a budget, aliases counted as the copies they expand to.

The document is first walked as a stream of parser events (no object is built): each alias
adds the size of the node it names, so a "billion laughs" is refused after at most the
budget's node count of events, and a long document is refused before PyYAML builds it (building
is the slow part: seconds per MB). Only then is it loaded with the safe loader (libyaml's when
present; it also refuses nesting past 1,000 levels) and measured exactly (``Budget.spend``).
"""

from __future__ import annotations

from typing import Any

import yaml

from metrics.facts.budget import Budget, too_deep

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPEN = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def load_yaml(text: str, where: str = "YAML config") -> dict[str, Any] | None:
    """A YAML mapping read with the safe loader (data only, no object construction), or None
    when it is not YAML or not a mapping; ``ConfigBudgetError`` naming ``where`` when it is
    too large (as expanded), too deep or too slow."""
    budget = Budget(where)
    try:
        _precount(text, budget)
        data = yaml.load(text, Loader=_LOADER)
    except RecursionError:
        raise too_deep(where) from None
    except yaml.YAMLError as exc:
        if "nesting depth" in str(exc):
            raise too_deep(where) from None
        return None
    if not isinstance(data, dict):
        return None
    budget.spend(data)
    return data


def _precount(text: str, budget: Budget) -> None:
    """Walk the events, counting every node (keys too) as expanded; raise over the budget."""
    limit = 2 * budget.nodes  # keys and values; ``spend`` counts values exactly afterwards
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = []  # [anchor, nodes so far] per open collection
    for i, event in enumerate(yaml.parse(text, Loader=_LOADER)):
        if i % 4096 == 0:
            budget.tick()
        if isinstance(event, _OPEN):
            stack.append([event.anchor, 0])
            if len(stack) > budget.depth + 1:
                raise too_deep(budget.where)
            continue
        if isinstance(event, _CLOSE):
            anchor, size = stack.pop()
            size += 1
        elif isinstance(event, yaml.ScalarEvent):
            anchor, size = event.anchor, 1
        elif isinstance(event, yaml.AliasEvent):
            anchor, size = None, sizes.get(event.anchor or "", 1)
        else:
            continue
        if anchor:
            sizes[anchor] = size
        if stack:
            stack[-1][1] += size
            if stack[-1][1] > limit:
                budget.reserve(budget.nodes + 1)  # raises "config too large"
