"""Fuzzing every reader with mutated real logs: typed errors only, no invented record, no lost line.

The corpus is the bundled ``sample_logs/`` and, when present, the real ``../shared`` logs, each
cut to a window of at most ~20 KB around its first validation record (so train and eval lines
are both in it). Oracles, checked on the parser's records before relaunches are resolved
(records there carry the byte offset of their line):

* typed — a reader raises nothing but ``MetricsError`` and yields a table that passes
  ``validate_table``; detection (``sniff``) never raises.
* pieces — feeding the (mutated) bytes in random pieces gives the same table as one read.
* printed — every value of a text format is a number printed in the input, or one hundredth
  of one (percent formats); binary TensorBoard instead: the mutated file's records are a
  sub-multiset of the original's (every record is CRC-checked, so a mutation can only remove).
* local — for line formats, mutating one line leaves every other line's train records
  (offset, step, metric, value) exactly as they were; JSON-line formats also keep every
  other line's val records (a val step comes from the train line before it, so it is left
  out). Formats whose first line defines the schema (generic CSV/JSON lines) are exempt.
* prefix — a log cut at any byte keeps the records of every line completed before the cut
  and yields nothing the whole file does not.

``bench/bench_fuzz.py`` runs the same oracles on 100,000+ random cases.
"""

from __future__ import annotations

import random
import re
import time
import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics import read_log
from metrics.errors import LogFormatError, MetricsError
from metrics.readers.base import LineParser, LogFormat, Parsed
from metrics.readers.registry import SNIFF_BYTES, finalize, get_format, sniff_format
from metrics.readers.textutil import last_segment
from metrics.schema import sort_table, validate_table
from tests.conftest import PUBLIC_LOGS, SAMPLE_LOGS

