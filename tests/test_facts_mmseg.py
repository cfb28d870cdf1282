"""MMSegmentation facts and the literal-only reader of its Python-syntax config."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.facts import export_advice
from metrics.facts.literal_config import parse_config
from metrics.facts.mmseg import (
    config_from_text_log,
    facts_from_config_text,
    meta_from_json_log,
)
from metrics.readers.textutil import decode

VOC = [
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
    "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
    "sheep", "sofa", "train", "tvmonitor",
]  # fmt: skip
MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]


def test_deeplab_json_line1(public_logs: Path) -> None:
    path = public_logs / "mmseg0x" / "deeplab_voc12_15k.log.json"
    config, classes = meta_from_json_log(path.read_text().split("\n", 1)[0])
    assert config is not None and classes == VOC
    f = facts_from_config_text(config, str(path), classes)
    assert f is not None
    assert (f.planned_steps, f.batch_size, f.num_classes) == (15000, 8, 21)
    assert f.crop_size == [512, 512] and f.class_names == VOC
    assert f.normalize == {"mean": MEAN, "std": STD} and f.eval_normalize == f.normalize
    assert (f.base_lr, f.optimizer, f.weight_decay) == (0.01, "SGD", 0.0005)
    assert f.lr_schedule == {"type": "poly", "power": 0.9, "min_lr": 0.0001, "by_epoch": False}
    assert f.model == "EncoderDecoder(ResNetV1c-101, DepthwiseSeparableASPPHead)"
    assert f.dataset == "PascalVOCDataset"
    assert f.loss == {
        "type": "CrossEntropyLoss", "class_weight": None, "use_sigmoid": False, "loss_weight": 1.0
    }  # fmt: skip
    assert f.ignore_index is None  # MMSeg's default 255 is not written in this config
    assert f.eval_size == [512, 2048]  # MultiScaleFlipAug img_scale=(2048, 512) is (w, h)
    assert f.as_meta() == {"planned_steps": 15000, "num_classes": 21, "class_names": VOC}
    advice = export_advice(f)
    assert advice[0].startswith("Export to ONNX/TensorRT with input shape [1, 3, 512, 512]")
    assert "Warning: evaluation feeds 2048×512 images but training used 512×512" in advice[2]


def test_deeplab_text_log_agrees_with_json(public_logs: Path) -> None:
    text = decode((public_logs / "mmseg0x" / "deeplab_voc12_15k.log").read_bytes())
    config = config_from_text_log(text)
    assert config is not None and config.startswith("norm_cfg = dict(")
    assert config.rstrip().endswith("auto_resume = False\nwork_dir = 'mzmseg/baseline_splgpse'")
    f = facts_from_config_text(config, "x")
    assert f is not None
    assert (f.planned_steps, f.batch_size, f.num_classes, f.crop_size) == (15000, 8, 21, [512, 512])
    assert f.class_names is None  # only the JSON log carries CLASSES


def test_windows_gbk_crlf_text_logs(public_logs: Path) -> None:
    voc = decode((public_logs / "mmseg0x" / "pspnet_voc12_20k_windows_crlf_gbk.log").read_bytes())
    f = facts_from_config_text(config_from_text_log(voc) or "", "x")
    assert f is not None
    assert (f.planned_steps, f.batch_size, f.model) == (
        20000, 4, "EncoderDecoder(ResNetV1c-50, PSPHead)"
    )  # fmt: skip
    glom = decode(
        (public_logs / "mmseg0x" / "pspnet_glomeruli_2k_windows_crlf_gbk.log").read_bytes()
    )
    g = facts_from_config_text(config_from_text_log(glom) or "", "x")
    assert g is not None
    assert (g.planned_steps, g.batch_size, g.base_lr) == (2000, 8, 0.005)
    assert g.class_names == ["background", "glomeruli"]


def test_mmseg1_watermelon_text_log(public_logs: Path) -> None:
    text = decode((public_logs / "mmseg1x" / "pspnet_watermelon_400it.log").read_bytes())
    f = facts_from_config_text(config_from_text_log(text) or "", "x")
    assert f is not None
    assert f.planned_steps is None  # EpochBasedTrainLoop(max_epochs=50): no iteration count
    assert (f.batch_size, f.num_classes) == (6, 6)
    assert f.class_names == ["red", "green", "white", "seed-black", "seed-white"]
    assert f.crop_size == [384, 512] and f.eval_size == [512, 1024]
    assert (f.optimizer, f.base_lr, f.weight_decay) == ("AdamW", 0.0003, 0.0003)  # optim_wrapper
    assert f.normalize == {"mean": MEAN, "std": STD}  # from the data_preprocessor
    assert f.lr_schedule is not None and f.lr_schedule["type"] == "LinearLR+CosineAnnealingLR"
    assert f.dataset == "BaseSegDataset"


def test_literal_parser_values() -> None:
    cfg = parse_config(
        "crop_size = (512, 1024)\n"
        "base = dict(type='SGD', lr=0.01)\n"
        "optimizer = dict(base, lr=base['lr'] if True else 0, momentum=-0.9)\n"
        "max_iters = 80000\n"
        "runner = dict(type='IterBasedRunner', max_iters=max_iters)\n"
        "evaluation = dict(interval=max_iters // 10, metric=['mIoU'])\n"
        "extra = {'a': 1, **dict(b=2)}\n"
        "this line is not python\n"
        "names = list(('x', 'y')) + ['z']\n"
    )
    assert cfg["crop_size"] == [512, 1024]
    assert cfg["optimizer"] == {
        "type": "SGD", "lr": "base['lr'] if True else 0", "momentum": -0.9
    }  # fmt: skip
    assert cfg["runner"] == {"type": "IterBasedRunner", "max_iters": 80000}
    assert cfg["evaluation"] == {"interval": 8000, "metric": ["mIoU"]}
    assert cfg["extra"] == {"a": 1, "b": 2}
    assert cfg["names"] == ["x", "y", "z"]


HOSTILE = """
import os
marker = '{marker}'
boom = __import__('os').system('touch {marker}')
opened = open('{marker}', 'w')
globals()['SEGWATCH_PWNED'] = True
lam = (lambda: __import__('os').system('touch {marker}'))()
model = dict(type=exec("open('{marker}', 'w')"), num_classes=__import__('builtins').len('ab'))
big = 10 ** 10 ** 10
runner = dict(max_iters=100)
"""


def test_hostile_config_is_read_as_text_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    f = facts_from_config_text(HOSTILE.format(marker=marker), "x")
    assert not marker.exists()
    assert "SEGWATCH_PWNED" not in globals()
    assert f is not None and f.planned_steps == 100 and f.num_classes is None
    assert f.config["boom"] == f"__import__('os').system('touch {marker}')"
    assert f.config["model"]["num_classes"] == "__import__('builtins').len('ab')"
    assert f.config["big"] == "10 ** 10 ** 10"
    assert "os" not in f.config


def test_json_line1_that_is_not_meta() -> None:
    assert meta_from_json_log('{"mode": "train", "iter": 50}') == (None, None)
    assert meta_from_json_log("not json") == (None, None)
    assert meta_from_json_log(json.dumps({"config": 3, "CLASSES": ["a"]})) == (None, ["a"])


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="abx_=()[]{}',.:*+-/ 0123456789\n#dict", max_size=200))
def test_literal_parser_never_raises(text: str) -> None:
    cfg = parse_config(text)
    assert isinstance(cfg, dict)
