"""The bundled sample logs: reproducible by their generator, and their labels true to the files.

Each format is read back here with a few lines of its own (regexes, ``json``, ``csv``, the
``tensorboard`` loader), independently of segwatch's readers, so the labels in ``truth.json``
(best mIoU, its step, the last step, the statistical shape of each behaviour) are checked
against what the files actually say.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

SAMPLE_LOGS = Path(__file__).resolve().parent.parent / "sample_logs"
GENERATOR = SAMPLE_LOGS / "generate.py"
MAX_FILE = 300 * 1024
MAX_TOTAL = 3 * 1024 * 1024


# ------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generator's output, written by running the script into a temp folder."""
    out = tmp_path_factory.mktemp("sample_logs")
    subprocess.run([sys.executable, str(GENERATOR), str(out)], check=True, capture_output=True)
    return out


@pytest.fixture(scope="module")
def truth() -> dict[str, dict]:
    return json.loads((SAMPLE_LOGS / "truth.json").read_text())["runs"]


def files_under(root: Path) -> dict[str, Path]:
    return {
        p.relative_to(root).as_posix(): p
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and p.name != "generate.py"
        and "__pycache__" not in p.parts
        and p.relative_to(root).parts[0] != "generator"  # the generator package's sources
    }


# ------------------------------------------------------------------------------------------
# the generator


def test_generator_reproduces_committed_files_byte_for_byte(regenerated: Path) -> None:
    committed = files_under(SAMPLE_LOGS)
    fresh = files_under(regenerated)
    assert sorted(fresh) == sorted(committed)
    differing = [rel for rel, p in fresh.items() if p.read_bytes() != committed[rel].read_bytes()]
    assert differing == []


def test_every_listed_file_exists_and_every_log_is_listed(truth: dict[str, dict]) -> None:
    listed: set[str] = set()
    for run, t in truth.items():
        for rel in [*t["files"], *t["other_files"]]:
            assert rel.startswith(run + "/"), (run, rel)
            assert (SAMPLE_LOGS / rel).is_file(), rel
            listed.add(rel)
        assert t["files"], run
    on_disk = set(files_under(SAMPLE_LOGS)) - {"truth.json", "README.md"}
    assert on_disk == listed


def test_sizes_stay_small() -> None:
    sizes = {rel: p.stat().st_size for rel, p in files_under(SAMPLE_LOGS).items()}
    assert max(sizes.values()) <= MAX_FILE, max(sizes, key=sizes.__getitem__)
    assert sum(sizes.values()) <= MAX_TOTAL


def test_readme_lists_every_run(truth: dict[str, dict]) -> None:
    readme = (SAMPLE_LOGS / "README.md").read_text()
    for run, t in truth.items():
        assert f"| `{run}` | {t['format']} | {t['status']} |" in readme


# ------------------------------------------------------------------------------------------
# independent mini-readers: evals as (step, mIoU fraction, {class: IoU fraction})


@dataclass
class Parsed:
    """What a run's files say, after restarts: train records and evals by step."""

    train: dict[int, float] = field(default_factory=dict)  # step -> loss
    evals: dict[int, tuple[float, dict[str, float]]] = field(default_factory=dict)

    def restart(self, step: int) -> None:
        """A relaunch at ``step`` voids the earlier records at or after it."""
        self.train = {s: v for s, v in self.train.items() if s < step}
        self.evals = {s: v for s, v in self.evals.items() if s < step}

    def add_train(self, step: int, loss: float) -> None:
        if self.train and step <= max(self.train):
            self.restart(step)
        self.train[step] = loss

    @property
    def last_step(self) -> int:
        return max([*self.train, *self.evals])


def num(text: str) -> float:
    return float(text)  # float() reads "nan" and "NaN"


PADDLE_TRAIN = re.compile(r"\[TRAIN\] epoch[:=] ?\d+, iter[:=] ?(\d+)/\d+, loss[:=] ?(\S+?),")
PADDLE_EVAL = re.compile(r"\[EVAL\] #Images[:=] ?\d+ mIoU[:=] ?(\S+) ")
PADDLE_IOU = re.compile(r"\[EVAL\] Class IoU: \n(\[[^\]]*\])")


def read_paddleseg(path: Path, classes: list[str] | None = None) -> Parsed:
    text = path.read_text()
    out = Parsed()
    events = [(m.start(), "t", m) for m in PADDLE_TRAIN.finditer(text)]
    events += [(m.start(), "e", m) for m in PADDLE_EVAL.finditer(text)]
    arrays = iter(m.group(1) for m in PADDLE_IOU.finditer(text))
    step = 0
    for _, kind, m in sorted(events, key=lambda e: e[0]):
        if kind == "t":
            step = int(m.group(1))
            out.add_train(step, num(m.group(2)))
        else:
            ious = [float(v) for v in next(arrays).strip("[]").split()]
            out.evals[step] = (num(m.group(1)), {str(i): v for i, v in enumerate(ious)})
    return out


