"""HF Trainer trainer_state.json, written the way ``TrainerState.save_to_json`` writes it."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from metrics.readers.base import LogFormat
from metrics.readers.registry import get_format, read_log
from tests.readers_util import feed_in_pieces, read_whole

LABELS = ("road", "sidewalk", "traffic light")


@dataclass
class TrainerState:
    """The fields of ``transformers.TrainerState`` (4.4x) that ``asdict`` serialises."""

    epoch: float | None = None
    global_step: int = 0
    max_steps: int = 0
    logging_steps: int = 20
    eval_steps: int = 100
    save_steps: int = 100
    train_batch_size: int | None = 8
    num_train_epochs: int = 0
    num_input_tokens_seen: int = 0
    total_flos: float = 0
    log_history: list[dict[str, Any]] = field(default_factory=list)
    best_metric: float | None = None
    best_model_checkpoint: str | None = None
    is_local_process_zero: bool = True
    is_world_process_zero: bool = True
    is_hyper_param_search: bool = False
    trial_name: str | None = None
    trial_params: dict[str, Any] | None = None
    stateful_callbacks: dict[str, Any] = field(default_factory=dict)


def save_to_json(state: TrainerState) -> bytes:
    """``TrainerState.save_to_json``: ``json.dumps(asdict(self), indent=2, sort_keys=True)``."""
    return (json.dumps(asdict(state), indent=2, sort_keys=True) + "\n").encode()


def train_entry(step: int) -> dict[str, Any]:
    return {
        "epoch": step / 100,
        "grad_norm": 3.0 - step / 100,
        "learning_rate": 6e-05 * (1 - step / 200),
        "loss": round(2.0 - step / 200, 4),
        "step": step,
    }


def eval_metrics(step: int, flattened: bool) -> dict[str, Any]:
    """What the SegFormer recipe's ``compute_metrics`` gives, prefixed ``eval_``."""
    per_class = [0.9 if step == 100 else 0.95, 0.25 if step == 100 else 0.5, math.nan]
    entry: dict[str, Any] = {
        "epoch": step / 100,
        "eval_loss": 0.75 if step == 100 else 0.5,
        "eval_mean_iou": 0.4125 if step == 100 else 0.5,
        "eval_mean_accuracy": 0.5 if step == 100 else 0.625,
        "eval_overall_accuracy": 0.875 if step == 100 else 0.9375,
        "eval_runtime": 12.5,
        "eval_samples_per_second": 40.0,
        "eval_steps_per_second": 5.0,
        "step": step,
    }
    accuracy = [0.96, 0.3, math.nan]
    if flattened:  # the recipe pops the lists and re-adds them per label
        entry |= {f"eval_iou_{label}": v for label, v in zip(LABELS, per_class, strict=True)}
        entry |= {f"eval_accuracy_{label}": v for label, v in zip(LABELS, accuracy, strict=True)}
    else:
        entry["eval_per_category_iou"] = per_class
        entry["eval_per_category_accuracy"] = accuracy
    return entry


def trainer_state(flattened: bool = True, final: bool = True) -> bytes:
    history: list[dict[str, Any]] = []
    for step in range(20, 201, 20):
        history.append(train_entry(step))
        if step % 100 == 0:
            history.append(eval_metrics(step, flattened))
    if final:
        history.append(
            {
                "epoch": 2.0,
                "step": 200,
                "total_flos": 1.2e15,
                "train_loss": 1.45,
                "train_runtime": 321.5,
                "train_samples_per_second": 4.98,
                "train_steps_per_second": 0.622,
            }
        )
    state = TrainerState(
        epoch=2.0, global_step=200, max_steps=200, num_train_epochs=2, log_history=history
    )
    return save_to_json(state)


@pytest.fixture(scope="module")
def fmt() -> LogFormat:
    return get_format("hf-trainer")


def values(table: pd.DataFrame, metric: str, split: str) -> list[tuple[int, float]]:
    rows = table[(table["metric"] == metric) & (table["split"] == split)]
    return list(zip(rows["step"].tolist(), rows["value"].tolist(), strict=True))


