"""Read masks and images with Pillow the way a PIL-based training loader sees them.

A palette PNG (mode ``P``) is an index map: its pixel values are the class ids, not the colours.
``L``, ``I;16`` and ``I`` are index maps too. A 3- or 4-channel file is *not* an index map and is
never converted silently: callers decide (flag it, or refuse it). ``.npy`` arrays are read as
saved. Pixel counts of 8-bit masks come from Pillow's C histogram, without a NumPy copy.

Images come from untrusted folders: a file declaring more than ``max_image_pixels()`` pixels
(default 64 Mpx, ``SEGWATCH_MAX_IMAGE_PIXELS``) is refused from its header, before any pixel is
decoded, with an ``InputError`` naming the file and its declared size; callers report it as
unreadable and go on. So one image costs at most a few hundred MB, whatever it claims.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, UnidentifiedImageError

from metrics.errors import InputError, LogReadError

__all__ = [
    "IMAGE_SUFFIXES",
    "ImageInfo",
    "ValueCounts",
    "describe",
    "image_info",
    "read_array",
    "value_counts",
]

IMAGE_SUFFIXES = frozenset(
    {".png", ".bmp", ".tif", ".tiff", ".jpg", ".jpeg", ".gif", ".webp", ".ppm", ".pgm", ".npy"}
)
INDEX_MODES = frozenset({"1", "L", "P", "I;16", "I;16B", "I;16L", "I"})
_EIGHT_BIT = frozenset({"L", "P"})
MAX_IMAGE_PIXELS_ENV = "SEGWATCH_MAX_IMAGE_PIXELS"
DEFAULT_MAX_IMAGE_PIXELS = 64_000_000


def max_image_pixels() -> int:
    """Pixels one image may have: ``$SEGWATCH_MAX_IMAGE_PIXELS``, else 64 million."""
    raw = os.environ.get(MAX_IMAGE_PIXELS_ENV, "").strip()
    try:
        return int(raw) if raw else DEFAULT_MAX_IMAGE_PIXELS
    except ValueError:
        raise InputError(f"{MAX_IMAGE_PIXELS_ENV}={raw!r} is not a number of pixels") from None


@dataclass(frozen=True)
class ImageInfo:
    """What a file is, read from its header: format (``PNG``, ``JPEG``, ``NPY``…), mode, size."""

    path: Path
    format: str
    mode: str  # Pillow mode, or the NumPy dtype of a .npy file
    height: int
    width: int
    channels: int

    @property
    def is_index_map(self) -> bool:
        """True when the pixel values are class ids (one channel of integers)."""
        if self.format == "NPY":
            return self.channels == 1 and np.dtype(self.mode).kind in "iub"
        return self.mode in INDEX_MODES


@dataclass(frozen=True)
class ValueCounts:
    """Distinct pixel values of one single-channel mask and how many pixels hold each."""

    info: ImageInfo
    values: NDArray[np.int64]
    counts: NDArray[np.int64]


def image_info(path: str | Path) -> ImageInfo:
    """The header of an image or ``.npy`` file, without decoding its pixels."""
    p = Path(path)
    if p.suffix.lower() == ".npy":
        return _npy_info(p, _load_npy(p))
    with _open(p) as im:
        return _pil_info(p, im)


def read_array(path: str | Path) -> tuple[ImageInfo, NDArray[np.generic]]:
    """All pixels as an array: ``(H, W)`` for one channel, ``(H, W, C)`` otherwise."""
    p = Path(path)
    if p.suffix.lower() == ".npy":
        arr = _load_npy(p)
        if arr.ndim == 3 and arr.shape[2] == 1:
            arr = arr[..., 0]
        return _npy_info(p, arr), np.asarray(arr)
    with _open(p) as im:
        info = _pil_info(p, im)
        try:
            arr = np.asarray(im)
        except (OSError, ValueError) as exc:
            raise InputError(f"{p}: cannot decode the image ({exc})") from None
    return info, arr


def value_counts(path: str | Path) -> ValueCounts:
    """Pixel count per distinct value of a single-channel mask (Pillow histogram for 8 bits)."""
    p = Path(path)
    if p.suffix.lower() != ".npy":
        with _open(p) as im:
            info = _pil_info(p, im)
            if info.mode in _EIGHT_BIT:
                try:
                    hist = np.asarray(im.histogram(), np.int64)
                except (OSError, ValueError) as exc:
                    raise InputError(f"{p}: cannot decode the image ({exc})") from None
                nz = np.flatnonzero(hist)
                return ValueCounts(info, nz.astype(np.int64), hist[nz])
    info, arr = read_array(p)
    if info.channels != 1 or arr.dtype.kind not in "iub":
        raise InputError(f"{p.name}: expected a single-channel integer mask, got {describe(info)}")
    return ValueCounts(info, *_count(arr))


def _count(arr: NDArray[np.generic]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Distinct values and counts: ``bincount`` for small non-negative ints, else ``unique``."""
    flat = arr.reshape(-1)
    if flat.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if arr.dtype.kind in "ub" or (int(flat.min()) >= 0 and int(flat.max()) < 1 << 16):
        hist = np.bincount(flat.astype(np.intp, copy=False))
        nz = np.flatnonzero(hist)
        return nz.astype(np.int64), hist[nz].astype(np.int64)
    values, counts = np.unique(flat, return_counts=True)
    return values.astype(np.int64), counts.astype(np.int64)


def _open(p: Path) -> Image.Image:
    """The image, header read only; ``InputError`` when it declares too many pixels."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # bounded below
            im = Image.open(p)
    except FileNotFoundError:
        raise LogReadError(f"{p}: no such file") from None
    except Image.DecompressionBombError as exc:
        raise InputError(
            f"{p}: declares too many pixels ({exc}); segwatch reads at most "
            f"{max_image_pixels():,} per image; not decoded"
        ) from None
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"{p}: not an image Pillow can read ({exc})") from None
    w, h = im.size
    _check_pixels(p, w, h, len(im.getbands()))
    return im


def _check_pixels(p: Path, width: int, height: int, channels: int) -> None:
    limit = max_image_pixels()
    if width * height > limit:
        raise InputError(
            f"{p}: declares {width}×{height} pixels ({channels} channel(s)), more than the "
            f"limit of {limit:,} pixels per image ({MAX_IMAGE_PIXELS_ENV}); not decoded"
        )


def _pil_info(p: Path, im: Image.Image) -> ImageInfo:
    w, h = im.size
    return ImageInfo(p, im.format or "?", im.mode, h, w, len(im.getbands()))


def _load_npy(p: Path) -> NDArray[np.generic]:
    try:
        arr: NDArray[np.generic] = np.load(p, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise LogReadError(f"{p}: no such file") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{p}: not a NumPy array file ({exc})") from None
    if arr.ndim not in (2, 3):
        raise InputError(f"{p.name}: expected an (H, W) or (H, W, C) array, got shape {arr.shape}")
    _check_pixels(p, int(arr.shape[1]), int(arr.shape[0]), 1 if arr.ndim == 2 else arr.shape[2])
    return arr


def _npy_info(p: Path, arr: NDArray[np.generic]) -> ImageInfo:
    channels = 1 if arr.ndim == 2 or arr.shape[2] == 1 else int(arr.shape[2])
    return ImageInfo(p, "NPY", str(arr.dtype), int(arr.shape[0]), int(arr.shape[1]), channels)


def describe(info: ImageInfo) -> str:
    """'a 3-channel PNG (mode RGB)': how a file is stored, for messages."""
    what = f"{info.channels}-channel" if info.channels > 1 else "single-channel"
    return f"a {what} {info.format} (mode {info.mode})"
