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


def test_every_finding_code_has_a_row_with_its_severity_and_status() -> None:
    from metrics.diagnosis import CODES, STATUS_ORDER

    table = README.split("| code | severity | status | when |", 1)[1].split("\n\n", 1)[0]
    rows = {
        m.group(1): (m.group(2), m.group(3))
        for m in re.finditer(r"^\| `(\w+)` \| ([^|]+) \| ([^|]+) \|", table, re.MULTILINE)
    }
    assert set(rows) == set(CODES)
    for code, declared in CODES.items():
        severity, status = rows[code]
        assert declared.severity in severity, code
        assert (declared.status or "—") in status, code
    statuses = README.split("| status | meaning |", 1)[1].split("\n\n", 1)[0]
    assert re.findall(r"^\| `(\w+)` \|", statuses, re.MULTILINE) == list(STATUS_ORDER)


def test_every_check_flag_is_documented() -> None:
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    flags = [
        o
        for a in sub.choices["check"]._actions
        for o in a.option_strings
        if o not in ("-h", "--help")
    ]
    for flag in flags:
        assert flag in README, flag
