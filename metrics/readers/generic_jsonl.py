"""Generic JSON-lines logs: one object of numbers per line, with a step key.

The fallback for scripts that append ``json.dumps(record)`` lines. Nested objects are
flattened with ``/`` (``{"val": {"miou": 0.5}}`` → ``val/miou``) and names map to metrics
through :mod:`metrics.readers.mapping`. The step key is chosen from the first object
(``step``, ``global_step``, ``iteration``, ``iter`` or option ``step``); a later object without
it is a bad line. Text, booleans, nulls and lists are skipped; bare ``NaN`` is kept.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from typing import Any

from metrics.errors import ColumnMappingError
from metrics.readers.base import LogFormat, Parsed, Parser, PerLineParser, RecordBuilder
from metrics.readers.mapping import (
    STEP_NAMES,
    ColumnMapping,
    RowEmitter,
    as_number,
    as_step,
    describe_columns,
)
from metrics.readers.registry import register


def load_object(raw: bytes) -> dict[str, Any] | None:
    """The JSON object on one line, or None if the line is not one."""
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


def flatten(obj: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(name, value)`` pairs of an object, nested objects joined with ``/``."""
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from flatten(value, name + "/")
        else:
            yield name, value


class JsonlParser(PerLineParser):
    """Line-based JSON-lines parser; the step key is state kept on self."""

    parse_unterminated_tail = True

    def __init__(self, mapping: ColumnMapping) -> None:
        super().__init__()
        self.mapping = mapping
        self.emitter = RowEmitter(mapping)
        self.step_key: str | None = None

    def finish(self, data: bytes, offset: int) -> Parsed:
        # a growing file's last line may be cut short: parse it only if it is whole JSON
        if load_object(data) is None:
            return RecordBuilder().build()
        return super().finish(data, offset)

    def parse_line(self, raw: bytes, offset: int, line_no: int, out: RecordBuilder) -> None:
        obj = load_object(raw)
        if obj is None:
            out.bad(line_no, "not a JSON object", raw)
            return
        try:
            values = dict(flatten(obj))
        except RecursionError:
            out.bad(line_no, "nested too deeply", raw)
            return
        if self.step_key is None:
            self.step_key = self._find_step(values)
        raw_step = values.get(self.step_key)
        step = as_step(raw_step) if as_number(raw_step) is not None else None
        if step is None:
            out.bad(line_no, f"no integer {self.step_key!r}", raw)
            return
        if self.last_train_step is not None and step < self.last_train_step:
            out.restart(offset, step, line_no)
        self.last_train_step = step
        wall_key = self.mapping.find_wall_time(values)
        wall = as_number(values.get(wall_key)) if wall_key else None
        items = [
            (name, number)
            for name, value in values.items()
            if name not in (self.step_key, wall_key)
            for number in (as_number(value),)
            if number is not None
        ]
        self.emitter.emit(out, offset, step, items, math.nan if wall is None else wall)

    def _find_step(self, values: Mapping[str, Any]) -> str:
        step = self.mapping.find_step(values)
        if step is None:
            wanted = (
                f"the step key {self.mapping.step!r}"
                if self.mapping.step
                else f"a step key ({', '.join(STEP_NAMES)}; or set option 'step')"
            )
            raise ColumnMappingError(
                f"JSON-lines object lacks {wanted}; keys found: {describe_columns(list(values))}"
            )
        return step


class GenericJsonlFormat(LogFormat):
    """Any JSON-lines file whose first object has a step-like key."""

    name = "jsonl"
    detect_rank = 900
    title = "JSON lines (generic)"

    def sniff(self, head: bytes, path: str) -> bool:
        return self.sniff_with(head, path, None)

    def sniff_with(self, head: bytes, path: str, options: Mapping[str, Any] | None) -> bool:
        mapping = ColumnMapping.from_options(options)
        for raw in head.split(b"\n", 64)[:64]:
            if raw.strip():
                obj = load_object(raw)
                return obj is not None and mapping.find_step(obj) is not None
        return False

    def new_parser(self, options: Mapping[str, Any] | None = None) -> Parser:
        return JsonlParser(ColumnMapping.from_options(options))


register(GenericJsonlFormat())