def read_mmseg0(paths: list[Path]) -> Parsed:
    out = Parsed()
    json_path = next(p for p in paths if p.name.endswith(".log.json"))
    lines = json_path.read_text().splitlines()
    classes = json.loads(lines[0])["CLASSES"]
    step = 0
    for line in lines[1:]:
        rec = json.loads(line)
        if rec["mode"] == "train":
            step = rec["iter"]
            out.add_train(step, rec["loss"])
        else:
            out.evals[step] = (rec["mIoU"], {c: rec[f"IoU.{c}"] for c in classes})
    text = next(p for p in paths if p.name.endswith(".log")).read_text()
    vals = re.findall(r"Iter\(val\) \[\d+\]\taAcc: \S+, mIoU: (\S+),", text)
    assert [float(v) for v in vals] == pytest.approx([e[0] for e in out.evals.values()], abs=5e-5)
    return out


MM1_TRAIN = re.compile(r"Iter\(train\) \[ *(\d+)/\d+\]  lr: \S+  eta: .+?  loss: (\S+)  ")
MM1_VAL = re.compile(r"Iter\(val\) \[(\d+)/\1\]    aAcc: \S+  mIoU: (\S+)  ")
MM1_ROW = re.compile(r"^\| +(.+?) +\| +(\S+) +\| +(\S+) +\|$", re.MULTILINE)


def read_mmseg1(paths: list[Path]) -> Parsed:
    out = Parsed()
    for log in sorted(p for p in paths if p.suffix == ".log"):  # timestamped runs in order
        text = log.read_text()
        step, first = 0, True
        pos = 0
        while True:
            t = MM1_TRAIN.search(text, pos)
            v = MM1_VAL.search(text, pos)
            if t is None and v is None:
                break
            if v is None or (t is not None and t.start() < v.start()):
                step = int(t.group(1))
                if first:  # a resumed run supersedes the earlier runs from its first step
                    out.restart(step)
                    first = False
                out.add_train(step, float(t.group(2)))
                pos = t.end()
            else:
                table = text[text.rfind("per class results:", 0, v.start()) : v.start()]
                cells = [m.groups() for m in MM1_ROW.finditer(table)]
                rows = {c: float(iou) / 100 for c, iou, _ in cells if c != "Class"}
                out.evals[step] = (float(v.group(2)) / 100, rows)
                pos = v.end()
    for scalars in (p for p in paths if p.name == "scalars.json"):
        vals = [json.loads(x) for x in scalars.read_text().splitlines()]
        for rec in (r for r in vals if "mIoU" in r):
            assert rec["mIoU"] / 100 == pytest.approx(out.evals[rec["step"]][0], abs=1e-9)
    return out


def read_detectron2(paths: list[Path]) -> Parsed:
    """Steps 1-based (iteration + 1); the final eval-only line keeps ``iteration == max_iter``."""
    out = Parsed()
    for line in paths[0].read_text().splitlines():
        rec = json.loads(line)
        it = rec["iteration"] + ("total_loss" in rec)
        if "total_loss" in rec:
            out.add_train(it, rec["total_loss"])
        if "sem_seg/mIoU" in rec:
            ious = {k[12:]: v / 100 for k, v in rec.items() if k.startswith("sem_seg/IoU-")}
            out.evals[it] = (rec["sem_seg/mIoU"] / 100, ious)
    return out


def read_hf(paths: list[Path]) -> Parsed:
    out = Parsed()
    state = json.loads(paths[0].read_text())
    for entry in state["log_history"]:
        if "loss" in entry:
            out.add_train(entry["step"], entry["loss"])
        if "eval_mean_iou" in entry:
            ious = {k[9:]: v for k, v in entry.items() if k.startswith("eval_iou_")}
            out.evals[entry["step"]] = (entry["eval_mean_iou"], ious)
    return out


def read_lightning(paths: list[Path]) -> Parsed:
    out = Parsed()
    raw = paths[0].read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n")  # CRLF throughout
    rows = list(csv.DictReader(io.StringIO(raw.decode())))
    assert list(rows[0]) == sorted(rows[0])
    for row in rows:
        step = int(row["step"])
        if row["train_loss_step"]:
            out.add_train(step, float(row["train_loss_step"]))
        if row["val_mIoU"]:
            ious = {k[8:]: float(v) for k, v in row.items() if k.startswith("val_iou_")}
            out.evals[step] = (float(row["val_mIoU"]), ious)
    return out


