"""Generic CSV logs: a header line with a step column, then one row of numbers per log call.

The fallback for scripts that write their own CSV (and the engine of the Lightning reader).
Column names map to metrics through :mod:`metrics.readers.mapping`; empty cells (sparse rows)
and text cells are skipped. A header repeated later in the file (a run appended to the file)
starts a new column layout; a step that goes back is a restart. An unterminated last line is
never parsed: a CSV row's completeness cannot be verified.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Mapping
from typing import Any

from metrics.errors import ColumnMappingError
from metrics.readers.base import LogFormat, Parser, PerLineParser, RecordBuilder
from metrics.readers.mapping import STEP_NAMES, ColumnMapping, RowEmitter, as_step, describe_columns
from metrics.readers.registry import register
from metrics.readers.textutil import decode


def split_cells(raw: bytes) -> list[str]:
    """The cells of one CSV line (CR, BOM and surrounding spaces removed)."""
    text = decode(raw.rstrip(b"\r\n")).lstrip("\ufeff")
    try:
        row = next(csv.reader([text]), [])
    except csv.Error:
        return [text]
    return [cell.strip() for cell in row]


# an ASCII decimal (or nan/inf as Python writes them): float() alone also takes "1_0", "\u0661"
_NUMBER = re.compile(
    r"[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|inf(?:inity)?|nan)", re.ASCII | re.IGNORECASE
)


def _number(cell: str) -> float | None:
    """The number a cell holds, or None: only what a program prints, not Python's extras."""
    return float(cell) if _NUMBER.fullmatch(cell) else None


class CsvLineParser(PerLineParser):
    """Line-based CSV parser; the header (and so the column layout) is state kept on self."""

    def __init__(self, mapping: ColumnMapping) -> None:
        super().__init__()
        self.mapping = mapping
        self.emitter = RowEmitter(mapping)
        self.header: list[str] | None = None
        self.step_col = 0
        self.wall_col: int | None = None

    def parse_line(self, raw: bytes, offset: int, line_no: int, out: RecordBuilder) -> None:
        cells = split_cells(raw)
        if self.header is None or self._is_header(cells):
            self._set_header(cells)
            return
        if len(cells) != len(self.header):
            out.bad(line_no, f"expected {len(self.header)} fields, got {len(cells)}", raw)
            return
        step = as_step(cells[self.step_col]) if _number(cells[self.step_col]) is not None else None
        if step is None:
            out.bad(line_no, f"step {cells[self.step_col]!r} is not an integer", raw)
            return
        if self.last_train_step is not None and step < self.last_train_step:
            out.restart(offset, step, line_no)
        self.last_train_step = step
        wall = None if self.wall_col is None else _number(cells[self.wall_col])
        items = [
            (name, value)
            for i, (name, cell) in enumerate(zip(self.header, cells, strict=True))
            if cell and i != self.step_col and i != self.wall_col
            for value in (_number(cell),)
            if value is not None
        ]
        self.emitter.emit(out, offset, step, items, math.nan if wall is None else wall)

    def _is_header(self, cells: list[str]) -> bool:
        step = self.mapping.find_step(cells)
        return step is not None and _number(step) is None

    def _set_header(self, cells: list[str]) -> None:
        step = self.mapping.find_step(cells)
        if step is None:
            wanted = (
                f"the step column {self.mapping.step!r}"
                if self.mapping.step
                else f"a step column ({', '.join(STEP_NAMES)}; or set option 'step')"
            )
            raise ColumnMappingError(
                f"CSV header lacks {wanted}; columns found: {describe_columns(cells)}"
            )
        self.header = cells
        self.step_col = cells.index(step)
        wall = self.mapping.find_wall_time(cells)
        self.wall_col = None if wall is None else cells.index(wall)


def first_line(head: bytes) -> bytes:
    """The first non-blank line of a file's head (terminated or not)."""
    for raw in head.split(b"\n", 64)[:64]:
        if raw.strip():
            return raw
    return b""


class GenericCsvFormat(LogFormat):
    """Any CSV whose header names a step column."""

    name = "csv"
    detect_rank = 910
    title = "CSV (generic)"

    def sniff(self, head: bytes, path: str) -> bool:
        return self.sniff_with(head, path, None)

    def sniff_with(self, head: bytes, path: str, options: Mapping[str, Any] | None) -> bool:
        line = first_line(head)
        if b"," not in line or line.lstrip().startswith((b"{", b"[")):
            return False
        cells = split_cells(line)
        return len(cells) >= 2 and ColumnMapping.from_options(options).find_step(cells) is not None

    def new_parser(self, options: Mapping[str, Any] | None = None) -> Parser:
        return CsvLineParser(ColumnMapping.from_options(options))


register(GenericCsvFormat())
