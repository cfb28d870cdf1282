"""The registry of log formats, detection by content, and one-shot reads of a log file."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from metrics.errors import ColumnMappingError, LogFormatError
from metrics.readers.base import (
    BadLine,
    LogFormat,
    LogMeta,
    Parsed,
    Restart,
    assemble,
    code_dtype,
    merged_meta,
)
from metrics.readers.limits import max_log_bytes, parse_in_pieces
from metrics.readers.restarts import apply_restarts
from metrics.readers.source import open_source
from metrics.schema import (
    COLUMNS,
    SPLITS,
    codes_categorical,
    constant_categorical,
    empty_table,
    frame_of,
    validate_table,
)

SNIFF_BYTES = 256 * 1024

_FORMATS: list[LogFormat] = []


def register(fmt: LogFormat) -> LogFormat:
    """Add a format to the registry; detection tries formats by their ``detect_rank``."""
    if any(f.name == fmt.name for f in _FORMATS):
        raise ValueError(f"a log format named {fmt.name!r} is already registered")
    _FORMATS.append(fmt)
    _FORMATS.sort(key=lambda f: f.detect_rank)  # stable: equal ranks keep registration order
    return fmt


def formats() -> tuple[LogFormat, ...]:
    """Every registered format, in detection order."""
    from metrics.readers import load_builtin_formats

    load_builtin_formats()
    return tuple(_FORMATS)


def get_format(name: str) -> LogFormat:
    """The format registered under ``name``."""
    for fmt in formats():
        if fmt.name == name:
            return fmt
    known = ", ".join(f.name for f in formats())
    raise LogFormatError(f"unknown log format {name!r}; known formats: {known}")


def sniff_format(
    head: bytes, path: str, options: Mapping[str, Any] | None = None
) -> LogFormat | None:
    """The first registered format whose sniffer accepts ``head``, or None."""
    for fmt in formats():
        if fmt.sniff_with(head, path, options) if options else fmt.sniff(head, path):
            return fmt
    return None


def detect_format(path: str, options: Mapping[str, Any] | None = None) -> LogFormat:
    """The format of the file at ``path`` (local path or fsspec URL), judged by its content."""
    src = open_source(path)
    head = src.read_head(SNIFF_BYTES)
    fmt = sniff_format(head, path, options)
    if fmt is None:
        tried = ", ".join(f.name for f in formats())
        what = "it is empty" if not head else "its content matches none of them"
        raise LogFormatError(
            f"{path}: not a log segwatch can read ({what}); formats tried: {tried}"
        )
    return fmt


@dataclass(frozen=True)
class LogData:
    """One log file read in full: its tidy table and what the reader noticed."""

    path: str
    format: str
    table: pd.DataFrame
    restarts: tuple[Restart, ...] = ()
    bad_lines: tuple[BadLine, ...] = ()
    meta: LogMeta = field(default_factory=LogMeta)


def finalize(
    parts: Sequence[Parsed], run: str
) -> tuple[pd.DataFrame, list[Restart], list[BadLine], LogMeta]:
    """Merge parser output into one tidy table with restarts applied."""
    restarts = [r for p in parts for r in p.restarts]
    bad = [b for p in parts for b in p.bad_lines]
    meta = merged_meta(p.meta for p in parts)
    frame = _joined(parts, restarts)
    if frame is None:
        return empty_table().assign(run=constant_categorical(run, 0)), restarts, bad, meta
    # one frame of the columns in order (no assign, selection and re-index: each a copy)
    columns: dict[str, Any] = {"run": constant_categorical(run, len(frame))}
    columns.update((name, frame[name]) for name in COLUMNS[1:])  # a RangeIndex, as built
    return frame_of(columns), restarts, bad, meta


def _joined(parts: Sequence[Parsed], restarts: list[Restart]) -> pd.DataFrame | None:
    """Every part's records in one frame, restarts applied (None when there are none)."""
    builders = [p.pending for p in parts]
    if all(b is not None for b in builders):  # straight from a parser: assembled once, here
        pending = [b for b in builders if b is not None and len(b)]
        if not pending:
            return None
        return apply_restarts(assemble(pending, offsets=bool(restarts)), restarts)
    # the rule is row by row (a record against the restarts after it): it applies per part
    records = [apply_restarts(p.records, restarts) for p in parts if len(p.records)]
    if not records:
        return None
    return records[0] if len(records) == 1 else _concat_records(records)


def _concat_records(records: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Records frames joined column by column (restarts applied, so without their offsets):
    one copy, categories merged by their codes."""
    cats = [r["metric"].cat.categories for r in records]
    same = all(c.equals(cats[0]) for c in cats[1:])
    names = list(cats[0]) if same else sorted(set().union(*cats))
    index = {name: i for i, name in enumerate(names)}
    dtype = code_dtype(len(names))
    metric_codes = []
    for r, cat in zip(records, cats, strict=True):
        codes = r["metric"].cat.codes.to_numpy()
        if same:
            metric_codes.append(codes)
        else:
            metric_codes.append(np.array([index[c] for c in cat], dtype)[codes])

    def column(name: str) -> np.ndarray:
        return np.concatenate([r[name].to_numpy() for r in records])

    return frame_of(
        {
            "step": column("step"),
            "split": codes_categorical(
                np.concatenate([r["split"].cat.codes.to_numpy() for r in records]), SPLITS
            ),
            "metric": codes_categorical(
                np.concatenate(metric_codes).astype(dtype, copy=False), names
            ),
            "value": column("value"),
            "wall_time": column("wall_time"),
        }
    )


def read_log(
    path: str,
    format: str | None = None,
    run: str | None = None,
    options: Mapping[str, Any] | None = None,
    max_bytes: int | None = None,
    root: str | None = None,
) -> LogData:
    """Read a whole log file (local path or fsspec URL) into the tidy table.

    ``format`` skips detection; ``run`` names the run (default: the file's name);
    ``options`` go to the format's parser (e.g. a column mapping for CSV logs).
    The file is fed to the parser in pieces (memory stays bounded); a file larger than
    ``max_bytes`` (default ``$SEGWATCH_MAX_LOG_BYTES`` or 4 GiB) raises ``LogReadError``.
    Lines that look like records but do not parse are skipped, counted in ``bad_lines``
    and reported in one warning. With ``root`` (a real folder path) the file must resolve
    inside it (``metrics.readers.confine``), else ``LogReadError``.
    """
    limit = max_log_bytes(max_bytes)
    src = open_source(path, root)
    src.stat()  # confinement and "not a regular file" before anything is read
    fmt = get_format(format) if format else detect_format(path, options)
    try:
        # the parser (and the last piece it may hold) goes before the table is assembled
        parts = parse_in_pieces(src, fmt.new_parser_for(path, options), fmt.whole_file, limit)
    except ColumnMappingError as exc:
        raise ColumnMappingError(f"{path}: {exc}") from None
    name = run if run is not None else src.name
    table, restarts, bad, meta = finalize(parts, name)
    if bad:
        shown = "; ".join(f"line {b.line}: {b.reason}" for b in bad[:5])
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        warnings.warn(f"{path}: skipped {len(bad)} malformed line(s): {shown}{more}", stacklevel=2)
    return LogData(
        path=path,
        format=fmt.name,
        table=validate_table(table),
        restarts=tuple(restarts),
        bad_lines=tuple(bad),
        meta=meta,
    )
