"""Write small mask and image files with Pillow, the way dataset tools save them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

# a VOC-like palette: class c is drawn in a colour, but the file stores c
PALETTE = [v for c in range(256) for v in ((c * 37) % 256, (c * 91) % 256, (c * 53) % 256)]


def save_mask(
    path: Path, mask: np.ndarray, *, palette: bool = False, fmt: str | None = None
) -> Path:
    """Save an (H, W) uint8/uint16/bool mask, or an (H, W, 3) RGB one; make parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray(mask)
    if palette:
        img = Image.frombytes("P", img.size, np.ascontiguousarray(mask, np.uint8).tobytes())
        img.putpalette(PALETTE)
    if fmt == "JPEG":
        img.save(path, format="JPEG", quality=75)
    else:
        img.save(path)
    return path


def blocks(h: int, w: int, ids: list[int], seed: int = 0) -> np.ndarray:
    """A mask of equal vertical bands, one per id, rolled right by ``seed`` columns."""
    m = np.zeros((h, w), np.uint16 if max(ids) > 255 else np.uint8)
    edges = np.linspace(0, w, len(ids) + 1).astype(int)
    for c, a, b in zip(ids, edges[:-1], edges[1:], strict=True):
        m[:, a:b] = c
    return np.roll(m, seed, axis=1)
