"""PyTorch Lightning ``CSVLogger`` ``metrics.csv``: sparse rows, CRLF, rewritten on new columns.

Lightning writes with ``csv.DictWriter`` (CRLF), one row per ``log_metrics`` call with ``step``
(the global step) and ``epoch``; a row fills only the metrics of that call. When a metric
appears for the first time the whole file is rewritten with the new (sorted, since 2.2) header,
so the file is read whole. Rows are parsed by the generic CSV parser with the column mapping
of :mod:`metrics.readers.mapping` (``val_mIoU_epoch`` → ``miou`` at val, ``lr-AdamW`` → ``lr``).
Values are taken as logged (torchmetrics → fractions) unless option ``percent`` says otherwise.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from typing import Any

from metrics.readers.base import LogFormat, Parser, RecordBuilder, WholeFileParser
from metrics.readers.mapping import ColumnMapping
from metrics.readers.registry import register
from metrics.readers.textutil import decode


class LightningCsvParser(WholeFileParser):
    """Parses the whole ``metrics.csv`` (only complete, newline-terminated rows)."""

    def __init__(self, options: Mapping[str, Any] | None) -> None:
        self.options = dict(options or {})
        ColumnMapping.from_options(self.options)  # fail early on malformed options

    def parse_document(self, data: bytes, out: RecordBuilder) -> None:
        # imported here so that importing this module does not register the generic CSV
        # format ahead of the formats detected before it
        from metrics.readers.generic_csv import CsvLineParser

        end = data.rfind(b"\n") + 1
        if end:
            CsvLineParser(ColumnMapping.from_options(self.options)).parse_lines(data[:end], 0, out)


class LightningCsvFormat(LogFormat):
    """Lightning's CSVLogger: a CRLF header holding both ``epoch`` and ``step``."""

    name = "lightning-csv"
    detect_rank = 200
    canonical_names = ("metrics.csv",)
    title = "PyTorch Lightning CSVLogger (metrics.csv)"
    whole_file = True

    def sniff(self, head: bytes, path: str) -> bool:
        end = head.find(b"\n")
        if end < 1 or head[end - 1 : end] != b"\r":
            return False
        header = decode(head[: end - 1]).lstrip("\ufeff")
        try:
            cells = {cell.strip() for cell in next(csv.reader([header]), [])}
        except csv.Error:
            return False
        return "step" in cells and "epoch" in cells

    def new_parser(self, options: Mapping[str, Any] | None = None) -> Parser:
        return LightningCsvParser(options)


register(LightningCsvFormat())
