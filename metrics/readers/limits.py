"""Bounded reads of a whole log: a size limit, and the file fed to its parser in pieces.

A log is read in pieces of ``READ_PIECE_BYTES`` (the leftover of a piece — a partial line or
record — is carried into the next, exactly as ``LogTailer`` does), so reading a 1 GB log holds
one piece of text at a time instead of the whole file. Files larger than the limit (default
4 GiB, ``SEGWATCH_MAX_LOG_BYTES`` or ``read_log(max_bytes=...)``) and lines longer than 64 MiB
(``SEGWATCH_MAX_LINE_BYTES``) are refused with a
``LogReadError`` naming the file and the limit; FIFOs and devices never get here (``Source``
refuses what is not a regular file).
"""

from __future__ import annotations

import os

from metrics.errors import LogReadError
from metrics.readers.base import Parsed, Parser
from metrics.readers.source import Source

MAX_LOG_BYTES_ENV = "SEGWATCH_MAX_LOG_BYTES"
DEFAULT_MAX_LOG_BYTES = 4 << 30
READ_PIECE_BYTES = 32 << 20
MAX_LINE_BYTES_ENV = "SEGWATCH_MAX_LINE_BYTES"
#: The longest line (or unfinished record) a reader holds; a longer one is refused.
DEFAULT_MAX_LINE_BYTES = 64 << 20


def max_log_bytes(limit: int | None = None) -> int:
    """The size limit: ``limit`` if given, else ``$SEGWATCH_MAX_LOG_BYTES``, else 4 GiB."""
    if limit is None:
        raw = os.environ.get(MAX_LOG_BYTES_ENV, "").strip()
        if not raw:
            return DEFAULT_MAX_LOG_BYTES
        try:
            limit = int(raw)
        except ValueError:
            raise LogReadError(f"{MAX_LOG_BYTES_ENV}={raw!r} is not a number of bytes") from None
    if limit <= 0:
        raise LogReadError(f"the log size limit must be positive, got {limit}")
    return limit


def max_line_bytes(limit: int | None = None) -> int:
    """The line-length bound: ``limit``, else ``$SEGWATCH_MAX_LINE_BYTES``, else 64 MiB."""
    if limit is None:
        raw = os.environ.get(MAX_LINE_BYTES_ENV, "").strip()
        if not raw:
            return DEFAULT_MAX_LINE_BYTES
        try:
            limit = int(raw)
        except ValueError:
            raise LogReadError(f"{MAX_LINE_BYTES_ENV}={raw!r} is not a number of bytes") from None
    if limit <= 0:
        raise LogReadError(f"the line length limit must be positive, got {limit}")
    return limit


def line_too_long(path: str, at: int, size: int, limit: int) -> LogReadError:
    """The error for a line (or unfinished record) longer than the bound."""
    return LogReadError(
        f"{path}: the line starting at byte {at:,} is {size:,} bytes or more, longer than the "
        f"limit of {limit:,} bytes (a log line is expected to be short; raise the limit with "
        f"{MAX_LINE_BYTES_ENV})"
    )


def too_large(path: str, size: int, limit: int) -> LogReadError:
    """The error for a log over the limit (it names the file, its size and the limit)."""
    return LogReadError(
        f"{path}: {size:,} bytes or more, larger than the limit of {limit:,} bytes "
        f"(raise it with {MAX_LOG_BYTES_ENV} or read_log(max_bytes=...))"
    )


def parse_in_pieces(
    src: Source,
    parser: Parser,
    whole_file: bool,
    limit: int,
    piece: int = READ_PIECE_BYTES,
    max_line: int | None = None,
) -> list[Parsed]:
    """Feed ``parser`` the file in ``piece``-byte reads, leftover carried, then ``finish``.

    A file rewritten whole (one JSON document) is read at once. A file that grows past
    ``limit`` while it is read, or a leftover (a line not yet ended) longer than ``max_line``
    (``max_line_bytes``), raises ``LogReadError``: memory stays near ``piece + max_line``.
    """
    line_limit = max_line_bytes(max_line)
    size = src.stat().size
    if size > limit:
        raise too_large(src.path, size, limit)
    if whole_file:
        data = src.read_range(0, limit + 1)
        if len(data) > limit:
            raise too_large(src.path, len(data), limit)
        return [parser.finish(data, 0)]
    parts: list[Parsed] = []
    pending = b""
    at = 0  # file offset of ``pending``
    read = 0
    while True:
        chunk = src.read_range(read, read + piece)
        read += len(chunk)
        if read > limit:
            raise too_large(src.path, read, limit)
        if not chunk:
            break
        pending = pending + chunk if pending else chunk
        last = len(chunk) < piece  # a short read: the end of the file (as it is now)
        parsed, used = parser.feed(pending, at, last)
        parts.append(parsed)
        pending = pending[used:]
        at += used
        if len(pending) > line_limit:
            raise line_too_long(src.path, at, len(pending), line_limit)
    parts.append(parser.finish(pending, at))
    return parts