def read_tensorboard(paths: list[Path]) -> Parsed:
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader

    out = Parsed()
    ious: dict[int, dict[str, float]] = {}
    miou: dict[int, float] = {}
    for event in LegacyEventFileLoader(str(paths[0])).Load():
        for v in event.summary.value:
            if v.tag == "train/loss":
                out.add_train(event.step, v.simple_value)
            elif v.tag == "val/mIoU":
                miou[event.step] = v.simple_value
            elif v.tag.startswith("val/IoU."):
                ious.setdefault(event.step, {})[v.tag[8:]] = v.simple_value
    out.evals = {s: (m, ious[s]) for s, m in miou.items()}
    return out


def read_generic_csv(paths: list[Path]) -> Parsed:
    out = Parsed()
    for row in csv.DictReader(io.StringIO(paths[0].read_text())):
        step = int(row["step"])
        out.add_train(step, float(row["train_loss"]))
        if row["val_miou"]:
            ious = {k[8:]: float(v) for k, v in row.items() if k.startswith("val_iou_")}
            out.evals[step] = (float(row["val_miou"]), ious)
    return out


READERS: dict[str, Callable[[list[Path]], Parsed]] = {
    "paddleseg": lambda paths: read_paddleseg(paths[0]),
    "mmseg0x": read_mmseg0,
    "mmseg1x": read_mmseg1,
    "detectron2": read_detectron2,
    "hf": read_hf,
    "lightning": read_lightning,
    "tensorboard": read_tensorboard,
    "generic_csv": read_generic_csv,
}


@pytest.fixture(scope="module")
def parsed(truth: dict[str, dict]) -> dict[str, Parsed]:
    return {
        run: READERS[t["format"]]([SAMPLE_LOGS / f for f in t["files"]]) for run, t in truth.items()
    }


# ------------------------------------------------------------------------------------------
# labels against the files


def test_best_and_last_steps_match_the_files(
    truth: dict[str, dict], parsed: dict[str, Parsed]
) -> None:
    for run, t in truth.items():
        p = parsed[run]
        assert p.last_step == t["last_step"], run
        assert len(p.evals) == t["n_evals"], run
        if not p.evals:
            assert t["status"] == "no_eval" and t["best_miou"] is None, run
            continue
        steps = sorted(p.evals)
        values = [p.evals[s][0] for s in steps]
        best = max(v for v in values if math.isfinite(v))
        assert t["best_miou"] == pytest.approx(best, abs=1e-6), run
        assert t["best_step"] == steps[values.index(best)], run


def test_miou_is_the_nanmean_of_the_printed_class_ious(parsed: dict[str, Parsed]) -> None:
    for run, p in parsed.items():
        for step, (miou, ious) in p.evals.items():
            assert miou == pytest.approx(np.nanmean(list(ious.values())), abs=5.1e-5), (run, step)


def test_dead_and_absent_classes(truth: dict[str, dict], parsed: dict[str, Parsed]) -> None:
    for run, t in truth.items():
        p = parsed[run]
        if not p.evals:
            continue
        classes = next(iter(p.evals.values()))[1]
        always_zero = [c for c in classes if all(e[1][c] == 0 for e in p.evals.values())]
        labelled = {"dead_class", "majority_class"} & set(t["findings"])
        assert bool(always_zero) == bool(labelled), (run, always_zero)
        if "dead_class" in t["findings"]:
            assert len(always_zero) == 1, run


def sigma(v: np.ndarray) -> float:
    """Noise sd from second differences (a smooth trend cancels out)."""
    d2 = np.diff(v, 2)
    return float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / math.sqrt(6))


def theil_sen_gain(v: np.ndarray) -> float:
    n = len(v)
    slopes = [(v[j] - v[i]) / (j - i) for i in range(n) for j in range(i + 1, n)]
    return float(np.median(slopes)) * (n - 1)


def mann_kendall_z(v: np.ndarray) -> float:
    n = len(v)
    s = sum(np.sign(v[j] - v[i]) for i in range(n) for j in range(i + 1, n))
    return float((s - np.sign(s)) / math.sqrt(n * (n - 1) * (2 * n + 5) / 18))


