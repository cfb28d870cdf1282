"""The training length a run's directory names state: MMSegmentation's config names carry their
schedule (``bisenetv1_r18-d32_4xb4-40k_cityscapes-1024x1024``: 40k iterations), and people name
work dirs the same way (``pspnet_400it``). Read only to tell a finished run from a live one when
nothing else does: a run whose last step is exactly the number its name states ended there."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath

# "40k", "160K", "400it", "2000iters": a number with a step unit, not inside a word ("ade20k").
_SCHEDULE = re.compile(r"(?<![A-Za-z0-9.])(\d{1,7})(k|K|it|its|iter|iters)(?![A-Za-z0-9])")


def steps_in_names(paths: Iterable[str]) -> set[int]:
    """Every step count stated by a component of these paths."""
    found: set[int] = set()
    for path in paths:
        for part in PurePosixPath(path.replace("\\", "/")).parts:
            for number, unit in _SCHEDULE.findall(part):
                found.add(int(number) * (1000 if unit in ("k", "K") else 1))
    return found


def planned_from_names(paths: Iterable[str], last_step: int | None) -> int | None:
    """The stated step count the run ended on, if it ended on one."""
    if last_step is None or last_step <= 0:
        return None
    return last_step if last_step in steps_in_names(paths) else None
