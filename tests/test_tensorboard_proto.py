"""Event records decoded without the tensorboard package, checked against its own protos."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2
from tensorboard.plugins.scalar import summary_v2 as scalar_v2
from tensorboard.util import tensor_util

from metrics.readers.protowire import WireError
from metrics.readers.tensorboard_proto import decode_event, tensor_value

# numpy type → (DataType, the repeated field holding its values)
LISTED = {
    "float16": (19, "half_val"),
    "float32": (1, "float_val"),
    "float64": (2, "double_val"),
    "int8": (6, "int_val"),
    "int16": (5, "int_val"),
    "int32": (3, "int_val"),
    "int64": (9, "int64_val"),
    "uint8": (4, "int_val"),
    "uint16": (17, "int_val"),
    "bool": (10, "bool_val"),
}
VALUES = {"float": [0.0, -2.5, 1e-3, math.inf], "int": [0, -7, 100], "uint": [0, 7, 200]}


def tensor(dtype: str, value: float, shape: tuple[int, ...], content: bool) -> bytes:
    arr = np.full(shape, value, dtype=dtype)
    code, listed = LISTED[dtype]
    dims = [tensor_shape_pb2.TensorShapeProto.Dim(size=n) for n in shape]
    proto = tensor_pb2.TensorProto(
        dtype=code, tensor_shape=tensor_shape_pb2.TensorShapeProto(dim=dims)
    )
    if content:
        proto.tensor_content = arr.tobytes()
    elif dtype == "float16":
        proto.half_val.extend(arr.reshape(-1).view(np.uint16).tolist())
    else:
        getattr(proto, listed).extend(arr.reshape(-1).tolist())
    return proto.SerializeToString()


@pytest.mark.parametrize("dtype", sorted(LISTED))
@pytest.mark.parametrize("shape", [(), (1,), (1, 1), (2,)])
@pytest.mark.parametrize("content", [True, False])
def test_tensor_values_match_make_ndarray(
    dtype: str, shape: tuple[int, ...], content: bool
) -> None:
    family = "float" if dtype.startswith("float") else "uint" if dtype[0] == "u" else "int"
    for value in [1] if dtype == "bool" else VALUES[family]:
        data = tensor(dtype, value, shape, content)
        arr = tensor_util.make_ndarray(tensor_pb2.TensorProto.FromString(data))
        expected = float(arr.reshape(-1)[0]) if arr.size == 1 else None
        assert tensor_value(data, 0, len(data)) == expected, (dtype, shape, value)


def test_types_tensorboard_cannot_read_are_no_number() -> None:
    # strings; uint32/uint64, which make_ndarray refuses (the scalars dashboard shows nothing)
    for proto in (
        tensor_pb2.TensorProto(dtype=7, string_val=[b"1.5"]),
        tensor_pb2.TensorProto(dtype=22, uint32_val=[3]),
        tensor_pb2.TensorProto(dtype=23, uint64_val=[3]),
    ):
        data = proto.SerializeToString()
        assert tensor_value(data, 0, len(data)) is None


@settings(max_examples=200, deadline=None)
@given(
    step=st.integers(-(2**63), 2**63 - 1),
    wall=st.floats(allow_nan=False),
    tags=st.lists(st.text(max_size=20), max_size=4),
    value=st.floats(width=32),
    start=st.booleans(),
    with_tensor=st.booleans(),
)
def test_events_decode_as_the_proto_does(
    step: int, wall: float, tags: list[str], value: float, start: bool, with_tensor: bool
) -> None:
    values = [summary_pb2.Summary.Value(tag=t, simple_value=value) for t in tags]
    if with_tensor:  # else a TF1 merged summary, read by the straight-line path
        values += scalar_v2.scalar_pb("x", value).value
    if start:
        event = event_pb2.Event(
            wall_time=wall, step=step, session_log=event_pb2.SessionLog(status=1)
        )
    else:
        event = event_pb2.Event(
            wall_time=wall, step=step, summary=summary_pb2.Summary(value=values)
        )
    data = event.SerializeToString()
    got = decode_event(data, 0, len(data))
    assert (got.step, got.wall_time, got.session_start) == (step, wall, start)
    if not start:
        extra = ["x"] if with_tensor else []
        assert [v.tag for v in got.values] == [*tags, *extra]
        numbers = [v.number for v in got.values]
        assert numbers == pytest.approx([value] * len(numbers), nan_ok=True)
        assert [v.plugin for v in got.values] == [None] * len(tags) + ["scalars"] * len(extra)
        assert got.has_summary


def test_damaged_event_raises_wire_error() -> None:
    data = event_pb2.Event(wall_time=1.0, file_version="brain.Event:2").SerializeToString()
    assert decode_event(data, 0, len(data)).file_version == "brain.Event:2"
    with pytest.raises(WireError, match="runs past"):
        decode_event(data[:-3], 0, len(data) - 3)
    with pytest.raises(WireError, match="wire type"):
        decode_event(b"\x0f" + data, 0, len(data) + 1)
    merged = event_pb2.Event(
        wall_time=1.0,
        step=2,
        summary=summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="a", simple_value=1)]),
    ).SerializeToString()
    for cut in range(1, len(merged)):  # a truncated merged summary never reads as one
        try:
            event = decode_event(merged[:cut], 0, cut)
        except WireError:
            continue
        assert [v.number for v in event.values if v.number is not None] != [1.0]


def test_reading_event_files_needs_neither_tensorboard_nor_protobuf(tmp_path: Path) -> None:
    """Issue 13: ``tensorboard`` is a test dependency only; the readers decode the wire format."""
    import subprocess
    import sys

    event = event_pb2.Event(wall_time=1.0, step=3, summary=scalar_v2.scalar_pb("loss", 0.5))
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(tmp_path))
    writer.add_event(event)
    writer.close()
    code = (
        "import sys; from metrics import read_log; from metrics.runs import discover_runs\n"
        f"t = read_log(next(iter(__import__('glob').glob({str(tmp_path)!r} + '/events*')))).table\n"
        "assert t['value'].tolist() == [0.5], t\n"
        "bad = [m for m in sys.modules if m.startswith(('tensorboard', 'google.protobuf'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
