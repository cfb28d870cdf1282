"""The sample-log generator: every run's files plus ``truth.json`` and ``README.md``.

One module per framework writes its runs (each run seeded from its own name, so the order of
``RUNS`` only decides the order of the labels and of the README table).
"""

from __future__ import annotations

from collections.abc import Callable

from .common import Out
from .detectron2 import run_d2_dead_class, run_d2_lowlr
from .generic_csv import run_csv_overfit
from .hf import run_hf_flat_loss
from .lightning import run_lightning_slow
from .mmseg0 import run_mm0_majority, run_mm0_overfit
from .mmseg1 import run_mm1_broken_eval, run_mm1_resumed, run_mm1_stalled
from .paddleseg import (
    run_paddle_converged,
    run_paddle_diverging,
    run_paddle_healthy,
    run_paddle_no_eval,
    run_paddle_resumed,
    run_paddle_rising_noisy,
    run_paddle_v20_noisy,
)
from .tensorboard import run_tb_diverging
from .truth import FINDINGS, STATUS_ORDER, readme, truth_json

__all__ = ["RUNS", "Out", "generate"]

RUNS: tuple[Callable[[Out], None], ...] = (
    run_paddle_healthy,
    run_paddle_v20_noisy,
    run_paddle_resumed,
    run_paddle_diverging,
    run_paddle_no_eval,
    run_paddle_converged,
    run_paddle_rising_noisy,
    run_mm0_overfit,
    run_mm0_majority,
    run_mm1_stalled,
    run_mm1_resumed,
    run_mm1_broken_eval,
    run_d2_lowlr,
    run_d2_dead_class,
    run_hf_flat_loss,
    run_lightning_slow,
    run_tb_diverging,
    run_csv_overfit,
)


def generate() -> Out:
    """Every run's files plus ``truth.json`` and ``README.md``, as path -> bytes."""
    out = Out()
    for make in RUNS:
        make(out)
    for t in out.runs.values():
        assert t.status in STATUS_ORDER and set(t.findings) <= set(FINDINGS), t
    out.write("truth.json", truth_json(out))
    out.write("README.md", readme(out))
    return out
