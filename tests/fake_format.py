"""A trivial log format for tests of the tailer and run discovery (httpx-style fake back-end).

Lines look like ``FAKE step=12 loss=0.5 miou=0.3``; a file starting with ``FAKEDOC`` is a
whole-file document of the same lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from metrics.readers import registry
from metrics.readers.base import LineParser, LogFormat, Parser, RecordBuilder, WholeFileParser

LINE_RE = re.compile(rb"FAKE step=(-?\d+)((?: \w+=\S+)*)")


def _parse(parser: LineParser | None, data: bytes, offset: int, out: RecordBuilder) -> None:
    pos = 0
    for raw in data.splitlines(keepends=True):
        m = LINE_RE.match(raw)
        if m:
            step = int(m.group(1))
            if parser is not None:
                if parser.last_train_step is not None and step < parser.last_train_step:
                    out.restart(offset + pos, step, parser.line_number(data, pos))
                parser.last_train_step = step
            for kv in m.group(2).split():
                key, _, val = kv.partition(b"=")
                name = key.decode()
                split = "val" if name == "miou" else "train"
                try:
                    out.add(offset + pos, step, split, name, float(val))
                except ValueError:
                    out.bad(parser.line_number(data, pos) if parser else 0, "bad number", raw)
        pos += len(raw)


class FakeLineParser(LineParser):
    def parse_lines(self, data: bytes, offset: int, out: RecordBuilder) -> None:
        _parse(self, data, offset, out)


class FakeDocParser(WholeFileParser):
    def parse_document(self, data: bytes, out: RecordBuilder) -> None:
        _parse(None, data, 0, out)


class FakeFormat(LogFormat):
    name = "fake"
    title = "fake lines for tests"

    def sniff(self, head: bytes, path: str) -> bool:
        return head.startswith(b"FAKE ")

    def new_parser(self, options: Mapping[str, Any] | None = None) -> Parser:
        return FakeLineParser()


class FakeDocFormat(LogFormat):
    name = "fakedoc"
    title = "fake whole-file document for tests"
    whole_file = True

    def sniff(self, head: bytes, path: str) -> bool:
        return head.startswith(b"FAKEDOC")

    def new_parser(self, options: Mapping[str, Any] | None = None) -> Parser:
        return FakeDocParser()


@contextmanager
def fake_formats() -> Iterator[None]:
    """Register the fake formats first in detection order for the duration of a test."""
    registry.formats()
    added = [FakeDocFormat(), FakeFormat()]
    registry._FORMATS[:0] = added
    try:
        yield
    finally:
        for f in added:
            registry._FORMATS.remove(f)
