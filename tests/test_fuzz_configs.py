"""Fuzzing the config readers (issue 14): generated and mutated configs give data or a typed
``ConfigBudgetError``, never another exception, and whatever passes is within its budget
(each shared name or YAML alias counted as the copies it expands to)."""

from __future__ import annotations

import contextlib
import random
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.errors import ConfigBudgetError
from metrics.facts.budget import Budget
from metrics.facts.literal_config import parse_config
from metrics.facts.model import load_yaml

SAMPLES = Path(__file__).resolve().parents[1] / "sample_logs"
NODES, DEPTH = 2_000, 16


def _expr(rng: random.Random, names: int, depth: int = 0) -> str:
    """A random Python config expression over ``n0 … n{names-1}``: literals, names, the
    calls and sums the reader rebuilds, deep brackets (cheap to generate, unlike a
    hypothesis strategy of the same shape)."""
    if depth > 4 or rng.random() < 0.3:
        pick = rng.randrange(4 if names else 3)
        if pick == 0:
            return str(rng.choice([1, -3, 10 ** rng.randint(1, 30)]))
        if pick == 1:
            return rng.choice(["1.5", "'x'", "None", "True", "(1, 2)", "[]", "{}"])
        if pick == 2:
            k = rng.choice([rng.randint(1, 8), rng.randint(1, 300)])
            return "[" * k + "1" + "]" * k
        return f"n{rng.randrange(names)}"
    a, b = _expr(rng, names, depth + 1), _expr(rng, names, depth + 1)
    return rng.choice(
        [f"dict(a={a}, b={b})", f"[{a}, {b}]", f"{a} + {b}", f"{{**{a}}}", f"list({a})",
         f"dict({a}, z={b})", f"{{'k': {a}, **{b}}}", f"({a}, {b})"]
    )  # fmt: skip


def _program(seed: int) -> str:
    rng = random.Random(seed)
    return "".join(f"n{i} = {_expr(rng, i)}\n" for i in range(rng.randint(1, 40)))


def _within_budget(tree: object) -> None:
    Budget("check", nodes=NODES, depth=DEPTH).spend(tree)  # raises if over


@pytest.mark.parametrize("seed", range(200))
def test_generated_python_configs_are_data_or_typed_errors(seed: int) -> None:
    text = _program(seed)
    t0 = time.perf_counter()
    try:
        cfg = parse_config(text, "cfg.py", Budget("cfg.py", nodes=NODES, depth=DEPTH))
    except ConfigBudgetError as exc:
        assert str(exc).startswith("cfg.py: config too")
    else:
        _within_budget(cfg)
    # a guard against expansion (exponential: minutes or a MemoryError), not a speed target
    assert time.perf_counter() - t0 < 30.0


@st.composite
def yaml_docs(draw: st.DrawFn) -> str:
    """YAML with anchors and aliases: each level a list or mapping of earlier levels."""
    lines = ['l0: &l0 ["a", 1, 2.5]']
    for i in range(1, draw(st.integers(1, 12))):
        refs = draw(st.lists(st.integers(0, i - 1), min_size=1, max_size=9))
        if draw(st.booleans()):
            body = "[" + ", ".join(f"*l{r}" for r in refs) + "]"
        else:
            body = "{" + ", ".join(f"k{j}: *l{r}" for j, r in enumerate(refs)) + "}"
        lines.append(f"l{i}: &l{i} {body}")
    return "\n".join(lines) + "\n"


@settings(max_examples=100, deadline=None)
@given(yaml_docs())
def test_generated_yaml_with_aliases_is_data_or_typed_errors(text: str) -> None:
    try:
        cfg = load_yaml(text, "h.yaml")
    except ConfigBudgetError as exc:
        assert str(exc).startswith("h.yaml: config too")
        return
    assert cfg is not None
    Budget("check").spend(cfg)


def _corpus() -> list[tuple[str, bytes]]:
    found = sorted(SAMPLES.rglob("hparams.yaml")) + sorted(SAMPLES.rglob("*.log"))[:3]
    return [(p.name, p.read_bytes()[:20_000]) for p in found]


TOKENS = (b"&a ", b"*a", b"[", b"]", b"{", b"}", b"dict(", b")", b"\x00", b"\n", b"9" * 25, b"+")


@pytest.mark.parametrize("seed", range(40))
def test_mutated_real_configs_are_data_or_typed_errors(seed: int) -> None:
    rng = random.Random(seed)
    corpus = _corpus()
    if not corpus:
        pytest.skip("no config files in sample_logs/")
    name, data = corpus[seed % len(corpus)]
    buf = bytearray(data)
    for _ in range(rng.randint(1, 20)):
        at = rng.randrange(len(buf) + 1)
        token = rng.choice(TOKENS) * rng.randint(1, 50)
        buf[at:at] = token
    text = buf.decode("utf-8", "replace")
    for reader in (lambda t: load_yaml(t, name), lambda t: parse_config(t, name)):
        with contextlib.suppress(ConfigBudgetError):
            reader(text)
