"""Budgets for configs read from untrusted logs: size as expanded, nesting depth and time.

A config can share one subtree many times (``b = dict(x=a, y=a)``, YAML aliases): the parsed
value is small, but every consumer that walks it (``flatten``, ``json.dumps``, a figure) pays
for each copy. A ``Budget`` counts a tree's nodes as the copies they expand to, so whatever
passed it costs at most ``nodes`` to walk, and refuses trees nested deeper than ``depth`` and
reads slower than ``seconds`` with a ``ConfigBudgetError`` naming the file.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from metrics.errors import ConfigBudgetError

#: Values (dict entries and list items, each copy counted) in one run's config.
MAX_NODES = 200_000
#: Nesting of dicts and lists in one value (real configs nest fewer than 10 deep).
MAX_DEPTH = 64
#: Seconds one config may take to read.
MAX_SECONDS = 5.0


class Budget:
    """What one config may still cost: nodes (as expanded), depth and time."""

    def __init__(
        self,
        where: str,
        nodes: int = MAX_NODES,
        depth: int = MAX_DEPTH,
        seconds: float = MAX_SECONDS,
    ) -> None:
        self.where = where
        self.nodes = nodes
        self.limit = nodes
        self.depth = depth
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds

    def tick(self) -> None:
        """Raise when the time is up."""
        if time.monotonic() > self.deadline:
            raise ConfigBudgetError(
                f"{self.where}: config too slow to read (over {self.seconds:g} s); "
                "facts unavailable"
            )

    def reserve(self, count: int) -> None:
        """Raise when ``count`` more values would not fit (a list about to be built)."""
        if count > self.nodes:
            raise self._too_large()

    def spend(self, tree: Any) -> None:
        """Count ``tree``'s values, each shared subtree once per place it appears."""
        stack: list[tuple[Any, int]] = [(tree, 0)]
        left = self.nodes
        while stack:
            node, level = stack.pop()
            if isinstance(node, Mapping):
                children: Any = node.values()
            elif isinstance(node, list | tuple):
                children = node
            else:
                continue
            if level >= self.depth:
                raise ConfigBudgetError(
                    f"{self.where}: config too deep (nested more than {self.depth} levels); "
                    "facts unavailable"
                )
            left -= len(children)
            if left < 0:
                raise self._too_large()
            stack.extend((child, level + 1) for child in children)
        self.nodes = left
        self.tick()

    def _too_large(self) -> ConfigBudgetError:
        return ConfigBudgetError(
            f"{self.where}: config too large (more than {self.limit:,} values once shared "
            "parts are expanded); facts unavailable"
        )


def too_deep(where: str) -> ConfigBudgetError:
    """The error for a text nested deeper than its parser can follow."""
    return ConfigBudgetError(f"{where}: config too deeply nested to read; facts unavailable")
