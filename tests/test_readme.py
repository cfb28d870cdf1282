"""The README keeps up with the code: every command, format and diagnosis setting is documented."""

from __future__ import annotations

import argparse
import re
from dataclasses import fields

from dashboard.cli import _parser
from metrics.diagnosis import DiagnosisConfig
from metrics.readers.registry import formats
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_quick_start_is_two_commands_serving_the_samples_and_running_the_tests() -> None:
    block = README.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert len(commands) == 2
    assert commands[0].endswith("segwatch serve")
    assert commands[1].endswith("python -m pytest -q")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci  # CI calls exactly the README's test command


def test_every_command_is_documented() -> None:
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name in sub.choices:
        assert f"segwatch {name}" in README, name


def test_every_format_is_documented() -> None:
    for fmt in formats():
        assert f"`{fmt.name}`" in README, fmt.name


def test_every_diagnosis_setting_is_documented() -> None:
    table = README.split("| setting | default | meaning |", 1)[1].split("\n\n", 1)[0]
    documented = set(re.findall(r"`(\w+)`", table))
    assert {f.name for f in fields(DiagnosisConfig)} <= documented