def test_behaviours_are_statistically_what_the_labels_say(
    truth: dict[str, dict], parsed: dict[str, Parsed]
) -> None:
    for run, t in truth.items():
        p = parsed[run]
        if t["status"] in ("no_eval", "diverging"):
            continue
        v = np.array([p.evals[s][0] for s in sorted(p.evals)])
        k = max(4, math.ceil(0.4 * len(v)))
        noise, gain = sigma(v), theil_sen_gain(v[-k:])
        if t["status"] == "stalled":
            assert abs(gain) <= max(2 * noise, 1e-3), run
            assert abs(mann_kendall_z(v[-k:])) < 1.96, run
        elif t["status"] == "ok":
            assert gain > 3 * noise, run
        elif t["status"] == "overfitting":
            best = int(np.argmax(v))
            assert best < len(v) - 3 and v[best] - v[-1] > 4 * noise, run


def test_diverging_runs_have_an_exploding_then_nonfinite_loss(
    truth: dict[str, dict], parsed: dict[str, Parsed]
) -> None:
    for run, t in truth.items():
        losses = np.array([parsed[run].train[s] for s in sorted(parsed[run].train)])
        finite = losses[np.isfinite(losses)]
        has_nan = not np.isfinite(losses).all()
        exploded = finite.max() > 100 * np.median(finite[: len(finite) // 2])
        assert has_nan == ("loss_nonfinite" in t["findings"]), run
        assert exploded == ("loss_explosion" in t["findings"]), run


# ------------------------------------------------------------------------------------------
# format shapes a reader has to survive


def test_paddleseg_shapes() -> None:
    healthy = (SAMPLE_LOGS / "paddleseg/deeplabv3p_cityscapes_healthy/train.log").read_text()
    assert healthy.count("[EVAL] #Images: 500 mIoU: ") == 10
    assert healthy.count("[INFO]\t[TRAIN] epoch: ") == 1000
    assert "\n 0.9" in healthy or "\n 0.8" in healthy  # wrapped numpy array continuation
    assert re.search(r"\[EVAL\] Class IoU: \n\[[^\]]*\b0\. ", healthy)  # zero printed as `0.`
    v20 = (SAMPLE_LOGS / "paddleseg/bisenetv2_opticdisc_v20_noisy/train.log").read_bytes().decode()
    assert v20.count("[EVAL] #Images=76 mIoU=") == 20
    assert "\r" in v20 and "\b" in v20 and "iter=2000/2000, loss=" in v20
    resumed = (SAMPLE_LOGS / "paddleseg/pp_liteseg_cityscapes_resumed/workerlog.0").read_text()
    assert resumed.count("iter: 3010/8000") == 2
    assert resumed.count("Environment Information") == 2
    assert resumed.count("[EVAL] #Images: 500") == 8  # 3 before the crash + 5 after the resume
    diverging = (SAMPLE_LOGS / "paddleseg/fcn_hrnetw18_cityscapes_diverging/train.log").read_text()
    assert "loss: nan, lr:" in diverging


def test_json_shapes() -> None:
    for rel in ("mmseg0x/pspnet_r50_uavid_overfit/20230315_101112.log.json",
                "detectron2/deeplabv3plus_r103_crops_lowlr/metrics.json"):  # fmt: skip
        lines = (SAMPLE_LOGS / rel).read_text().splitlines()
        assert all(isinstance(json.loads(line), dict) for line in lines)
        assert any(": NaN" in line for line in lines), rel
    d2 = (SAMPLE_LOGS / "detectron2/mask2former_r50_cityscapes_deadclass/metrics.json").read_text()
    recs = [json.loads(line) for line in d2.splitlines()]
    assert all(list(r) == sorted(r) for r in recs)
    assert [r["iteration"] for r in recs if "sem_seg/mIoU" in r] == [*range(999, 9000, 1000), 10000]
    assert set(recs[-1]) == {"iteration"} | {k for k in recs[-1] if k.startswith("sem_seg/")}
    hf = (SAMPLE_LOGS / "hf/segformer-b0_sidewalk_flatloss/trainer_state.json").read_text()
    assert hf == json.dumps(json.loads(hf), indent=2, sort_keys=True) + "\n"
    assert '"eval_iou_unlabeled": NaN' in hf


def test_mmseg1x_resume_and_twin_files() -> None:
    run = SAMPLE_LOGS / "mmseg1x/segformer_mit-b0_loveda_resumed"
    stamps = sorted(p.name for p in run.iterdir())
    assert len(stamps) == 2
    for ts in stamps:
        vis = run / ts / "vis_data"
        assert (vis / "scalars.json").read_bytes() == (vis / f"{ts}.json").read_bytes()
    second = (run / stamps[1] / f"{stamps[1]}.log").read_text()
    assert "resumed epoch: 0, iter: 4000" in second
    assert "Iter(train) [4050/8000]" in second
