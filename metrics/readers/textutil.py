"""Helpers for text logs as real runs write them: GBK from Windows, ANSI colour, progress bars."""

from __future__ import annotations

import re
from datetime import datetime

ANSI_RE = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]")
_BACKSPACES = re.compile(rb"(\x08+)")


def decode(raw: bytes) -> str:
    """Text of a log fragment: UTF-8, else GBK (Windows runs in China), else Latin-1."""
    for encoding in ("utf-8", "gbk"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def strip_ansi(raw: bytes) -> bytes:
    """Remove ANSI escape sequences (colour, underline) from a line."""
    return ANSI_RE.sub(b"", raw) if b"\x1b" in raw else raw


def last_segment(raw: bytes) -> bytes:
    """What a terminal would show of a line redrawn with ``\\r`` and ``\\b``: the last part."""
    if b"\r" in raw:
        parts = [p for p in raw.split(b"\r") if p.strip(b"\b \t")]
        raw = parts[-1] if parts else b""
    return _backspaced(raw) if b"\b" in raw else raw


def _backspaced(raw: bytes) -> bytes:
    """A terminal's rendering of ``\\b``: the cursor steps left, the next byte overwrites."""
    shown = bytearray()
    cursor = 0
    for i, piece in enumerate(_BACKSPACES.split(raw)):
        if i % 2:  # a run of backspaces
            cursor = max(0, cursor - len(piece))
        else:
            shown[cursor : cursor + len(piece)] = piece
            cursor += len(piece)
    return bytes(shown)


def parse_timestamp(text: str, fmt: str) -> float:
    """Seconds since the epoch of a local-time stamp, or NaN when it does not parse."""
    try:
        return datetime.strptime(text, fmt).timestamp()
    except ValueError:
        return float("nan")
