"""Event records decoded: in bulk from the protobuf wire format, else one at a time.

Most event files (torch.utils.tensorboard, tensorboardX, Detectron2, MMSeg) hold one event per
scalar: ``Event { wall_time, step, summary { value { tag, simple_value } } }``. Parsing each with
protobuf and reading its fields from Python costs a few microseconds per point; checking that
byte layout for every record at once with numpy costs a fraction of that. Anything that does not
match it exactly is left to :mod:`metrics.readers.tensorboard_proto`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from metrics.readers.tensorboard_proto import Event
from metrics.readers.tfrecord import HEADER_SIZE

_GRAPH_FIELDS = (0x22, 0x42, 0x4A)  # Event.graph_def, tagged_run_metadata, meta_graph_def
_MEDIA_FIELDS = (0x22, 0x2A, 0x32)  # Summary.Value.image, histo, audio
# Summary.Value.metadata { plugin_data { plugin_name: "scalars" } }, as TF2 writes it
_SCALARS_METADATA = b"\x4a\x0b\x0a\x09\x0a\x07scalars"


def _varints(buf: np.ndarray, pos: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Values and byte counts of the varints at ``pos`` (count 0: longer than ``width``)."""
    value = np.zeros(len(pos), np.uint64)
    count = np.zeros(len(pos), np.int64)
    active = np.arange(len(pos))
    last = len(buf) - 1
    for i in range(width):
        b = buf[np.minimum(pos[active] + i, last)]
        value[active] |= (b & 0x7F).astype(np.uint64) << np.uint64(7 * i)
        done = b < 0x80
        count[active[done]] = i + 1
        active = active[~done]
        if not len(active):
            break
    return value, count


def _gather(buf: np.ndarray, pos: np.ndarray, dtype: str) -> np.ndarray:
    size = np.dtype(dtype).itemsize
    idx = np.minimum(pos[:, None] + np.arange(size), len(buf) - 1)
    return np.ascontiguousarray(buf[idx]).view(dtype).ravel()


@dataclass
class SimpleScalars:
    """Events of exactly ``wall_time, step, summary { value { tag, simple_value } }`` or, with
    ``tensor`` set, ``value { tag, tensor { float or double scalar } [, scalars metadata] }``."""

    ok: np.ndarray  # decoded here
    tensor: np.ndarray  # a tensor value: a scalar only if its tag's first metadata says so
    meta: np.ndarray  # a tensor value carrying metadata that names the scalars plugin
    skip: np.ndarray  # hold nothing we read (graphs; one image, histogram or audio)
    steps: np.ndarray
    walls: np.ndarray
    values: np.ndarray
    tag_at: np.ndarray
    tag_len: np.ndarray