WINDOW = 10_000  # bytes kept before and after a log's first val record
BINARY = frozenset({"tensorboard", "visualdl"})
SCHEMA_FROM_FIRST_LINE = frozenset({"csv", "jsonl"})
VAL_STEP_ONLY_STATE = frozenset({"detectron2", "mmseg0-json", "mmseg1-json"})
STEP_FROM_STATE = frozenset({"mmseg0-json"})  # epoch-based steps: a line can turn them on
_NUMBER = re.compile(rb"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
MUTATION_TOKENS = (
    b"\n",
    b"\r",
    b"\x00",
    b"nan",
    b"inf",
    b"-",
    b"[",
    b"]",
    b"{",
    b'"',
    b", ",
    b": ",
    b"9" * 22,
    b"\xe4\xb8",  # half of a UTF-8 CJK character
    b"\xff\xfe",
    b"[TRAIN] ",
    b"[EVAL] #Images: 5 mIoU: ",
    b"[EVAL] Class IoU: \n[",
    b"per class results:\n",
    b'{"mode": "train", "epoch": 1, "iter": ',
    b'"iteration": ',
)


@dataclass(frozen=True)
class Sample:
    """One corpus entry: a log (or a window of one) and its format."""

    name: str
    fmt: str
    data: bytes


# ---------------------------------------------------------------------------------------------
# corpus


def _log_files(roots: Iterable[Path]) -> list[Path]:
    skip = {".md", ".py", ".yaml", ".txt"}
    return [
        p
        for root in roots
        if root.is_dir()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix not in skip and p.name != "truth.json"
    ]


def _window(fmt: LogFormat, data: bytes) -> bytes:
    """The log, or for a long line log its head and the lines around its first val record."""
    if fmt.name in BINARY:
        return data[: 4 * WINDOW]  # whole records, then a torn one: framing is what is fuzzed
    if len(data) <= 2 * WINDOW or fmt.whole_file:
        return data
    recs = parse_records(fmt, data)
    val = recs.loc[recs["split"] == "val", "offset"]
    at = int(val.min()) if len(val) else len(data) // 2
    head = data[: data.rfind(b"\n", 0, 2000) + 1]
    lo = max(len(head), data.rfind(b"\n", 0, max(0, at - WINDOW)) + 1)
    hi = data.find(b"\n", min(len(data) - 1, at + WINDOW)) + 1 or len(data)
    return head + data[lo:hi]


@cache
def corpus() -> tuple[Sample, ...]:
    """Every readable log of sample_logs/ and ../shared/sample_logs_public/, windowed."""
    out = []
    for path in _log_files([SAMPLE_LOGS, PUBLIC_LOGS]):
        data = path.read_bytes()
        fmt = sniff_format(data[:SNIFF_BYTES], str(path))
        if fmt is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            window = _window(fmt, data)
        root = PUBLIC_LOGS if PUBLIC_LOGS in path.parents else SAMPLE_LOGS
        out.append(Sample(str(path.relative_to(root.parent)), fmt.name, window))
    return tuple(out)


def line_samples() -> list[Sample]:
    return [s for s in corpus() if is_line_format(get_format(s.fmt))]


def is_line_format(fmt: LogFormat) -> bool:
    return isinstance(fmt.new_parser(), LineParser) and not fmt.whole_file


# ---------------------------------------------------------------------------------------------
# reading


def parse_parts(fmt: LogFormat, data: bytes, cuts: Iterable[int] = ()) -> list[Parsed]:
    """Parser output for ``data`` fed cut at ``cuts`` (leftover carried), then ``finish``."""
    parser = fmt.new_parser()
    parts: list[Parsed] = []
    pending, at, prev = b"", 0, 0
    for c in [*sorted({c for c in cuts if 0 < c < len(data)}), len(data)]:
        pending += data[prev:c]
        prev = c
        parsed, used = parser.feed(pending, at)
        parts.append(parsed)
        pending, at = pending[used:], at + used
    parts.append(parser.finish(pending, at))
    return parts


def parse_records(fmt: LogFormat, data: bytes) -> pd.DataFrame:
    """Every record of one read, with offsets, before relaunches are resolved."""
    frames = [p.records for p in parse_parts(fmt, data) if len(p.records)]
    if not frames:
        return pd.DataFrame(columns=["offset", "step", "split", "metric", "value"])
    return pd.concat([f.astype({"split": str, "metric": str}) for f in frames])


def tidy(parts: list[Parsed]) -> pd.DataFrame:
    """The validated, sorted tidy table of parser output."""
    return sort_table(validate_table(finalize(parts, "run")[0]))


def _key(value: float) -> float | str:
    return "nan" if value != value else value


def record_keys(recs: pd.DataFrame, cols: tuple[str, ...]) -> Counter[tuple[object, ...]]:
    """A multiset of records by the given columns (NaN values compare equal)."""
    columns = [recs[c].tolist() for c in cols]
    if "value" in cols:
        i = cols.index("value")
        columns[i] = [_key(v) for v in columns[i]]
    return Counter(zip(*columns, strict=True))


# ---------------------------------------------------------------------------------------------
# oracles


class OracleError(AssertionError):
    """An oracle found a reader misbehaving."""


def check_typed(fmt: LogFormat, data: bytes, cuts: Iterable[int] = ()) -> pd.DataFrame | None:
    """Read ``data`` whole and in pieces: only typed errors, equal tables. None on a typed error.

    Returns the records of the whole read (with offsets, relaunches not applied)."""
    cuts = list(cuts)
    try:
        sniff_format(data[:SNIFF_BYTES], "fuzzed.log")
        parts = parse_parts(fmt, data)
        whole = tidy(parts)
        pieces = tidy(parse_parts(fmt, data, cuts)) if cuts else whole
    except MetricsError:
        return None
    except Exception as exc:
        raise OracleError(f"{fmt.name}: untyped {type(exc).__name__}: {exc}") from exc
    if cuts and not whole.equals(pieces):
        raise OracleError(f"{fmt.name}: pieces {sorted(cuts)[:10]}... differ from one read")
    return records_of(parts)


def printed_numbers(data: bytes) -> np.ndarray:
    """Every number printed in ``data``, and each divided by 100, sorted.

    Lines redrawn with backspaces count as a terminal shows them (``86.39\\b7`` prints 86.37).
    """
    if b"\b" in data:
        shown = [last_segment(line) for line in data.split(b"\n") if b"\b" in line]
        data = data + b"\n" + b"\n".join(shown)
    found = []
    for m in _NUMBER.finditer(data):
        try:
            found.append(float(m.group()))
        except ValueError:  # pragma: no cover - the pattern is a float literal
            continue
    values = np.array(found, np.float64)
    values = values[np.isfinite(values)]
    return np.unique(np.concatenate([values, values / 100.0]))


def check_printed(fmt: LogFormat, data: bytes, recs: pd.DataFrame) -> None:
    """Every finite value of a text format is printed in the input (or is its hundredth)."""
    values = recs["value"].to_numpy(np.float64)
    values = values[np.isfinite(values)]
    if not len(values):
        return
    known = printed_numbers(data)
    if not len(known):
        raise OracleError(f"{fmt.name}: values {values[:3]} but no number in the input")
    at = np.clip(np.searchsorted(known, values), 1, len(known) - 1)
    near = np.minimum(np.abs(known[at] - values), np.abs(known[at - 1] - values))
    bad = near > 1e-12 + 1e-9 * np.abs(values)
    if bad.any():
        raise OracleError(f"{fmt.name}: invented value(s) {values[bad][:5]} (not in the input)")


def check_subset(fmt: LogFormat, original: pd.DataFrame, mutated: pd.DataFrame) -> None:
    """A CRC-checked binary format: the mutated file's records come from the original's."""
    cols = ("step", "split", "metric", "value")
    extra = record_keys(mutated, cols) - record_keys(original, cols)
    if extra:
        raise OracleError(f"{fmt.name}: records not in the original: {list(extra)[:3]}")


def check_local(
    fmt: LogFormat,
    original: pd.DataFrame,
    mutated: pd.DataFrame,
    start: int,
    end: int,
    new_end: int,
) -> None:
    """Lines ``[start, end)`` became ``[start, new_end)``: other lines' records must stay."""
    if fmt.name in SCHEMA_FROM_FIRST_LINE:
        return
    shift = new_end - end
    a = original[(original["offset"] < start) | (original["offset"] >= end)].copy()
    a.loc[a["offset"] >= end, "offset"] += shift
    b = mutated[(mutated["offset"] < start) | (mutated["offset"] >= new_end)]
    splits = ("train", "val") if fmt.name in VAL_STEP_ONLY_STATE else ("train",)
    for split in splits:
        cols = ("offset", "metric", "value")
        if split == "train" and fmt.name not in STEP_FROM_STATE:
            cols = ("offset", "step", "metric", "value")
        ka = record_keys(a[a["split"] == split], cols)
        kb = record_keys(b[b["split"] == split], cols)
        if ka != kb:
            lost, made = list((ka - kb).elements())[:3], list((kb - ka).elements())[:3]
            raise OracleError(
                f"{fmt.name}: editing bytes {start}-{end} changed other lines' {split} "
                f"records: lost {lost}, new {made}"
            )


def check_prefix(fmt: LogFormat, data: bytes, cut: int, full: pd.DataFrame) -> None:
    """``data[:cut]`` keeps every record of the lines completed before ``cut``, invents none."""
    try:
        part = records_of(parse_parts(fmt, data[:cut]))
    except MetricsError:
        return
    except Exception as exc:
        raise OracleError(f"{fmt.name}: cut at {cut}: untyped {type(exc).__name__}: {exc}") from exc
    cols = ("offset", "split", "metric", "value")
    extra = record_keys(part, cols) - record_keys(full, cols)
    if extra:
        raise OracleError(f"{fmt.name}: cut at {cut} yields records not in the file: {extra}")
    complete = data.rfind(b"\n", 0, cut) + 1
    splits = ("train", "val") if fmt.name in VAL_STEP_ONLY_STATE else ("train",)
    line_ends = _line_ends(data)
    ends = line_ends[np.searchsorted(line_ends, full["offset"].to_numpy(np.int64), "right")]
    want = full[(ends <= complete) & full["split"].isin(splits)]
    lost = record_keys(want, cols) - record_keys(part, cols)
    if lost:
        raise OracleError(f"{fmt.name}: cut at {cut} lost complete lines' records: {lost}")


def _line_ends(data: bytes) -> np.ndarray:
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == 10) + 1
    return np.append(ends, np.iinfo(np.int64).max)


