"""Read a Python-syntax config (MMSegmentation, MMEngine) as data, never executing it.

Each top-level ``name = value`` statement is parsed with ``ast``; values are literals,
``dict(...)``/``list(...)``/``tuple(...)`` calls rebuilt by hand, names assigned earlier in the
same text, and arithmetic on numbers. Anything else (a call, an attribute, a lambda, an import)
is kept as its source text. Nothing is imported, evaluated or executed.

Reading is bounded (``metrics.facts.budget``): a config whose values, shared names expanded,
exceed the budget's size, depth or time raises ``ConfigBudgetError``. An integer beyond
±1e18 is kept as its source text (no consumer downstream has to handle it).
"""

from __future__ import annotations

import ast
import itertools
import operator
import re
import warnings
from collections.abc import Callable
from typing import Any

from metrics.facts.budget import Budget, too_deep

# A top-level statement starts at column 0 with ``name =``; continuation lines do not.
_STATEMENT_RE = re.compile(r"^[A-Za-z_]\w*\s*=(?!=)", re.MULTILINE)
_ARITH: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_MAX_NUMBER = 1e18
_MAX_TRIMS = 20  # trailing lines dropped, one by one, from a statement that does not parse


class _NotLiteral(Exception):
    """A value that cannot be read as data."""


def parse_config(text: str, where: str = "config", budget: Budget | None = None) -> dict[str, Any]:
    """The ``name = value`` assignments of a config text as a dict (tuples become lists).

    A statement that does not parse is skipped; a value that is not data is kept as text.
    ``ConfigBudgetError`` (naming ``where``) when the config exceeds ``budget`` (default:
    ``Budget(where)``) in size as expanded, depth or time.
    """
    budget = budget or Budget(where)
    names: dict[str, Any] = {}
    for chunk in _statements(text):
        budget.tick()
        parsed = _parse(chunk, budget)
        if parsed is None:
            continue
        tree, source = parsed
        for stmt in tree.body:
            if not isinstance(stmt, ast.Assign):
                continue
            try:
                value = _value(stmt.value, source, names, budget)
            except RecursionError:
                raise too_deep(where) from None
            budget.spend(value)
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = value
    return names


def _parse(chunk: str, budget: Budget) -> tuple[ast.Module, str] | None:
    """The syntax tree of a statement, dropping trailing lines that are not Python (log noise)."""
    lines = chunk.splitlines(keepends=True)
    for end in range(len(lines), max(0, len(lines) - _MAX_TRIMS), -1):
        budget.tick()
        source = "".join(lines[:end])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # '\p' in a Windows path is not our concern
                return ast.parse(source), source
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return None


def _statements(text: str) -> list[str]:
    """The text cut into top-level statements, so that one broken statement costs only itself."""
    starts = [m.start() for m in _STATEMENT_RE.finditer(text)]
    bounds = [*starts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


def _value(node: ast.expr, source: str, names: dict[str, Any], budget: Budget) -> Any:
    try:
        return _literal(node, source, names, budget)
    except _NotLiteral:
        return ast.get_source_segment(source, node) or ""


def _literal(node: ast.expr, source: str, names: dict[str, Any], budget: Budget) -> Any:
    """The data a node stands for; a nested non-literal becomes its source text."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, int | float) and abs(node.value) > _MAX_NUMBER:
            raise _NotLiteral  # kept as text: no consumer has to handle a 29-digit integer
        return node.value
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [_value(e, source, names, budget) for e in node.elts]
    if isinstance(node, ast.Dict):
        return _dict_display(node, source, names, budget)
    if isinstance(node, ast.Name):
        if node.id in names:
            return names[node.id]
        raise _NotLiteral
    if isinstance(node, ast.Call):
        return _call(node, source, names, budget)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _literal(node.operand, source, names, budget)
        if _is_number(operand):
            return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        return _binop(node, source, names, budget)
    raise _NotLiteral


def _dict_display(
    node: ast.Dict, source: str, names: dict[str, Any], budget: Budget
) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for key, val in zip(node.keys, node.values, strict=True):
        if key is None:  # {**other}
            merged = _literal(val, source, names, budget)
            if not isinstance(merged, dict):
                raise _NotLiteral
            out.update(merged)
            continue
        k = _literal(key, source, names, budget)
        if not isinstance(k, str | int | float | bool) and k is not None:
            raise _NotLiteral
        out[k] = _value(val, source, names, budget)
    return out


def _call(node: ast.Call, source: str, names: dict[str, Any], budget: Budget) -> Any:
    """``dict(a=1, **base)``, ``list(x)``, ``tuple(x)``: rebuilt without calling anything."""
    if not isinstance(node.func, ast.Name) or node.func.id not in ("dict", "list", "tuple"):
        raise _NotLiteral
    if node.func.id == "dict":
        out: dict[str, Any] = {}
        for arg in node.args:
            base = _literal(arg, source, names, budget)
            if not isinstance(base, dict):
                raise _NotLiteral
            out.update(base)
        for kw in node.keywords:
            if kw.arg is None:
                extra = _literal(kw.value, source, names, budget)
                if not isinstance(extra, dict):
                    raise _NotLiteral
                out.update(extra)
            else:
                out[kw.arg] = _value(kw.value, source, names, budget)
        return out
    if node.keywords or len(node.args) > 1:
        raise _NotLiteral
    if not node.args:
        return []
    items = _literal(node.args[0], source, names, budget)
    if not isinstance(items, list | str):
        raise _NotLiteral
    budget.reserve(len(items))
    return list(items)


def _binop(node: ast.BinOp, source: str, names: dict[str, Any], budget: Budget) -> Any:
    left = _literal(node.left, source, names, budget)
    right = _literal(node.right, source, names, budget)
    if isinstance(node.op, ast.Add) and isinstance(left, list) and isinstance(right, list):
        budget.reserve(len(left) + len(right))
        return left + right
    if not (_is_number(left) and _is_number(right)):
        raise _NotLiteral
    try:
        result = _ARITH[type(node.op)](left, right)
    except (ZeroDivisionError, OverflowError):
        raise _NotLiteral from None
    if abs(result) > _MAX_NUMBER:
        raise _NotLiteral
    return result


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