def scan_simple(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> SimpleScalars:
    """Decode single-scalar events from the wire format, for all records at once."""
    last = len(buf) - 1
    s = starts + HEADER_SIZE
    end = s + lengths
    ok = (lengths >= 16) & (buf[np.minimum(s, last)] == 0x09)
    walls = _gather(buf, s + 1, "<f8")
    p = s + 9
    has_step = buf[np.minimum(p, last)] == 0x10
    raw_step, n = _varints(buf, p + 1, 10)
    ok &= ~has_step | (n > 0)
    steps = np.where(has_step, raw_step.view(np.int64), 0)
    p = np.where(has_step, p + 1 + n, p)
    kind = buf[np.minimum(p, last)]
    skip = ok & np.isin(kind, _GRAPH_FIELDS)
    ok &= kind == 0x2A
    for _ in ("summary", "value"):  # each must run to the end of the event: one value only
        size, n = _varints(buf, p + 1, 5)
        p = p + 1 + n
        ok &= (n > 0) & (p + size.astype(np.int64) == end)
        ok &= buf[np.minimum(p, last)] == 0x0A
    tag_len, n = _varints(buf, p + 1, 5)
    tag_at = p + 1 + n
    p = tag_at + tag_len.astype(np.int64)
    ok &= (n > 0) & (p < end)
    kind = buf[np.minimum(p, last)]
    skip |= ok & np.isin(kind, _MEDIA_FIELDS)
    values = _gather(buf, p + 1, "<f4").astype(np.float64)
    tensor = np.zeros(len(ok), bool)
    meta = np.zeros(len(ok), bool)
    rows = np.flatnonzero(ok & (kind == 0x42))
    tensor[rows], meta[rows], values[rows] = _tensor_scalars(buf, p[rows] + 1, end[rows])
    ok &= ((kind == 0x15) & (p + 5 == end)) | tensor
    return SimpleScalars(
        ok, tensor, meta, skip, steps, walls, values, tag_at, tag_len.astype(np.int64)
    )


def _tensor_scalars(
    buf: np.ndarray, p: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(is a float/double scalar tensor, has scalars metadata, value) of tensor values at ``p``."""
    last = len(buf) - 1

    def at(q: np.ndarray) -> np.ndarray:
        found: np.ndarray = buf[np.minimum(q, last)]
        return found

    size, n = _varints(buf, p, 5)
    q = p + n
    t_end = q + size.astype(np.int64)
    dtype = at(q + 1)
    ok = (n > 0) & (at(q) == 0x08) & ((dtype == 1) | (dtype == 2))  # DT_FLOAT, DT_DOUBLE
    q += 2
    q += np.where((at(q) == 0x12) & (at(q + 1) == 0), 2, 0)  # an empty (scalar) shape
    width = np.where(dtype == 1, 4, 8)
    field = at(q)  # float_val, double_val (packed) or tensor_content
    ok &= ((field == np.where(dtype == 1, 0x2A, 0x32)) | (field == 0x22)) & (at(q + 1) == width)
    ok &= q + 2 + width == t_end
    values = np.where(
        dtype == 1, _gather(buf, q + 2, "<f4").astype(np.float64), _gather(buf, q + 2, "<f8")
    )
    key = np.frombuffer(_SCALARS_METADATA, np.uint8)
    meta = (at(t_end[:, None] + np.arange(len(key))) == key).all(axis=1)
    meta &= t_end + len(key) == end
    ok &= (t_end == end) | meta
    return ok, ok & meta, values


def tag_codes(buf: np.ndarray, at: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Factorise tag strings given by position and length, without a Python loop per record."""
    codes = np.empty(len(at), np.int64)
    names: list[str] = []
    for size in np.unique(lengths).tolist():
        sel = np.flatnonzero(lengths == size)
        mat = buf[at[sel][:, None] + np.arange(size)]
        key = np.zeros(len(sel), np.uint64)
        for j in range(size):  # a polynomial hash of the bytes, checked below
            key = key * np.uint64(1099511628211) + mat[:, j]
        local, uniq = pd.factorize(key)
        first = np.zeros(len(uniq), np.int64)
        first[local[::-1]] = np.arange(len(sel))[::-1]
        if not (mat == mat[first[local]]).all():  # a hash collision: sort the bytes instead
            keys = np.ascontiguousarray(mat).view(np.dtype((np.void, size))).ravel()
            _, first, local = np.unique(keys, return_index=True, return_inverse=True)
        codes[sel] = len(names) + local.ravel()
        names.extend(mat[i].tobytes().decode("utf-8", "replace") for i in first)
    return codes, names


@dataclass
class Points:
    """Scalar points gathered from one piece of the file, as parallel lists."""

    offsets: list[int] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    walls: list[float] = field(default_factory=list)
    tensor: list[bool] = field(default_factory=list)  # the point came from a tensor
    starts: list[tuple[int, int]] = field(default_factory=list)  # SessionLog START (offset, step)
    metas: list[tuple[int, str, str]] = field(default_factory=list)  # (offset, tag, plugin)


def take_event(event: Event, off: int, points: Points, plugins: Mapping[str, str]) -> None:
    """Add the scalar and tensor points of a decoded ``Event`` (and a SessionLog START).

    Tensors are kept as candidates; the first metadata of a tag not in ``plugins`` is noted
    in ``points.metas`` so the caller can tell which tensors are scalars.
    """
    if event.session_start:
        points.starts.append((off, event.step))
        return
    for value in event.values:
        tag = value.tag
        if value.kind == "tensor" and tag not in plugins and value.plugin is not None:
            points.metas.append((off, tag, value.plugin))
        if value.kind not in ("simple_value", "tensor") or value.number is None:
            continue
        points.offsets.append(off)
        points.tags.append(tag)
        points.tensor.append(value.kind == "tensor")
        points.steps.append(event.step)
        points.values.append(value.number)
        points.walls.append(event.wall_time)