def records_of(parts: list[Parsed]) -> pd.DataFrame:
    frames = [p.records.astype({"split": str, "metric": str}) for p in parts if len(p.records)]
    if not frames:
        return pd.DataFrame({c: [] for c in ("offset", "step", "split", "metric", "value")})
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------------------------------
# mutations


def mutate_bytes(rng: random.Random, data: bytes, ops: int) -> bytes:
    """``ops`` random byte edits: flips, inserts, deletions, tokens, copies, a cut."""
    b = bytearray(data)
    for _ in range(ops):
        kind = rng.random()
        i = rng.randrange(len(b) + 1)
        if kind < 0.3 and b:
            b[min(i, len(b) - 1)] = rng.randrange(256)
        elif kind < 0.45:
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))
        elif kind < 0.6:
            del b[i : i + rng.randrange(1, 17)]
        elif kind < 0.85:
            b[i:i] = rng.choice(MUTATION_TOKENS)
        elif kind < 0.97 and b:
            j = rng.randrange(len(b))
            b[i:i] = b[j : j + rng.randrange(1, 200)]
        else:
            del b[i:]
    return bytes(b)


def line_bounds(data: bytes, rng: random.Random) -> tuple[int, int]:
    """A random whole line ``[start, end)`` of ``data`` (with its newline)."""
    i = rng.randrange(len(data))
    start = data.rfind(b"\n", 0, i) + 1
    end = data.find(b"\n", i)
    return start, (len(data) if end < 0 else end + 1)


