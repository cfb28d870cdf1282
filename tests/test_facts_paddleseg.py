"""PaddleSeg facts: the "Config Information" YAML block, read with the safe loader."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.facts import export_advice
from metrics.facts.paddleseg import facts_from_text
from metrics.readers.textutil import decode

ESPNET_WEIGHTS = [2.79834108, 6.92945723, 3.84068512, 9.94349362, 9.77098823, 9.51484]


def read(path: Path) -> str:
    return decode(path.read_bytes())


def test_espnet_public_log(public_logs: Path) -> None:
    path = public_logs / "paddleseg" / "espnet_cityscapes_120k_trainer-0.log"
    f = facts_from_text(read(path), str(path))
    assert f is not None
    assert (f.planned_steps, f.batch_size, f.num_classes) == (120000, 4, 19)
    assert f.crop_size == [1024, 512] and f.size_order == "wh"
    assert f.base_lr == 0.001
    assert f.lr_schedule == {"end_lr": 0.0, "power": 0.9, "type": "PolynomialDecay"}
    assert f.optimizer == "adam" and f.weight_decay == 0.0002
    assert f.loss is not None and f.loss["type"] == "CrossEntropyLoss"
    assert f.loss["class_weight"][:6] == ESPNET_WEIGHTS and len(f.loss["class_weight"]) == 19
    assert f.loss["ignore_index"] == 255 and f.ignore_index == 255
    assert f.model == "ESPNetV1" and f.dataset == "Cityscapes"
    assert f.normalize == {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}  # Normalize defaults
    assert f.eval_transforms == [{"type": "Normalize"}] and f.eval_size is None
    assert f.as_meta() == {"planned_steps": 120000, "num_classes": 19, "ignore_index": 255}


def test_espnet_export_advice_warns_whole_images(public_logs: Path) -> None:
    path = public_logs / "paddleseg" / "espnet_cityscapes_120k_trainer-0.log"
    f = facts_from_text(read(path), str(path))
    assert f is not None
    advice = export_advice(f)
    assert advice[0].startswith("Export to ONNX/TensorRT with input shape [1, 3, 512, 1024]")
    assert "--input_shape 1 3 512 1024" in advice[0]
    assert any(a.startswith("Warning: evaluation feeds whole images") for a in advice)
    assert any("2048×1024 for Cityscapes" in a for a in advice)


def test_appended_launches_take_the_last_block(public_logs: Path) -> None:
    path = public_logs / "paddleseg" / "encnet_appended_runs_resumed_workerlog.0.log"
    f = facts_from_text(read(path), str(path))
    assert f is not None
    assert (f.planned_steps, f.base_lr, f.model) == (50000, 0.1, "EncNet(ResNet50dw)")
    assert f.loss is not None and f.loss["coef"] == [1, 0.2, 0.4]


CONFIG_V20 = """2021-03-02 20:41:07 [INFO]\t\r
---------------Config Information---------------\r
batch_size: 2\r
iters: 1000\r
learning_rate:\r
  decay:\r
    end_lr: 0\r
    power: 0.9\r
    type: poly\r
  value: 0.02\r
model:\r
  num_classes: 2\r
  type: UNet\r
train_dataset:\r
  transforms:\r
  - target_size: [512, 256]\r
    type: Resize\r
  - mean: [0.4, 0.4, 0.4]\r
    std: [0.2, 0.2, 0.2]\r
    type: Normalize\r
  type: Dataset\r
val_dataset:\r
  transforms:\r
  - target_size: [512, 256]\r
    type: Resize\r
  - type: Normalize\r
  type: Dataset\r
------------------------------------------------\r
2021-03-02 20:41:09 [INFO]\t[TRAIN] epoch=1, iter=10/1000, loss=0.6, lr=0.02, batch_cost=0.2\r
"""


def test_v20_learning_rate_block_crlf_and_normalize_mismatch() -> None:
    f = facts_from_text(CONFIG_V20, "train.log")
    assert f is not None
    assert (f.planned_steps, f.batch_size, f.num_classes, f.base_lr) == (1000, 2, 2, 0.02)
    assert f.lr_schedule == {"end_lr": 0, "power": 0.9, "type": "poly"}
    assert f.crop_size == [512, 256] and f.eval_size == [512, 256]
    assert f.normalize == {"mean": [0.4, 0.4, 0.4], "std": [0.2, 0.2, 0.2]}
    advice = export_advice(f)
    assert advice[0].startswith("Export to ONNX/TensorRT with input shape [1, 3, 256, 512]")
    assert [a for a in advice if a.startswith("Warning")] == [
        "Warning: evaluation normalises with mean [0.5, 0.5, 0.5], std [0.5, 0.5, 0.5], "
        "unlike training; the exported model will see inputs it was not trained on."
    ]


def test_no_block_or_broken_yaml_gives_none() -> None:
    assert facts_from_text("[TRAIN] epoch: 1, iter: 10/100, loss: 1.0\n", "x") is None
    broken = "---------------Config Information---------------\nbatch_size: [1\n" + "-" * 48 + "\n"
    assert facts_from_text(broken, "x") is None


def test_yaml_tags_are_not_constructed() -> None:
    """The safe loader refuses Python object tags: the block is dropped, nothing is built."""
    hostile = (
        "---------------Config Information---------------\n"
        "batch_size: !!python/object/apply:os.system ['touch /tmp/segwatch_pwned']\n"
        + "-" * 48
        + "\n"
    )
    assert facts_from_text(hostile, "x") is None
    assert not Path("/tmp/segwatch_pwned").exists()


_PIECES = [
    "---------------Config Information---------------\n",
    "------------------------------------------------\n",
    "batch_size: 4\n",
    "iters: 1000\n",
    "--Config Information--\r\n",
    "2021-01-01 [INFO]\t[TRAIN] epoch: 1, iter: 10/1000, loss: 1.0\n",
    "Config Information\n",
    "  - type: Resize\n",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=20))
def test_config_blocks_finds_what_the_regex_finds_everywhere(pieces: list[str]) -> None:
    """The block regex is tried only where the title occurs: the same blocks as trying it at
    every line."""
    from metrics.facts.paddleseg import _BLOCK_RE, config_blocks, load_yaml

    text = "".join(pieces)
    everywhere = [load_yaml(m.group(1).replace("\r\n", "\n")) for m in _BLOCK_RE.finditer(text)]
    assert config_blocks(text) == [c for c in everywhere if c is not None]
