"""Reading masks with Pillow: palette indices, bit depths, .npy, refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from metrics.errors import InputError, LogReadError
from metrics.masks.images import describe, image_info, read_array, value_counts
from tests.masks_util import blocks, save_mask


def test_palette_png_gives_indices_and_counts(tmp_path: Path) -> None:
    m = blocks(3, 4, [5, 200])
    path = save_mask(tmp_path / "p.png", m, palette=True)
    info, arr = read_array(path)
    assert (info.format, info.mode, info.height, info.width, info.channels) == ("PNG", "P", 3, 4, 1)
    assert info.is_index_map
    np.testing.assert_array_equal(arr, m)
    vc = value_counts(path)
    assert vc.values.tolist() == [5, 200] and vc.counts.tolist() == [6, 6]


def test_sixteen_bit_and_npy_counts(tmp_path: Path) -> None:
    wide = save_mask(tmp_path / "w.png", blocks(2, 4, [1000, 3]))
    assert value_counts(wide).values.tolist() == [3, 1000]
    np.save(tmp_path / "n.npy", np.array([[-1, 70000], [5, 5]], np.int64)[..., None])
    vc = value_counts(tmp_path / "n.npy")  # negative and large: counted with np.unique
    assert vc.values.tolist() == [-1, 5, 70000] and vc.counts.tolist() == [1, 2, 1]
    assert read_array(tmp_path / "n.npy")[1].shape == (2, 2)


def test_rgb_is_described_not_converted(tmp_path: Path) -> None:
    path = save_mask(tmp_path / "c.png", np.zeros((2, 3, 3), np.uint8))
    info = image_info(path)
    assert not info.is_index_map and describe(info) == "a 3-channel PNG (mode RGB)"
    assert read_array(path)[1].shape == (2, 3, 3)
    with pytest.raises(InputError, match="single-channel integer mask"):
        value_counts(path)


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(LogReadError, match="no such file"):
        image_info(tmp_path / "nope.png")
    (tmp_path / "x.png").write_text("hello")
    with pytest.raises(InputError, match="not an image Pillow can read"):
        value_counts(tmp_path / "x.png")
    np.save(tmp_path / "v.npy", np.zeros(3))
    with pytest.raises(InputError, match=r"expected an \(H, W\)"):
        image_info(tmp_path / "v.npy")
