"""The Hugging Face Trainer run (output_dir/trainer_state.json; LOG_FORMATS.md section 6)."""

from __future__ import annotations

import json
import math

import numpy as np

from .common import Out, RunTruth, best_of, logged, rng_for
from .curves import fractions, simulate_evals
from .datasets import SIDEWALK, dataset


def run_hf_flat_loss(out: Out) -> None:
    name = "hf/segformer-b0_sidewalk_flatloss"
    rng = rng_for(name)
    n = len(SIDEWALK)
    freq = rng.dirichlet(np.full(n, 0.7))
    absent = (0, 13, 16, 23)  # unlabeled (ignore_index 0), tramtrain, caravan, tunnel
    cap = rng.uniform(0.25, 0.9, n)
    onset = np.clip(rng.uniform(-0.3, 0.5, n), 0, None)
    ds = dataset(rng, SIDEWALK, freq, cap, onset, absent=absent)
    max_steps, logging, eval_steps, per_epoch = 4000, 20, 200, 100
    steps = list(range(eval_steps, max_steps + 1, eval_steps))
    prog = 0.35 + 0.6 * fractions(steps, max_steps) ** 0.85
    evals = simulate_evals(rng, ds, steps, prog, class_sd=0.015, common_sd=0.004, decimals=None)
    history: list[dict[str, object]] = []
    lr0 = 6e-05
    by_step = {e.step: e for e in evals}
    for step in range(logging, max_steps + 1, logging):
        lr = lr0 * (1 - step / max_steps)
        loss = 0.452 * math.exp(rng.normal(0, 0.07))
        history.append({
            "epoch": round(step / per_epoch, 2), "grad_norm": logged(rng.gamma(6.0, 0.35)),
            "learning_rate": lr, "loss": round(loss, 4), "step": step,
        })  # fmt: skip
        ev = by_step.get(step)
        if ev is None:
            continue
        runtime = float(rng.normal(21.4, 0.6))
        entry: dict[str, object] = {"epoch": round(step / per_epoch, 2)}
        for i, c in enumerate(SIDEWALK):
            entry[f"eval_accuracy_{c}"] = float(ev.acc[i])
            entry[f"eval_iou_{c}"] = float(ev.iou[i])
        entry.update({
            "eval_loss": logged(0.61 - 0.12 * step / max_steps + rng.normal(0, 0.01)),
            "eval_mean_accuracy": ev.macc, "eval_mean_iou": ev.miou,
            "eval_overall_accuracy": ev.aacc, "eval_runtime": round(runtime, 4),
            "eval_samples_per_second": round(200 / runtime, 3),
            "eval_steps_per_second": round(100 / runtime, 3), "step": step,
        })  # fmt: skip
        history.append(entry)
    history.append({
        "epoch": 40.0, "step": max_steps, "total_flos": 2.830512046571520e17,
        "train_loss": 0.4519773864746094, "train_runtime": 4187.2215,
        "train_samples_per_second": 7.642, "train_steps_per_second": 0.955,
    })  # fmt: skip
    best = best_of([(e.step, e.miou) for e in evals])
    assert best is not None
    state = {
        "best_global_step": best[0], "best_metric": best[1],
        "best_model_checkpoint": f"segformer-b0-finetuned-sidewalk/checkpoint-{best[0]}",
        "epoch": 40.0, "eval_steps": eval_steps, "global_step": max_steps,
        "is_hyper_param_search": False, "is_local_process_zero": True,
        "is_world_process_zero": True, "log_history": history, "logging_steps": logging,
        "max_steps": max_steps, "num_input_tokens_seen": 0, "num_train_epochs": 40,
        "save_steps": eval_steps,
        "stateful_callbacks": {"TrainerControl": {"args": {
            "should_epoch_stop": False, "should_evaluate": False, "should_log": False,
            "should_save": True, "should_training_stop": True}, "attributes": {}}},
        "total_flos": 2.830512046571520e17, "train_batch_size": 8, "trial_name": None,
        "trial_params": None,
    }  # fmt: skip
    f_ = out.write(f"{name}/trainer_state.json", json.dumps(state, indent=2, sort_keys=True) + "\n")
    out.run(name, RunTruth(
        "hf", [f_], "attention", ["loss_flat_miou_rising", "class_never_evaluated"],
        [(e.step, e.miou) for e in evals], max_steps,
        "HARD NEGATIVE. SegFormer-b0 fine-tuned from a Cityscapes checkpoint: the logged train "
        "loss is flat (~0.45 +- noise, no trend) from the first log while eval_mean_iou keeps "
        "rising clearly to the end. Must not be called stalled (info finding only). 35 labels "
        "as `eval_iou_<label>`; 4 of them (unlabeled = ignore_index, tramtrain, caravan, tunnel) "
        "are NaN at every eval, and eval_mean_iou is the nanmean of the rest.",
    ))  # fmt: skip
