"""Export advice: the input an exported model must get, from the size and normalisation it was
trained with, and warnings when evaluation fed it something else (PaddleSeg's export lesson)."""

from __future__ import annotations

from typing import Any

from metrics.facts.model import RunFacts

# Transform types that change the size of an evaluation image.
_SIZING = ("Resize", "Scale", "Crop", "MultiScale", "TestTimeAug", "Padding")


def export_advice(facts: RunFacts) -> list[str]:
    """Sentences for the run page: the export input shape, then any train/eval mismatch."""
    out: list[str] = []
    hw = _hw(facts.crop_size, facts.size_order)
    if hw is not None:
        h, w = hw
        hint = (
            f" (tools/export.py --input_shape 1 3 {h} {w})"
            if facts.framework == "paddleseg"
            else ""
        )
        out.append(
            f"Export to ONNX/TensorRT with input shape [1, 3, {h}, {w}] (N, C, H, W), "
            f"the {w}×{h} training input{hint}."
        )
    if facts.normalize is not None:
        n = facts.normalize
        out.append(f"Normalise inputs as in training: mean {n['mean']}, std {n['std']}.")
    eval_hw = _hw(facts.eval_size, facts.size_order)
    if hw is not None and eval_hw is not None and eval_hw != hw:
        out.append(
            f"Warning: evaluation feeds {eval_hw[1]}×{eval_hw[0]} images but training used "
            f"{hw[1]}×{hw[0]}; a model exported with a fixed shape must get the size it will "
            "be run at (export that shape, or a dynamic one)."
        )
    elif hw is not None and eval_hw is None and _whole_images(facts.eval_transforms):
        full = (
            " (2048×1024 for Cityscapes)" if "cityscapes" in (facts.dataset or "").lower() else ""
        )
        out.append(
            f"Warning: evaluation feeds whole images (no resize or crop in its transforms), "
            f"not the {hw[1]}×{hw[0]} training crops; export with the full image size{full} "
            "or a dynamic shape, not the crop size."
        )
    e = facts.eval_normalize
    if e is not None and facts.normalize is not None and e != facts.normalize:
        out.append(
            f"Warning: evaluation normalises with mean {e['mean']}, std {e['std']}, "
            "unlike training; the exported model will see inputs it was not trained on."
        )
    return out


def _hw(size: list[int] | None, order: str) -> tuple[int, int] | None:
    if size is None or len(size) != 2:
        return None
    return (size[1], size[0]) if order == "wh" else (size[0], size[1])


def _whole_images(transforms: list[Any] | None) -> bool:
    if not transforms:
        return False
    kinds = [str(t.get("type", "")) for t in transforms if isinstance(t, dict)]
    return not any(s in k for k in kinds for s in _SIZING)