def test_label_variant(tmp_path: Path) -> None:
    path = tmp_path / "trainer_state.json"
    path.write_bytes(trainer_state(flattened=True))
    data = read_log(str(path))
    assert data.format == "hf-trainer"
    table = data.table
    assert values(table, "miou", "val") == [(100, 0.4125), (200, 0.5)]
    assert values(table, "macc", "val") == [(100, 0.5), (200, 0.625)]
    assert values(table, "aacc", "val") == [(100, 0.875), (200, 0.9375)]
    assert values(table, "loss", "val") == [(100, 0.75), (200, 0.5)]
    assert values(table, "iou/road", "val") == [(100, 0.9), (200, 0.95)]
    assert values(table, "iou/sidewalk", "val") == [(100, 0.25), (200, 0.5)]
    assert values(table, "acc/sidewalk", "val") == [(100, 0.3), (200, 0.3)]
    assert all(math.isnan(v) for _, v in values(table, "iou/traffic light", "val"))
    assert values(table, "eval_runtime", "val") == [(100, 12.5), (200, 12.5)]
    assert "eval_mean_iou" not in set(table["metric"])


def test_train_entries(fmt: LogFormat) -> None:
    table = read_whole(fmt, trainer_state())
    loss = values(table, "loss", "train")
    assert loss[0] == (20, 1.9) and loss[-1] == (200, 1.0) and len(loss) == 10
    assert values(table, "lr", "train")[0] == (20, 6e-05 * 0.9)
    assert values(table, "grad_norm", "train")[-1] == (200, 1.0)
    assert values(table, "epoch", "train")[:2] == [(20, 0.2), (40, 0.4)]
    assert "learning_rate" not in set(table["metric"])
    assert table["wall_time"].isna().all()


def test_per_category_list_variant_uses_class_index(fmt: LogFormat) -> None:
    table = read_whole(fmt, trainer_state(flattened=False))
    assert values(table, "iou/0", "val") == [(100, 0.9), (200, 0.95)]
    assert values(table, "iou/1", "val") == [(100, 0.25), (200, 0.5)]
    assert all(math.isnan(v) for _, v in values(table, "iou/2", "val"))
    assert values(table, "acc/0", "val") == [(100, 0.96), (200, 0.96)]
    assert values(table, "miou", "val") == [(100, 0.4125), (200, 0.5)]


def test_final_summary_goes_to_meta_not_records(tmp_path: Path) -> None:
    path = tmp_path / "trainer_state.json"
    path.write_bytes(trainer_state())
    data = read_log(str(path))
    assert data.meta.planned_steps == 200
    assert data.meta.train_summary == {
        "epoch": 2.0,
        "train_loss": 1.45,
        "train_runtime": 321.5,
        "train_samples_per_second": 4.98,
        "train_steps_per_second": 0.622,
    }
    assert not data.table["metric"].isin(["train_loss", "train_runtime", "total_flos"]).any()
    # the summary repeats the last train step (200) but adds no record there
    last = data.table[(data.table["step"] == 200) & (data.table["split"] == "train")]
    assert sorted(last["metric"].astype(str)) == ["epoch", "grad_norm", "loss", "lr"]


def test_whole_file_parse_is_deterministic(fmt: LogFormat) -> None:
    data = trainer_state()
    whole = read_whole(fmt, data)
    assert len(whole) > 0
    pd.testing.assert_frame_equal(feed_in_pieces(fmt, data, [5, 700, 2000]), whole)
    pd.testing.assert_frame_equal(read_whole(fmt, data), whole)


def test_half_written_state_is_reported_and_gives_nothing(fmt: LogFormat) -> None:
    parser = fmt.new_parser()
    data = trainer_state()
    parsed = parser.finish(data[: len(data) // 2], 0)
    assert len(parsed.records) == 0
    assert (
        len(parsed.bad_lines) == 1 and "not a complete JSON document" in parsed.bad_lines[0].reason
    )


def test_malformed_entries_are_skipped(fmt: LogFormat) -> None:
    state = json.loads(trainer_state(final=False))
    state["log_history"].insert(0, {"loss": 9.0})  # no step
    state["log_history"].insert(0, "junk")
    parsed = fmt.new_parser().finish(json.dumps(state, indent=2, sort_keys=True).encode(), 0)
    assert [b.reason for b in parsed.bad_lines] == [
        "log_history[0] is not an object",
        "log_history[1] has no integer 'step'",
    ]
    assert 9.0 not in set(parsed.records["value"])


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (trainer_state()[:4096], True),
        (b'{"iteration": 19, "total_loss": 2.0, "log_history": 1}\n', False),
        (b'{\n  "log_history": []\n}\n', False),  # no global_step: not a TrainerState
        (b"step,loss\n", False),
    ],
)
def test_sniff(fmt: LogFormat, head: bytes, expected: bool) -> None:
    assert fmt.sniff(head, "trainer_state.json") is expected
