"""What changed between two runs: flattened config keys, best mIoU and its step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metrics.runs import Run, discover_runs, facts_for_run, load_run
from metrics.runs.diff import ConfigChange, config_changes, diff_runs, flatten

CONFIG = """norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    decode_head=dict(
        type='PSPHead', num_classes=2, norm_cfg=dict(type='SyncBN', requires_grad=True)))
crop_size = (512, 512)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=(512, 512), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob={flip}),
    dict(
        type='Normalize', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
        to_rgb=True),
]
data = dict(samples_per_gpu=4, train=dict(type='CustomDataset', pipeline=train_pipeline))
optimizer = dict(type='SGD', lr={lr}, momentum=0.9, weight_decay=0.0005)
runner = dict(type='IterBasedRunner', max_iters=400)
"""


def write_mmseg0_json(path: Path, lr: float, flip: float, miou: list[float]) -> None:
    """An MMSeg 0.x ``<ts>.log.json``: line 1 the run meta with the config, then records."""
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "env_info": "sys.platform: linux", "seed": 0, "exp_name": "pspnet.py",
        "mmseg_version": "0.30.0", "config": CONFIG.format(lr=lr, flip=flip),
        "CLASSES": ["background", "glomeruli"], "PALETTE": [[128, 128, 128], [151, 189, 8]],
    }  # fmt: skip
    lines = [json.dumps(meta)]
    for i, m in enumerate(miou, start=1):
        it = i * 100
        lines.append(json.dumps({
            "mode": "train", "epoch": 1, "iter": it, "lr": lr, "memory": 3000, "data_time": 0.01,
            "decode.loss_ce": 0.5, "decode.acc_seg": 90.0, "loss": 0.5, "time": 0.3,
        }))  # fmt: skip
        lines.append(json.dumps({
            "mode": "val", "epoch": 1, "iter": 50, "lr": lr, "aAcc": 0.98, "mIoU": m,
            "mAcc": 0.9, "IoU.background": 0.98, "IoU.glomeruli": 2 * m - 0.98,
        }))  # fmt: skip
    path.write_text("\n".join(lines) + "\n")


def read(path: Path) -> Run:
    (source,) = discover_runs(str(path))
    return load_run(source)


@pytest.fixture()
def two_runs(tmp_path: Path) -> tuple[Path, Path]:
    a = tmp_path / "base" / "20230213_165119.log.json"
    b = tmp_path / "lr_flip" / "20230214_090000.log.json"
    write_mmseg0_json(a, lr=0.01, flip=0.5, miou=[0.6, 0.7, 0.72, 0.71])
    write_mmseg0_json(b, lr=0.005, flip=0.0, miou=[0.62, 0.75, 0.74, 0.73])
    return a.parent, b.parent


def test_diff_of_two_runs(two_runs: tuple[Path, Path]) -> None:
    ra, rb = read(two_runs[0]), read(two_runs[1])
    diff = diff_runs(ra, facts_for_run(ra), rb, facts_for_run(rb))
    assert diff.compared
    assert diff.changes == (
        ConfigChange("data.train.pipeline.RandomFlip.prob", 0.5, 0.0),
        ConfigChange("optimizer.lr", 0.01, 0.005),
        ConfigChange("train_pipeline.RandomFlip.prob", 0.5, 0.0),
    )
    assert (diff.a.best_miou, diff.a.best_step) == (0.72, 300)
    assert (diff.b.best_miou, diff.b.best_step) == (0.75, 200)
    assert diff.miou_delta == 0.03 and diff.step_delta == -100
    out = diff.to_dict()
    assert out["best_miou_delta"] == 0.03 and out["changes"][1] == {
        "key": "optimizer.lr", "a": 0.01, "b": 0.005
    }  # fmt: skip
    json.dumps(out)


def test_same_run_has_no_changes(two_runs: tuple[Path, Path]) -> None:
    ra = read(two_runs[0])
    diff = diff_runs(ra, facts_for_run(ra), ra, facts_for_run(ra))
    assert diff.changes == () and diff.miou_delta == 0.0 and diff.step_delta == 0


def test_flatten_keys_transforms_by_type_else_by_position() -> None:
    cfg = {
        "opt": {"lr": 0.1, "betas": [0.9, 0.99]},
        "pipe": [{"type": "Resize", "scale": [2048, 512]}, {"type": "RandomFlip", "prob": 0.5}],
        "twice": [{"type": "Pad"}, {"type": "Pad", "size": 4}],
        "hooks": {},
    }
    assert flatten(cfg) == {
        "opt.lr": 0.1, "opt.betas": [0.9, 0.99],
        "pipe.Resize.type": "Resize", "pipe.Resize.scale": [2048, 512],
        "pipe.RandomFlip.type": "RandomFlip", "pipe.RandomFlip.prob": 0.5,
        "twice.0.type": "Pad", "twice.1.type": "Pad", "twice.1.size": 4, "hooks": {},
    }  # fmt: skip


def test_inserted_transform_and_absent_keys() -> None:
    a = {"pipe": [{"type": "Load"}, {"type": "Normalize", "mean": [0.5]}], "seed": 0}
    b = {"pipe": [{"type": "Load"}, {"type": "RandomFlip"}, {"type": "Normalize", "mean": [0.5]}]}
    assert config_changes(a, b) == [
        ConfigChange("pipe.RandomFlip.type", "<absent>", "RandomFlip"),
        ConfigChange("seed", 0, "<absent>"),
    ]


def test_run_without_config_is_not_compared(two_runs: tuple[Path, Path], sample_logs: Path) -> None:
    ra = read(two_runs[0])
    rb = read(sample_logs / "tensorboard" / "fcn_r50_voc_diverging")
    diff = diff_runs(ra, facts_for_run(ra), rb, facts_for_run(rb))
    assert not diff.compared and diff.changes == ()
