"""TensorBoard tag names → tidy (split, metric, percent)."""

from __future__ import annotations

import pytest

from metrics.readers.mapping import ColumnMapping, Target
from metrics.readers.tensorboard_tags import TagNamer, folder_split


@pytest.mark.parametrize(
    ("tag", "split", "metric", "percent"),
    [
        ("train/loss", "train", "loss", False),
        ("loss", "train", "loss", False),
        ("total_loss", "train", "loss", False),
        ("Train/loss", "train", "loss", False),
        ("train_loss", "train", "loss", False),
        ("train/loss_step", "train", "loss", False),
        ("train_loss_step", "train", "loss", False),
        ("train_loss_epoch", "train", "loss_epoch", False),
        ("val/loss", "val", "loss", False),
        ("eval/loss", "val", "loss", False),
        ("val_loss", "val", "loss", False),
        ("val/mIoU", "val", "miou", False),
        ("mIoU", "val", "miou", False),
        ("eval/mean_iou", "val", "miou", False),
        ("sem_seg/mIoU", "val", "miou", True),
        ("val_mIoU", "val", "miou", False),
        ("Evaluate/mIoU", "val", "miou", False),
        ("learning_rate", "train", "lr", False),
        ("lr", "train", "lr", False),
        ("train/learning_rate", "train", "lr", False),
        ("train/lr", "train", "lr", False),
        ("lr-AdamW", "train", "lr", False),
        ("val/IoU.road", "val", "iou/road", False),
        ("val/IoU.traffic light", "val", "iou/traffic light", False),
        ("sem_seg/IoU-road", "val", "iou/road", True),
        ("sem_seg/ACC-road", "val", "acc/road", True),
        ("sem_seg/fwIoU", "val", "fwiou", True),
        ("sem_seg/mACC", "val", "macc", True),
        ("eval/iou_flat-road", "val", "iou/flat-road", False),
        ("val/aAcc", "val", "aacc", False),
        ("val/mAcc", "val", "macc", False),
        ("train/decode.acc_seg", "train", "decode.acc_seg", False),
        ("train/decode.loss_ce", "train", "decode.loss_ce", False),
        ("eval/runtime", "val", "runtime", False),
        ("data_time", "train", "data_time", False),
        ("epoch", "train", "epoch", False),
        ("momentum", "train", "momentum", False),
    ],
)
def test_tag_names(tag: str, split: str, metric: str, percent: bool) -> None:
    assert TagNamer().name(tag) == Target(split, metric, percent)


def test_mmseg1_percent_needs_evidence_seen_before() -> None:
    flat = TagNamer()
    assert flat.name("mIoU").percent is False
    flat.name("decode.loss_ce")
    assert flat.name("aAcc") == Target("val", "aacc", True)
    tree = TagNamer()
    tree.name("train/decode.loss_ce")
    assert tree.name("val/mIoU").percent is False  # MMSeg 0.x has the same train keys
    tree.name("train/lr")
    assert tree.name("val/mIoU") == Target("val", "miou", True)
    assert tree.name("val/loss") == Target("val", "loss", False)


def test_user_mapping_wins() -> None:
    mapping = ColumnMapping.from_options({"columns": {"acc": "val/miou", "x": None}})
    namer = TagNamer(mapping)
    assert namer.name("acc") == Target("val", "miou", False)
    assert namer.name("x") is None
    percent = TagNamer(ColumnMapping.from_options({"percent": ["val/mIoU"]}))
    assert percent.name("val/mIoU") == Target("val", "miou", True)


@pytest.mark.parametrize(
    ("folder", "tag", "split", "metric"),
    [
        ("val", "loss", "val", "loss"),  # add_scalars('loss', {'val': …}) → loss/val/: 'loss'
        ("train", "loss", "train", "loss"),
        ("val", "mIoU", "val", "miou"),
        ("validation", "epoch_loss", "val", "loss"),  # Keras validation/ run
        ("validation", "epoch_miou", "val", "miou"),
        ("validation", "evaluation_accuracy_vs_iterations", "val", "aacc_vs_iterations"),
        ("train", "batch_miou", "train", "miou"),  # Keras: per batch is train's preferred
        ("train", "epoch_miou", "train", "miou_epoch"),
        ("train", "epoch_learning_rate", "train", "lr_epoch"),
        ("train", "val/mIoU", "val", "miou"),  # a tag naming its split keeps it
        ("train", "mIoU", "train", "miou"),
        (None, "epoch_miou", "val", "miou"),
        (None, "loss", "train", "loss"),
    ],
)
def test_folder_names_the_split(folder: str | None, tag: str, split: str, metric: str) -> None:
    namer = TagNamer(folder_split=folder_split(folder) if folder else None)
    assert namer.name(tag) == Target(split, metric, False)


def test_folder_split_words() -> None:
    assert folder_split("Validation") == "val" and folder_split("training") == "train"
    assert folder_split("vis_data") is None and folder_split("run_1") is None
