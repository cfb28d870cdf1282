"""Datasets: class names, pixel frequencies (for aAcc) and a plausible final IoU per class."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CITYSCAPES = (
    "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
    "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus", "train",
    "motorcycle", "bicycle",
)  # fmt: skip

CITYSCAPES_FREQ = (
    0.37, 0.06, 0.22, 0.006, 0.008, 0.012, 0.002, 0.005, 0.15, 0.01, 0.04, 0.012, 0.002,
    0.065, 0.0025, 0.002, 0.002, 0.001, 0.004,
)  # fmt: skip

CITYSCAPES_CAP = (
    0.975, 0.81, 0.905, 0.46, 0.52, 0.58, 0.63, 0.72, 0.915, 0.61, 0.935, 0.78, 0.57, 0.935,
    0.6, 0.74, 0.6, 0.53, 0.74,
)  # fmt: skip

CITYSCAPES_ONSET = (
    0.0, 0.0, 0.0, 0.3, 0.2, 0.05, 0.25, 0.08, 0.0, 0.06, 0.0, 0.02, 0.3, 0.0, 0.42, 0.4,
    0.5, 0.45, 0.1,
)  # fmt: skip

UAVID = (
    "background clutter", "building", "road", "tree", "low vegetation", "moving car",
    "static car", "human",
)  # fmt: skip

LOVEDA = ("background", "building", "road", "water", "barren", "forest", "agricultural")

DEFECTS = ("background", "scratch", "dent", "crack")

CROPS = ("background", "wheat", "corn", "soybean", "rice", "cotton", "weed", "water")

CAMVID = (
    "sky", "building", "pole", "road", "pavement", "tree", "signsymbol", "fence", "car",
    "pedestrian", "bicyclist",
)  # fmt: skip

VOC = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
    "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
    "sheep", "sofa", "train", "tvmonitor",
)  # fmt: skip

SIDEWALK = (
    "unlabeled", "flat-road", "flat-sidewalk", "flat-crosswalk", "flat-cyclinglane",
    "flat-parkingdriveway", "flat-railtrack", "flat-curb", "human-person", "human-rider",
    "vehicle-car", "vehicle-truck", "vehicle-bus", "vehicle-tramtrain", "vehicle-motorcycle",
    "vehicle-bicycle", "vehicle-caravan", "vehicle-cartrailer", "construction-building",
    "construction-door", "construction-wall", "construction-fenceguardrail",
    "construction-bridge", "construction-tunnel", "construction-stairs", "object-pole",
    "object-trafficsign", "object-trafficlight", "nature-vegetation", "nature-terrain", "sky",
    "void-ground", "void-dynamic", "void-static", "void-unclear",
)  # fmt: skip

HISTO = ("background", "tumor", "stroma", "inflammatory", "necrosis")

OPTIC = ("background", "optic_disc")


@dataclass(frozen=True)
class Dataset:
    """Class names plus what the simulation needs per class."""

    classes: tuple[str, ...]
    freq: np.ndarray  # pixel share in the val set (sums to 1 over present classes)
    cap: np.ndarray  # IoU the class reaches when the run's progress is 1
    onset: np.ndarray  # progress before which the class is never predicted (IoU exactly 0)
    absent: tuple[int, ...] = ()  # classes with no val pixels that are never predicted: NaN
    floor: np.ndarray | None = None  # IoU before the class's onset (0 unless given)
    gamma: np.ndarray | None = None  # <1: the class saturates early (big, easy classes)

    @property
    def n(self) -> int:
        return len(self.classes)


def dataset(
    rng: np.random.Generator,
    classes: Sequence[str],
    freq: Sequence[float] | None = None,
    cap: Sequence[float] | None = None,
    onset: Sequence[float] | None = None,
    absent: tuple[int, ...] = (),
    floor: Sequence[float] | None = None,
    gamma: Sequence[float] | None = None,
) -> Dataset:
    """A dataset; unspecified per-class figures are drawn (background-heavy frequencies)."""
    n = len(classes)
    f = np.asarray(freq if freq is not None else rng.dirichlet(np.r_[8.0, np.full(n - 1, 1.0)]))
    c = np.asarray(cap if cap is not None else rng.uniform(0.45, 0.9, n))
    o = np.asarray(onset if onset is not None else np.clip(rng.uniform(-0.2, 0.3, n), 0, None))
    f = np.where(np.isin(np.arange(n), absent), 0.0, f)
    fl = np.zeros(n) if floor is None else np.asarray(floor, dtype=float)
    f = f / f.sum()
    g = np.select([f > 0.05, f > 0.01], [0.15, 0.5], 1.0) if gamma is None else np.asarray(gamma)
    return Dataset(tuple(classes), f, c, o, absent, fl, g)