def mutate_line(rng: random.Random, data: bytes, ops: int) -> tuple[bytes, int, int, int]:
    """Mutate one whole line (it stays newline-terminated): (data, start, end, new end)."""
    start, end = line_bounds(data, rng)
    line = data[start:end]
    new = mutate_bytes(rng, line.rstrip(b"\n"), ops)
    if line.endswith(b"\n"):
        new += b"\n"
    return data[:start] + new + data[end:], start, end, start + len(new)


# ---------------------------------------------------------------------------------------------
# one fuzz case, shared with bench/bench_fuzz.py


@cache
def original_records(sample: Sample) -> pd.DataFrame:
    return records_of(parse_parts(get_format(sample.fmt), sample.data))


def fuzz_case(sample: Sample, seed: int, max_cuts: int = 12) -> str:
    """Run one random case on ``sample``; raises ``OracleError``. Returns the case kind.

    The mutated bytes are also fed in up to ``max_cuts`` random pieces (a piece costs a few
    milliseconds), sometimes plus 16 one-byte pieces in a row."""
    rng = random.Random(seed)
    fmt = get_format(sample.fmt)
    data = sample.data
    kind = rng.choice(("line", "line", "bytes", "chunks"))
    start = end = new_end = -1
    if kind == "line" and is_line_format(fmt):
        data, start, end, new_end = mutate_line(rng, data, rng.choice((1, 1, 2, 4, 8)))
    elif kind != "chunks":
        kind = "bytes"
        data = mutate_bytes(rng, data, rng.choice((1, 2, 5, 20)))
    cuts = [rng.randrange(1, max(2, len(data))) for _ in range(rng.randrange(max_cuts + 1))]
    if rng.random() < 0.15:  # tiny pieces: every byte boundary near a random spot
        at = rng.randrange(len(data) or 1)
        cuts += list(range(at, min(len(data), at + 16)))
    recs = check_typed(fmt, data, cuts)
    if recs is None:
        return kind
    if fmt.name in BINARY:
        if fmt.name == "tensorboard":
            check_subset(fmt, original_records(sample), recs)
    else:
        check_printed(fmt, data, recs)
    if start >= 0:
        check_local(fmt, original_records(sample), recs, start, end, new_end)
    return kind


# ---------------------------------------------------------------------------------------------
# tests


def test_corpus_covers_every_text_and_binary_format(public_logs: Path) -> None:
    names = {s.fmt for s in corpus()}
    expected = {"paddleseg", "mmseg0-json", "mmseg0-text", "mmseg1-json", "mmseg1-text"}
    expected |= {"detectron2", "hf-trainer", "lightning-csv", "tensorboard", "csv"}
    assert expected <= names
    assert any(s.name.startswith("sample_logs_public") for s in corpus())


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(index=st.integers(min_value=0), seed=st.integers(0, 2**32 - 1))
def test_mutated_logs_meet_every_oracle(index: int, seed: int) -> None:
    samples = corpus()
    fuzz_case(samples[index % len(samples)], seed)


@pytest.mark.parametrize(
    "fmt", ["paddleseg", "mmseg0-text", "mmseg1-text", "mmseg0-json", "mmseg1-json", "detectron2"]
)
def test_mutating_one_line_keeps_the_others(fmt: str) -> None:
    samples = [s for s in line_samples() if s.fmt == fmt]
    assert samples, f"no {fmt} log in the corpus"
    rng = random.Random(fmt)
    for _ in range(12):
        sample = rng.choice(samples)
        data, start, end, new_end = mutate_line(rng, sample.data, rng.choice((1, 3, 8)))
        f = get_format(fmt)
        recs = check_typed(f, data)
        if recs is not None:
            check_local(f, original_records(sample), recs, start, end, new_end)


def test_local_oracle_can_fail() -> None:
    """The oracle is not vacuous: a reader that lost a line would be caught."""
    sample = next(s for s in line_samples() if s.fmt == "mmseg0-json")
    recs = original_records(sample)
    dropped = recs.iloc[1:]
    line = int(recs["offset"].iloc[0])
    with pytest.raises(OracleError):
        check_local(get_format("mmseg0-json"), recs, dropped, line + 1, line + 2, line + 2)
    with pytest.raises(OracleError, match="invented"):
        check_printed(get_format("mmseg0-json"), b"loss 0.25", pd.DataFrame({"value": [0.3]}))


