"""``facts_for_run``: the config found by each run's file formats, completed by reader meta."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest

from metrics.facts import RunFacts
from metrics.facts.extract import read_text
from metrics.readers.base import LogMeta
from metrics.runs import Run, discover_runs, facts_for_run, load_run


def run_at(path: Path | str) -> Run:
    (source,) = discover_runs(str(path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_run(source)


def test_mmseg0_json_run_has_voc_names(public_logs: Path) -> None:
    f = facts_for_run(run_at(public_logs / "mmseg0x" / "deeplab_voc12_15k.log.json"))
    assert (f.planned_steps, f.batch_size, f.num_classes, f.crop_size) == (15000, 8, 21, [512, 512])
    assert f.class_names is not None and f.class_names[2] == "bicycle" and len(f.class_names) == 21
    assert f.normalize is not None and f.normalize["mean"] == [123.675, 116.28, 103.53]


def test_epoch_based_mmseg1_takes_planned_steps_from_the_reader(public_logs: Path) -> None:
    f = facts_for_run(run_at(public_logs / "mmseg1x" / "pspnet_watermelon_400it.log"))
    assert f.planned_steps == 400  # `Iter(train) [  8/400]`; the config says 50 epochs
    assert f.source is not None and f.source.endswith("pspnet_watermelon_400it.log")


def test_detectron2_log_txt_beside_metrics_json(public_logs: Path, tmp_path: Path) -> None:
    d2 = public_logs / "detectron2"
    shutil.copy(d2 / "mask2former_instance_3runs_appended_metrics.json", tmp_path / "metrics.json")
    shutil.copy(d2 / "mask2former_instance_3runs_appended_log.txt", tmp_path / "log.txt")
    f = facts_for_run(run_at(tmp_path))
    assert f.framework == "detectron2" and f.source == str(tmp_path / "log.txt")
    assert (f.planned_steps, f.batch_size, f.base_lr, f.optimizer) == (4000, 1, 1e-05, "ADAMW")
    assert f.lr_schedule is not None and f.lr_schedule["type"] == "WarmupMultiStepLR"
    assert f.normalize == {"mean": [123.675, 116.28, 103.53], "std": [58.395, 57.12, 57.375]}
    assert f.ignore_index == 255


def test_mmengine_config_py_beside_scalars_json(tmp_path: Path) -> None:
    vis = tmp_path / "run" / "20240101_000000" / "vis_data"
    vis.mkdir(parents=True)
    (vis / "scalars.json").write_text(
        json.dumps({"lr": 0.01, "loss": 1.0, "iter": 10, "step": 10}) + "\n"
        + json.dumps({"aAcc": 90.0, "mIoU": 50.0, "mAcc": 60.0, "step": 10}) + "\n"
    )  # fmt: skip
    (vis / "config.py").write_text(
        "crop_size = (512, 1024)\n"
        "model = dict(type='EncoderDecoder', decode_head=dict(type='PSPHead', num_classes=19,"
        " ignore_index=255))\n"
        "train_dataloader = dict(batch_size=2, dataset=dict(type='CityscapesDataset'))\n"
        "train_cfg = dict(type='IterBasedTrainLoop', max_iters=80000, val_interval=8000)\n"
        "model['test_cfg'] = dict(mode='slide')\n"
    )
    f = facts_for_run(run_at(tmp_path / "run"))
    assert (f.planned_steps, f.batch_size, f.num_classes, f.ignore_index) == (80000, 2, 19, 255)
    assert f.crop_size == [512, 1024] and f.dataset == "CityscapesDataset"
    assert f.as_meta() == {"planned_steps": 80000, "num_classes": 19, "ignore_index": 255}


def test_hf_state_and_model_config(tmp_path: Path) -> None:
    state = {
        "global_step": 20, "max_steps": 400, "train_batch_size": 8,
        "log_history": [
            {"epoch": 0.1, "learning_rate": 6e-05, "loss": 1.2, "step": 20},
            {"epoch": 0.1, "eval_loss": 1.0, "eval_mean_iou": 0.3, "step": 20},
        ],
    }  # fmt: skip
    (tmp_path / "trainer_state.json").write_text(json.dumps(state, indent=2, sort_keys=True))
    model_cfg = {
        "architectures": ["SegformerForSemanticSegmentation"], "model_type": "segformer",
        "id2label": {"1": "road", "0": "unlabeled", "2": "car"}, "semantic_loss_ignore_index": 0,
    }  # fmt: skip
    (tmp_path / "config.json").write_text(json.dumps(model_cfg))
    f = facts_for_run(run_at(tmp_path))
    assert (f.planned_steps, f.batch_size, f.ignore_index) == (400, 8, 0)
    assert f.class_names == ["unlabeled", "road", "car"] and f.num_classes == 3
    assert f.model == "SegformerForSemanticSegmentation"


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        ("paddleseg/deeplabv3p_cityscapes_healthy", (10000, 2, 19, 0.01)),
        ("mmseg0x/pspnet_r50_uavid_overfit", (16000, None, 8, 0.01)),
        ("mmseg1x/segformer_mit-b0_loveda_resumed", (8000, None, 7, 6e-05)),
        ("lightning/unet_r34_camvid_slow/version_0", (None, None, 11, 0.0001)),
        ("tensorboard/fcn_r50_voc_diverging", (None, None, None, None)),
    ],
)
def test_bundled_sample_runs(sample_logs: Path, run: str, expected: tuple[object, ...]) -> None:
    f = facts_for_run(run_at(sample_logs / run))
    assert (f.planned_steps, f.batch_size, f.num_classes, f.base_lr) == expected


def test_resumed_mmseg1_uses_the_latest_launch(sample_logs: Path) -> None:
    f = facts_for_run(run_at(sample_logs / "mmseg1x" / "segformer_mit-b0_loveda_resumed"))
    assert f.source is not None and "20240305_110217" in f.source


def test_to_dict_keys_and_filled_from_meta() -> None:
    f = RunFacts().filled_from(LogMeta(planned_steps=300, class_names=["a", "b"]))
    assert (f.planned_steps, f.num_classes, f.class_names) == (300, 2, ["a", "b"])
    assert list(f.to_dict()) == [
        "planned_steps", "batch_size", "num_classes", "ignore_index", "class_names", "crop_size",
        "normalize", "base_lr", "lr_schedule", "optimizer", "weight_decay", "loss", "model",
        "dataset", "eval_transforms", "source",
    ]  # fmt: skip
    assert RunFacts(planned_steps=5).filled_from(LogMeta(planned_steps=9)).planned_steps == 5


def test_read_text_cuts_at_a_whole_line(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_bytes("é\n".encode() * 10)
    assert read_text(str(path), limit=7) == "é\né\n"  # 7 bytes end inside the third é
    assert read_text(str(tmp_path / "missing")) is None
