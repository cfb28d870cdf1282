"""MMSeg text train-line layouts: the regex that reads every train line of one key sequence.

A dialect says how one MMSeg version prints a train line; the keys of one line make a layout
whose regex matches a line only where its fields are cut as the per-line parser cuts them (keys
as printed, values that cannot hold the separator), so a match reads what ``line`` would read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from metrics.readers._mmseg_common import metric_name


@dataclass(frozen=True)
class Dialect:
    """How one MMSeg version prints its train lines (regex sources, multiline).

    ``prefix`` is the log prefix, with named groups ``year`` (``YYYY`` or empty) and ``stamp``
    (the rest, fixed width; ``clock``: (start, length) of its month, day, hour, minute, second
    and any millisecond digits); ``header`` is ``Iter …`` / ``Epoch …`` with groups ``it max``
    or ``ep inner len``. ``fields`` cuts ``sep + body`` into ``(separator)(key): (value)``
    tokens as the per-line parser cuts the body; a layout joins its keys by ``join``, reads a
    value with ``value`` (``eta``'s with ``eta``) and ends with ``tail``. ``quiet``: a line
    whose only effect is to end a class table.
    """

    prefix: bytes
    header: bytes
    tail: bytes
    fields: re.Pattern[bytes]
    sep: bytes
    join: bytes
    value: bytes
    eta: bytes
    markers: tuple[bytes, ...]  # text every train line holds
    clock: tuple[tuple[int, int], ...]
    quiet: bytes = b""
    slow_keys: tuple[str, ...] = ()  # key prefixes the per-line parser treats specially

    def generic(self) -> re.Pattern[bytes]:
        """A train line with any printable body (group ``body``, stripped)."""
        return re.compile(self.prefix + self.header + rb"(?P<body>[ -~]*[!-~])" + self.tail)


@dataclass(frozen=True)
class Layout:
    """One key sequence of a dialect's train lines: its regex and the metric of each value."""

    pattern: re.Pattern[bytes]
    names: tuple[str, ...]


def layout_of(body: bytes, dialect: Dialect) -> Layout | None:
    """The layout of a train line's body, or None where only the per-line parser reads it."""
    tokens = dialect.fields.findall(dialect.sep + body)
    if sum(len(s) + len(k) + len(v) + 2 for s, k, v in tokens) != len(dialect.sep) + len(body):
        return None  # its fields are cut otherwise than the per-line parser cuts them
    keys = [k.decode("ascii") for _, k, _ in tokens]
    if any(k.startswith(p) for k in keys for p in dialect.slow_keys):
        return None
    names = tuple(metric_name(k) for k in keys if k != "eta")
    if not names:
        return None
    captured = iter(range(len(names)))
    fields = dialect.join.join(
        re.escape(k.encode())
        + b": "
        + (dialect.eta if k == "eta" else b"(?P<v%d>" % next(captured) + dialect.value + b")")
        for k in keys
    )
    line = dialect.prefix + rb"(?:" + dialect.header + fields
    line += rb"|" + dialect.quiet + rb")" if dialect.quiet else rb")"
    return Layout(re.compile(rb"^(?:" + line + dialect.tail + rb"|)[^\n]*\n", re.M), names)