def _small(sample: Sample, size: int) -> bytes:
    """About ``size`` bytes of whole lines around the sample's first val record."""
    data, recs = sample.data, original_records(sample)
    val = recs.loc[recs["split"] == "val", "offset"]
    at = int(val.min()) if len(val) else int(recs["offset"].min())
    lo = data.rfind(b"\n", 0, max(0, at - size // 2)) + 1
    hi = data.find(b"\n", min(len(data) - 1, lo + size)) + 1 or len(data)
    return data[lo:hi]


@pytest.mark.parametrize(
    "fmt", ["paddleseg", "mmseg0-json", "mmseg1-json", "detectron2", "mmseg1-text"]
)
def test_truncated_at_every_offset(fmt: str) -> None:
    f = get_format(fmt)
    slices = [_small(s, 1500) for s in line_samples() if s.fmt == fmt]
    data = max(slices, key=lambda d: len(records_of(parse_parts(f, d))))
    full = records_of(parse_parts(f, data))
    assert (full["split"] == "val").any() and (full["split"] == "train").any()
    for cut in truncation_points(data, full, stride=40):
        check_prefix(f, data, cut, full)


def truncation_points(data: bytes, full: pd.DataFrame, stride: int) -> list[int]:
    """Every offset within 100 bytes of the first val line's start, every ``stride``-th elsewhere
    (``stride=1``: every offset, as bench/bench_fuzz.py does)."""
    val = full.loc[full["split"] == "val", "offset"]
    at = int(val.min()) if len(val) else 0
    near = set(range(max(0, at - 100), min(len(data), at + 100) + 1))
    return sorted(near | set(range(0, len(data) + 1, stride)) | {len(data)})


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"\n\n\r\n  \n",
        bytes(range(256)) * 64,
        random.Random(7).randbytes(300_000),
        b"\x00" * 100_000,
        b"{" * 200_000,
        b"[" * 200_000 + b"\n",
        "训练 µ 日志 ".encode() * 10_000,
    ],
    ids=["empty", "blank", "bytes", "random", "zeros", "braces", "brackets", "utf8"],
)
def test_garbage_gives_a_typed_error_or_nothing(tmp_path: Path, garbage: bytes) -> None:
    p = tmp_path / "train.log"
    p.write_bytes(garbage)
    with pytest.raises(LogFormatError, match=re.escape(str(p))):
        read_log(str(p))
    for sample_fmt in sorted({s.fmt for s in corpus()}):
        recs = check_typed(get_format(sample_fmt), garbage, [1, 7, 4096, 65537])
        if recs is not None and sample_fmt not in BINARY:
            check_printed(get_format(sample_fmt), garbage, recs)


def _ten_mb_lines(first_line: bytes) -> dict[str, bytes]:
    n = 10 << 20
    body = first_line.rstrip(b"\r\n")
    return {
        "letters": b"a" * n,
        "spaces": b" " * n + b"x",
        "digits": b"7" * n,
        "repeated": (body * (n // max(1, len(body)) + 1))[:n],
        "array": b"[" + b"0.5 " * (n // 4),
        "nested": b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        "eval": b"[EVAL] #Images: 5 " + b"a" * n,
        "in_array": b"2021-03-02 00:00:00 [INFO]\t[EVAL] Class IoU: \n[0.1 0.2\n" + b" " * n + b"x",
    }


@pytest.mark.parametrize(
    "fmt", ["paddleseg", "mmseg0-text", "mmseg1-text", "mmseg0-json", "detectron2"]
)
def test_a_10mb_line_is_skipped_quickly(fmt: str) -> None:
    sample = next(s for s in line_samples() if s.fmt == fmt)
    f = get_format(fmt)
    data = sample.data
    full = original_records(sample)
    at = data.find(b"\n", len(data) // 2) + 1
    for kind, line in _ten_mb_lines(data[: data.find(b"\n") + 1]).items():
        mutated = data[:at] + line + b"\n" + data[at:]
        t0 = time.perf_counter()
        recs = check_typed(f, mutated, [at + 5, at + len(line) // 2])
        took = time.perf_counter() - t0
        assert took < 10, f"{kind}: a 10 MB line took {took:.1f} s"
        assert recs is not None, f"{kind}: a 10 MB line made the whole read fail"
        check_local(f, full, recs, at, at, at + len(line) + 1)
