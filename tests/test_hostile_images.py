"""Issue 14, items 8 and 16: an image declaring a huge size is reported unreadable (with its
declared size) and the folder goes on; a huge class count is a usage error."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from dashboard.cli import main
from metrics.errors import InputError
from metrics.masks.folder_eval import evaluate_segmentation
from metrics.masks.images import MAX_IMAGE_PIXELS_ENV, image_info, read_array
from metrics.masks.label_audit import audit_labels
from metrics.masks.miou import confusion_matrix
from tests.masks_util import save_mask


def png_header(path: Path, width: int, height: int) -> None:
    """A tiny PNG that declares ``width``×``height`` 8-bit grey pixels (its data is empty)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )  # fmt: skip


def test_a_bomb_beyond_pillows_limit_is_an_input_error(tmp_path: Path) -> None:
    png_header(tmp_path / "bomb.png", 20000, 20000)
    assert (tmp_path / "bomb.png").stat().st_size < 100
    with pytest.raises(InputError, match=r"bomb\.png: declares too many pixels"):
        image_info(tmp_path / "bomb.png")


def test_an_image_over_segwatchs_limit_is_refused_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    png_header(tmp_path / "big.png", 12000, 12000)
    with pytest.raises(InputError, match=r"big\.png: declares 12000×12000 pixels"):
        read_array(tmp_path / "big.png")
    monkeypatch.setenv(MAX_IMAGE_PIXELS_ENV, "100")
    np.save(tmp_path / "a.npy", np.zeros((20, 20), np.uint8))
    with pytest.raises(InputError, match=r"a\.npy: declares 20×20 pixels"):
        read_array(tmp_path / "a.npy")


def test_folder_eval_and_label_audit_report_the_bomb_and_go_on(tmp_path: Path) -> None:
    for d in ("pred", "gt"):
        (tmp_path / d).mkdir()
        save_mask(tmp_path / d / "ok.png", np.ones((4, 4), np.uint8))
    png_header(tmp_path / "pred" / "bomb.png", 20000, 20000)
    png_header(tmp_path / "gt" / "bomb.png", 12000, 12000)
    res = evaluate_segmentation(tmp_path / "pred", tmp_path / "gt", 3, None, workers=1)
    assert res.images == 1
    (problem,) = res.problems
    assert problem.code == "unreadable" and "declares" in problem.message
    audit = audit_labels(tmp_path / "gt", 3, None, workers=1)
    (flag,) = [f for f in audit.to_dict()["flags"] if f["code"] == "unreadable"]
    assert "12000×12000" in flag["message"] and flag["files"] == ["bomb.png"]


def test_huge_class_count_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", str(tmp_path), str(tmp_path), "--num-classes", "100000000"])
    assert exit_info.value.code == 2
    assert "at most 4096 classes" in capsys.readouterr().err
    with pytest.raises(InputError, match="num_classes` <= 4096"):
        confusion_matrix(np.zeros(1, np.uint8), np.zeros(1, np.uint8), 100_000_000)


def test_eval_json_is_strict_when_a_class_is_absent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for d in ("pred", "gt"):
        (tmp_path / d).mkdir()
        save_mask(tmp_path / d / "a.png", np.ones((4, 4), np.uint8))  # class 2 never appears
    main(["eval", str(tmp_path / "pred"), str(tmp_path / "gt"), "--num-classes", "3", "--json"])
    out = capsys.readouterr().out
    doc = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    assert doc and "null" in out  # the absent class's IoU
