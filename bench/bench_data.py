"""Benchmark of the label audit and folder evaluation against a plain per-image np.unique loop.

Writes (once, into a temporary folder unless ``--data`` names one to keep) ``--images`` masks of
1024×2048 with 19 classes, curved borders and an ignored band, saved as PNG like a Cityscapes
train-id mask. Each measurement runs in a fresh interpreter, so its peak RSS is its own; the
time is that of the call only (imports excluded). Prints megapixels/s, the speed-up over a
plain loop (target ≥ 5×) — per-image ``np.unique`` for the audit, ``np.unique`` of the
combined (ground truth, prediction) ids per pair for ``eval`` — and peak RSS for 50 vs all
images (target: flat).

    python bench/bench_data.py [--images 200] [--data DIR] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

H, W, CLASSES = 1024, 2048, 19
REPO = Path(__file__).resolve().parent.parent

CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    sys.path.insert(0, {repo!r})
    import numpy as np
    from PIL import Image
    from metrics.masks.label_audit import audit_labels
    from metrics.masks.folder_eval import evaluate_segmentation

    mode, folder, workers = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    t0, c0 = time.perf_counter(), time.process_time()
    if mode == "unique":
        totals = {{}}
        for f in sorted(folder.glob("*.png")):
            values, counts = np.unique(np.array(Image.open(f)), return_counts=True)
            for v, c in zip(values.tolist(), counts.tolist()):
                totals[v] = totals.get(v, 0) + c
        pixels = sum(totals.values())
    elif mode == "unique_pairs":  # the plain loop for eval: one np.unique per (pred, gt) pair
        totals = {{}}
        for f in sorted(folder.glob("*.png")):
            gt = np.array(Image.open(f)).astype(np.int64)
            pred = np.array(Image.open(f)).astype(np.int64)
            keep = gt != 255
            values, counts = np.unique(gt[keep] * {classes} + pred[keep], return_counts=True)
            for v, c in zip(values.tolist(), counts.tolist()):
                totals[v] = totals.get(v, 0) + c
        pixels = sum(totals.values())
    elif mode == "audit":
        audit = audit_labels(folder, {classes}, workers=workers)
        pixels = audit.labelled_pixels + audit.ignored_pixels + audit.out_of_range_pixels
    else:
        res = evaluate_segmentation(folder, folder, {classes}, workers=workers)
        pixels = int(res.confusion.sum())
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({{"seconds": seconds, "cpu": cpu, "pixels": pixels, "rss_kb": rss}}))
    """
)


def make_mask(seed: int) -> np.ndarray:
    """A smooth random field cut into 19 classes (curved borders), bottom band = 255 (ignore)."""
    from scipy.ndimage import zoom

    rng = np.random.default_rng(seed)
    field = zoom(rng.random((16, 32)), (H / 16, W / 32), order=1)
    mask = np.minimum((field * CLASSES).astype(np.uint8), CLASSES - 1)
    mask[-90:] = 255
    return mask


def write_masks(folder: Path, n: int) -> None:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        path = folder / f"{i:04d}.png"
        if not path.exists():
            Image.fromarray(make_mask(i)).save(path, compress_level=1)  # as cv2.imwrite


def subset(folder: Path, n: int, dest: Path) -> Path:
    """A folder of symlinks to the first ``n`` masks."""
    dest.mkdir(parents=True, exist_ok=True)
    for src in sorted(folder.glob("*.png"))[:n]:
        link = dest / src.name
        if not link.exists():
            link.symlink_to(src)
    return dest


def measure(mode: str, folder: Path, workers: int, repeat: int = 1) -> dict[str, float]:
    """The fastest of ``repeat`` runs, each in a fresh interpreter."""
    code = CHILD.format(repo=str(REPO), classes=CLASSES)
    runs: list[dict[str, float]] = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", code, mode, str(folder), str(workers)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        runs.append(json.loads(out))
    return min(runs, key=lambda r: r["seconds"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--small", type=int, default=50, help="the smaller set for the RSS check")
    ap.add_argument("--data", type=Path, default=None, help="keep the masks here (reused)")
    ap.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    ap.add_argument("--repeat", type=int, default=1, help="best of N runs on the full set")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="segwatch-bench-") as tmp:
        root = args.data or Path(tmp)
        masks = root / "masks"
        t0 = time.perf_counter()
        write_masks(masks, args.images)
        size = sum(p.stat().st_size for p in masks.glob("*.png")) / len(list(masks.glob("*.png")))
        print(f"{args.images} masks {W}×{H} ready in {time.perf_counter() - t0:.1f} s "
              f"(PNG {size / 1024:.0f} KiB each); {os.cpu_count()} CPUs, "
              f"workers={args.workers}")  # fmt: skip
        every = subset(masks, args.images, root / f"first{args.images}")
        few = subset(masks, args.small, root / f"first{args.small}")
        r = args.repeat
        unique = measure("unique", every, 1, r)
        pairs = measure("unique_pairs", every, 1, r)
        rows = [
            ("np.unique loop", unique, measure("unique", few, 1), unique),
            ("audit, 1 thread", measure("audit", every, 1, r), measure("audit", few, 1), unique),
            (
                f"audit, {args.workers} threads",
                measure("audit", every, args.workers, r),
                measure("audit", few, args.workers),
                unique,
            ),
            ("np.unique pair loop", pairs, measure("unique_pairs", few, 1), pairs),
            (
                f"eval, {args.workers} threads",
                measure("eval", every, args.workers, r),
                measure("eval", few, args.workers),
                pairs,
            ),
        ]
    report(rows, args.images, args.small)


def report(
    rows: list[tuple[str, dict[str, float], dict[str, float], dict[str, float]]], n: int, k: int
) -> None:
    """Wall-clock throughput and speed-up over the row's plain loop, CPU-time speed-up (work
    done), peak RSS."""
    print(
        f"\n{'':20} {'MP/s':>7} {'speed-up':>9} {'wall s':>7} {'CPU s':>7} {'CPU ×':>6} "
        f"{f'RSS {k}':>9} {f'RSS {n}':>9}"
    )
    for name, big, small, base in rows:
        mps = big["pixels"] / 1e6 / big["seconds"]
        print(
            f"{name:20} {mps:7.1f} {base['seconds'] / big['seconds']:8.1f}× "
            f"{big['seconds']:7.2f} {big['cpu']:7.2f} {base['cpu'] / big['cpu']:5.1f}× "
            f"{small['rss_kb'] / 1024:6.0f} MB {big['rss_kb'] / 1024:6.0f} MB"
        )
    print(
        "(audit rows against the np.unique loop over masks; eval rows against the np.unique loop"
        " over (prediction, ground truth) pairs, whose MP/s count pairs)"
    )


if __name__ == "__main__":
    main()
