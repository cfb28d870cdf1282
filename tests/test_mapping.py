"""Column mapping of user-written logs: automatic spellings, user overrides, options."""

from __future__ import annotations

import math

import pytest

from metrics.errors import ColumnMappingError
from metrics.readers.base import RecordBuilder
from metrics.readers.mapping import ColumnMapping, RowEmitter, Target, as_step, auto_target


@pytest.mark.parametrize(
    ("name", "split", "metric"),
    [
        ("train_loss", "train", "loss"),
        ("train_loss_step", "train", "loss"),
        ("train_loss_epoch", "train", "loss_epoch"),
        ("loss", "train", "loss"),
        ("train/loss", "train", "loss"),
        ("loss/train", "train", "loss"),
        ("val_loss", "val", "loss"),
        ("val_loss_step", "val", "loss_step"),
        ("test_loss", "val", "loss"),
        ("val_miou", "val", "miou"),
        ("val_mIoU", "val", "miou"),
        ("val/miou", "val", "miou"),
        ("val_iou", "val", "miou"),
        ("val/iou", "val", "miou"),
        ("val_jaccard", "val", "miou"),
        ("val_jaccard_index", "val", "miou"),
        ("valid_dataset_iou", "val", "miou"),
        ("validation_mean_iou", "val", "miou"),
        ("eval/mean-iou", "val", "miou"),
        ("val_mIoU_epoch", "val", "miou"),
        ("miou_val", "val", "miou"),
        ("mIoU", "val", "miou"),
        ("train_iou", "train", "miou"),
        ("val_iou_road", "val", "iou/road"),
        ("val/iou_road", "val", "iou/road"),
        ("val_iou/road", "val", "iou/road"),
        ("val_iou_traffic light", "val", "iou/traffic light"),
        ("IoU.Sidewalk", "val", "iou/Sidewalk"),
        ("val_acc_road", "val", "acc/road"),
        ("val_accuracy", "val", "aacc"),
        ("train_acc", "train", "aacc"),
        ("val_mean_accuracy", "val", "macc"),
        ("mAcc", "val", "macc"),
        ("lr", "train", "lr"),
        ("lr-AdamW", "train", "lr"),
        ("lr-SGD", "train", "lr"),
        ("learning_rate", "train", "lr"),
        ("epoch", "train", "epoch"),
        # unknown names keep their column name; split from the prefix, else train
        ("lr-AdamW/pg2", "train", "lr-AdamW/pg2"),
        ("train_loss_ce", "train", "train_loss_ce"),
        ("val_dice", "val", "val_dice"),
        ("valid_per_image_iou", "val", "valid_per_image_iou"),
        ("grad_norm", "train", "grad_norm"),
        ("train_step", "train", "train_step"),
    ],
)
def test_auto_target(name: str, split: str, metric: str) -> None:
    assert auto_target(name) == (split, metric)


def test_user_columns_override_and_split_prefix() -> None:
    mapping = ColumnMapping.from_options(
        {"columns": {"score": "miou", "v_road": "val/iou/road", "tl": "train/loss", "junk": None}}
    )
    assert mapping.target("score") == Target("val", "miou")
    assert mapping.target("v_road") == Target("val", "iou/road")
    assert mapping.target("tl") == Target("train", "loss")
    assert mapping.target("junk") is None
    assert mapping.target("val_loss") == Target("val", "loss")  # auto rules still apply


def test_percent_by_column_or_metric_glob() -> None:
    mapping = ColumnMapping.from_options({"percent": ["iou/*", "val_mAcc"]})
    assert mapping.target("val_iou_road") == Target("val", "iou/road", percent=True)
    assert mapping.target("val_mAcc") == Target("val", "macc", percent=True)
    assert mapping.target("val_mIoU") == Target("val", "miou", percent=False)


def test_find_step_default_order_and_user_step() -> None:
    assert ColumnMapping().find_step(["epoch", "iter", "Step", "loss"]) == "Step"
    assert ColumnMapping().find_step(["epoch", "loss"]) is None
    mapping = ColumnMapping.from_options({"step": "batch"})
    assert mapping.find_step(["batch", "step"]) == "batch"
    assert mapping.find_step(["step"]) is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"colums": {}}, "unknown column-mapping option"),
        ({"columns": ["a"]}, "option 'columns'"),
        ({"columns": {"a": 1}}, "option 'columns'"),
        ({"step": 3}, "option 'step'"),
        ({"percent": "miou"}, "option 'percent'"),
        ({"percent": 5}, "option 'percent'"),
    ],
)
def test_malformed_options_raise(options: dict[str, object], message: str) -> None:
    with pytest.raises(ColumnMappingError, match=message):
        ColumnMapping.from_options(options)


@pytest.mark.parametrize(
    ("value", "step"),
    [(12, 12), ("12", 12), (" 7 ", 7), (12.0, 12), ("1e3", 1000), (12.5, None), ("x", None)],
)
def test_as_step(value: object, step: int | None) -> None:
    assert as_step(value) == step


def test_as_step_rejects_nan_and_bool() -> None:
    assert as_step(math.nan) is None
    assert as_step("inf") is None
    assert as_step(True) is None


def test_row_emitter_records_epoch_once_per_step_and_divides_percent() -> None:
    emitter = RowEmitter(ColumnMapping.from_options({"percent": ["miou"]}))
    out = RecordBuilder()
    emitter.emit(out, 0, 50, [("epoch", 0.0), ("train_loss_step", 0.75)])
    emitter.emit(out, 10, 50, [("epoch", 0.0), ("val_mIoU", 41.25)])
    emitter.emit(out, 20, 100, [("epoch", 1.0)])
    frame = out.build().records
    rows = list(
        zip(frame["step"], frame["split"], frame["metric"].astype(str), frame["value"], strict=True)
    )
    assert rows == [
        (50, "train", "epoch", 0.0),
        (50, "train", "loss", 0.75),
        (50, "val", "miou", 0.4125),
        (100, "train", "epoch", 1.0),
    ]
