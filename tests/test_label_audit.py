"""The label audit on small PNG sets that plant one classic label bug each."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from metrics.errors import InputError, LogReadError
from metrics.masks.label_audit import audit_labels
from metrics.masks.label_tally import FIRST_FILES
from tests.masks_util import blocks, save_mask


def codes(audit) -> list[str]:
    return [f.code for f in audit.flags]


def flag(audit, code: str):
    (found,) = [f for f in audit.flags if f.code == code]
    return found


def test_clean_set_counts_pixels_and_images_exactly(tmp_path: Path) -> None:
    gt = tmp_path / "gt"
    save_mask(gt / "a.png", blocks(4, 8, [0, 1]))  # 16 px of 0, 16 of 1
    save_mask(gt / "b.png", blocks(4, 8, [1, 2]))  # 16 of 1, 16 of 2
    m = blocks(4, 8, [2, 0])
    m[0, 0] = 255  # one ignored pixel (was class 2)
    save_mask(gt / "c.png", m)
    audit = audit_labels(gt, 3)
    assert audit.clean and audit.flags == ()
    assert [c.pixels for c in audit.classes] == [32, 32, 31]
    assert [c.images for c in audit.classes] == [2, 2, 2]
    assert audit.labelled_pixels == 95 and audit.ignored_pixels == 1
    assert audit.classes[0].share == pytest.approx(32 / 95)
    assert audit.files == 3 and audit.modes == {"PNG L": 3}


def test_palette_png_is_read_as_indices_not_colours(tmp_path: Path) -> None:
    gt = tmp_path / "gt"
    save_mask(gt / "a.png", blocks(4, 6, [0, 1, 2]), palette=True)
    assert Image.open(gt / "a.png").mode == "P"
    audit = audit_labels(gt, 3)
    assert audit.clean
    assert [c.pixels for c in audit.classes] == [8, 8, 8]
    assert audit.modes == {"PNG P": 1}


def test_binary_0_255_masks_flagged_with_files_and_fix(tmp_path: Path) -> None:
    gt = tmp_path / "gt"
    for i in range(3):
        save_mask(gt / f"m{i}.png", blocks(4, 8, [0, 255], seed=i))
    audit = audit_labels(gt, 2)
    f = flag(audit, "binary_0_255")
    assert f.files == ("m0.png", "m1.png", "m2.png")
    assert "3 of 3 masks" in f.message and "ignore index" in f.message
    assert "> 127" in f.fix
    # class 1 never appears: the data side of a dead_class finding
    assert "class 1 appears in none" in flag(audit, "absent_class").message
    assert audit.ignored_pixels == 48 and audit.labelled_pixels == 48


def test_binary_flag_names_out_of_range_when_255_is_not_ignored(tmp_path: Path) -> None:
    gt = tmp_path / "gt"
    save_mask(gt / "m.png", blocks(2, 4, [0, 255]))
    audit = audit_labels(gt, 2, ignore_index=None)
    assert codes(audit) == ["binary_0_255", "out_of_range", "absent_class"]
    assert "out of range for --num-classes 2" in flag(audit, "binary_0_255").message
    assert audit.out_of_range_pixels == 4


def test_a_few_background_and_ignore_masks_are_not_binary_masks(tmp_path: Path) -> None:
    gt = tmp_path / "gt"
    save_mask(gt / "neg.png", blocks(2, 4, [0, 255]))
    for i in range(3):
        save_mask(gt / f"pos{i}.png", blocks(2, 4, [0, 1], seed=i))
    assert audit_labels(gt, 2).clean


def test_values_beyond_num_classes_flagged_with_values_and_pixels(tmp_path: Path) -> None:
    gt = tmp_path / "gt"
    save_mask(gt / "ok.png", blocks(2, 4, [0, 1]))
    save_mask(gt / "bad.png", blocks(2, 6, [0, 7, 9]))
    audit = audit_labels(gt, 3, class_names=["bg", "road", "car"])
    f = flag(audit, "out_of_range")
    assert f.files == ("bad.png",)
    assert "[7, 9] on 8 pixels" in f.message and "other than the ignore index 255" in f.message
    assert audit.out_of_range_pixels == 8
    assert "class 2 (car) appears in none" in flag(audit, "absent_class").message


def test_rgb_masks_flagged_not_converted(tmp_path: Path) -> None:
    gt = tmp_path / "gt"
    colour = np.zeros((4, 4, 3), np.uint8)
    colour[:, :2] = (128, 64, 128)  # Cityscapes "road" colour
    save_mask(gt / "color.png", colour)
    save_mask(gt / "ok.png", blocks(4, 4, [0, 1]))
    audit = audit_labels(gt, 2)
    f = flag(audit, "rgb_mask")
    assert f.files == ("color.png",) and "colour-coded" in f.message
    assert audit.labelled_pixels == 16  # only ok.png counted
    assert audit.modes == {"PNG L": 1, "PNG RGB": 1}


def test_grey_mask_saved_as_rgb_is_named_so(tmp_path: Path) -> None:
    gt = tmp_path / "gt"
    m = blocks(4, 4, [0, 1])
    save_mask(gt / "g.png", np.stack([m, m, m], axis=-1))
    assert "channels are equal" in flag(audit_labels(gt, 2), "rgb_mask").message


def test_jpeg_masks_flagged(tmp_path: Path) -> None:
    gt = tmp_path / "gt"
    save_mask(gt / "a.jpg", blocks(16, 16, [0, 1]) * 100, fmt="JPEG")
    save_mask(gt / "b.png", blocks(16, 16, [0, 1]))
    audit = audit_labels(gt, 2)
    f = flag(audit, "jpeg_mask")
    assert f.files == ("a.jpg",) and "1 of 2 masks are JPEG" in f.message
    assert "out_of_range" in codes(audit)  # 100 and the stray border values


def test_label_sizes_compared_with_their_images(tmp_path: Path) -> None:
    gt, img = tmp_path / "gt", tmp_path / "img"
    save_mask(gt / "a.png", blocks(4, 8, [0, 1]))
    save_mask(gt / "b.png", blocks(2, 4, [0, 1]))
    img.mkdir()
    for name in ("a", "b", "c"):
        Image.new("RGB", (8, 4)).save(img / f"{name}.jpg")
    audit = audit_labels(gt, 2, images_dir=img)
    f = flag(audit, "size_mismatch")
    assert f.files == ("b.png",)
    assert "b.png: label 4×2, image 8×4" in f.message
    u = flag(audit, "unpaired")
    assert u.files == ("c.jpg",) and "0 masks have no image and 1 images" in u.message


def test_rare_and_dominant_classes_relative_to_labelled_pixels(tmp_path: Path) -> None:
    gt = tmp_path / "gt"
    m = np.zeros((100, 100), np.uint8)
    m[:3, :100] = 1  # 300 px = 3%
    m[50, :5] = 2  # 5 px = 0.05% < 0.1%
    m[60:, :] = np.where(m[60:, :] == 0, 255, m[60:, :])  # 4000 ignored px don't count
    save_mask(gt / "a.png", m)
    audit = audit_labels(gt, 3)
    assert audit.labelled_pixels == 6000
    rare = flag(audit, "rare_class")
    assert "class 2 0.083% in 1 images" in rare.message and rare.files == ("a.png",)
    assert audit.classes[0].pixels == 5695  # 94.9% of the labelled pixels: not dominant
    assert codes(audit) == ["rare_class"]


def test_dominant_class_over_95_percent(tmp_path: Path) -> None:
    gt = tmp_path / "gt"
    m = np.zeros((100, 100), np.uint8)
    m[:4] = 1  # 4% of labelled pixels: class 0 holds 96%
    save_mask(gt / "a.png", m)
    audit = audit_labels(gt, 2, class_names=["background", "crack"])
    assert codes(audit) == ["dominant_class"]
    assert "class 0 (background) covers 96.0%" in flag(audit, "dominant_class").message
    # and with a laxer threshold nothing is raised
    assert audit_labels(gt, 2, dominant_share=0.97).clean


def test_ignore_index_inside_the_class_range_is_not_a_class(tmp_path: Path) -> None:
    gt = tmp_path / "gt"
    save_mask(gt / "a.png", blocks(2, 6, [0, 1, 2]))
    audit = audit_labels(gt, 3, ignore_index=0)
    assert audit.ignored_pixels == 4 and audit.classes[0].pixels == 0
    assert "absent_class" not in codes(audit)


def test_16bit_bilevel_and_npy_masks_are_counted(tmp_path: Path) -> None:
    gt = tmp_path / "gt"
    save_mask(gt / "wide.png", blocks(2, 4, [300, 300]))
    save_mask(gt / "bits.png", blocks(2, 4, [0, 1]).astype(bool))
    np.save(gt / "arr.npy", blocks(2, 4, [2, 1]).astype(np.int64))
    audit = audit_labels(gt, 301, ignore_index=None)
    px = {c.id: c.pixels for c in audit.classes if c.pixels}
    assert px == {0: 4, 1: 8, 2: 4, 300: 8}
    assert audit.modes == {"NPY int64": 1, "PNG 1": 1, "PNG I;16": 1}


def test_unreadable_file_flagged_not_fatal(tmp_path: Path) -> None:
    gt = tmp_path / "gt"
    save_mask(gt / "ok.png", blocks(2, 4, [0, 1]))
    (gt / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    f = flag(audit_labels(gt, 2), "unreadable")
    assert f.files == ("broken.png",) and "1 label files could not be read" in f.message


def test_duplicate_names_flagged(tmp_path: Path) -> None:
    gt = tmp_path / "gt"
    save_mask(gt / "a.png", blocks(2, 4, [0, 1]))
    save_mask(gt / "a.bmp", blocks(2, 4, [0, 1]))
    audit = audit_labels(gt, 2)
    assert flag(audit, "duplicate_name").files == ("a",)
    assert audit.files == 1  # a.bmp sorts first and is the one used


def test_flags_keep_only_the_first_files(tmp_path: Path) -> None:
    gt = tmp_path / "gt"
    for i in range(FIRST_FILES + 3):
        save_mask(gt / f"m{i:02d}.png", blocks(2, 4, [0, 9]))
    f = flag(audit_labels(gt, 2), "out_of_range")
    assert len(f.files) == FIRST_FILES and f.files[0] == "m00.png"
    assert f"{FIRST_FILES + 3} of {FIRST_FILES + 3} masks" in f.message


def test_counts_match_a_slow_np_unique_reference(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    gt = tmp_path / "gt"
    ref = np.zeros(256, np.int64)
    images = np.zeros(256, np.int64)
    for i in range(12):
        m = rng.choice(
            np.array([0, 1, 2, 3, 255], np.uint8), size=(9, 13), p=[0.5, 0.2, 0.2, 0.05, 0.05]
        )
        save_mask(gt / "sub" / f"{i}.png", m, palette=bool(i % 2))
        vals, cnt = np.unique(m, return_counts=True)
        ref[vals] += cnt
        images[vals] += 1
    for workers in (1, 3):
        audit = audit_labels(gt, 4, workers=workers)
        assert [c.pixels for c in audit.classes] == ref[:4].tolist()
        assert [c.images for c in audit.classes] == images[:4].tolist()
        assert audit.ignored_pixels == ref[255]


masks = st.lists(
    arrays(
        np.uint8,
        st.tuples(st.integers(1, 5), st.integers(1, 5)),
        elements=st.sampled_from([0, 1, 2, 4, 255]),
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=25, deadline=None)
@given(masks, st.integers(1, 4), st.sampled_from([255, None, 1]))
def test_totals_match_the_reference_for_any_masks(ms, k, ignore) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for i, m in enumerate(ms):
            save_mask(Path(tmp) / f"{i}.png", m, palette=i == 1)
        audit = audit_labels(tmp, k, ignore, workers=2)
    flat = np.concatenate([m.ravel() for m in ms]).astype(np.int64)
    ignored = flat == ignore if ignore is not None else np.zeros(flat.shape, bool)
    counted = flat[~ignored & (flat < k)]
    assert [c.pixels for c in audit.classes] == np.bincount(counted, minlength=k)[:k].tolist()
    assert [c.images for c in audit.classes] == [
        sum(bool(np.any((m == c) & (c != ignore))) for m in ms) for c in range(k)
    ]
    assert audit.ignored_pixels == int(ignored.sum())
    assert audit.out_of_range_pixels == int((~ignored & (flat >= k)).sum())
    assert ("out_of_range" in codes(audit)) == bool(audit.out_of_range_pixels)


def test_usage_errors_raise_metrics_errors(tmp_path: Path) -> None:
    with pytest.raises(LogReadError, match="no such folder"):
        audit_labels(tmp_path / "missing", 2)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    with pytest.raises(InputError, match="no image files"):
        audit_labels(tmp_path / "empty", 2)
    with pytest.raises(InputError, match="num_classes"):
        audit_labels(tmp_path, 0)
    save_mask(tmp_path / "gt" / "a.png", blocks(2, 2, [0, 1]))
    with pytest.raises(InputError, match="expected 2 class names, got 1"):
        audit_labels(tmp_path / "gt", 2, class_names=["bg"])


def test_to_dict_is_json_ready(tmp_path: Path) -> None:
    gt = tmp_path / "gt"
    save_mask(gt / "a.png", blocks(2, 4, [0, 9]))
    d = audit_labels(gt, 2).to_dict()
    assert d["flags"][0] == {
        "code": "out_of_range",
        "message": d["flags"][0]["message"],
        "files": ["a.png"],
        "fix": d["flags"][0]["fix"],
    }
    assert [c["pixels"] for c in d["classes"]] == [4, 0]
