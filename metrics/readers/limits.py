"""Bounded reads of a whole log: a size limit, and the file fed to its parser in pieces.

A log is read in pieces of ``READ_PIECE_BYTES`` (the leftover of a piece — a partial line or
record — is carried into the next, exactly as ``LogTailer`` does), so reading a 1 GB log holds
one piece of text at a time instead of the whole file. Files larger than the limit (default
4 GiB, ``SEGWATCH_MAX_LOG_BYTES`` or ``read_log(max_bytes=...)``) are refused with a
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
READ_PIECE_BYTES = 256 << 20


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
) -> list[Parsed]:
    """Feed ``parser`` the file in ``piece``-byte reads, leftover carried, then ``finish``.

    A file rewritten whole (one JSON document) is read at once. A file that grows past
    ``limit`` while it is read raises ``LogReadError``.
    """
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
    parts.append(parser.finish(pending, at))
    return parts
