"""TFRecord framing and the bulk CRC-32C, against tensorboard's own pure-Python CRC."""

from __future__ import annotations

import numpy as np
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as reference

from metrics.readers.tfrecord import frame_bytes, frame_records, masked_crc32c, masked_crc32c_many


def test_bulk_crc_matches_tensorboard() -> None:
    rng = np.random.default_rng(3)
    buf = rng.integers(0, 256, 50_000, dtype=np.uint8)
    starts = rng.integers(0, 40_000, 800)
    lengths = np.concatenate([rng.integers(0, 70, 600), rng.integers(0, 5000, 200)])
    starts[:5] = [0, 1, 2, 3, 4]  # records too near the start to be left-padded
    data = buf.tobytes()
    want = [reference(data[a : a + n]) for a, n in zip(starts, lengths, strict=True)]
    assert masked_crc32c_many(buf, starts, lengths).tolist() == want
    assert masked_crc32c(b"brain.Event:2") == reference(b"brain.Event:2")


def test_bulk_crc_of_long_records_matches_tensorboard() -> None:
    """Records of 4 KiB and more (images, graphs) are checked chunk by chunk, chained."""
    rng = np.random.default_rng(5)
    buf = rng.integers(0, 256, 400_000, dtype=np.uint8)
    lengths = np.concatenate(
        [[4096, 4097, 5 * 1024, 8191, 300_000], rng.integers(4096, 60_000, 40)]
    )
    starts = np.concatenate([[0, 3, 1000, 0, 17], rng.integers(0, 330_000, 40)])
    data = buf.tobytes()
    want = [reference(data[a : a + n]) for a, n in zip(starts, lengths, strict=True)]
    assert masked_crc32c_many(buf, starts, lengths).tolist() == want


def test_framing_stops_at_incomplete_and_corrupt_records() -> None:
    payloads = [bytes([i]) * (i * 7) for i in range(1, 30)]
    data = b"".join(frame_bytes(p) for p in payloads)
    ends = np.cumsum([16 + len(p) for p in payloads])
    framing = frame_records(data[: ends[10] + 13])
    assert len(framing.starts) == 11 and framing.end == ends[10] and not framing.corrupt
    assert framing.lengths.tolist() == [len(p) for p in payloads[:11]]
    damaged = bytearray(data)
    damaged[ends[4] + 2] ^= 0x10  # the length of record 6
    framing = frame_records(bytes(damaged))
    assert len(framing.starts) == 5 and framing.end == ends[4] and framing.corrupt
    assert frame_records(b"").end == 0
