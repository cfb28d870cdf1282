"""The labels (``truth.json``) and the folder's ``README.md``, from the runs' own values."""

from __future__ import annotations

import json

from .common import Out

STATUS_ORDER = (
    "diverging",
    "broken_eval",
    "overfitting",
    "stalled",
    "stopped",
    "attention",
    "no_eval",
    "converged",
    "ok",
)

FINDINGS = {
    "miou_plateau": "val mIoU has stopped improving: the gain over the last evals is within noise",
    "lr_exhausted": "the learning rate is at (or decayed to) a negligible floor",
    "loss_nonfinite": "the train loss became NaN/inf",
    "loss_explosion": "the train loss grew by orders of magnitude",
    "overfitting": "train loss keeps falling while val mIoU peaked and then dropped beyond noise",
    "dead_class": "a class has IoU 0 at every eval while others learn",
    "majority_class": "aAcc high but mIoU near (majority share)/C: the model predicts one class",
    "uniform_prediction": "evals where every pixel gets the same class",
    "loss_flat_miou_rising": "(info) the train loss is flat but val mIoU keeps rising",
    "miou_collapse": "val mIoU fell below a quarter of its best after a clear peak",
    "converged": "(info) a finished run whose last part added nothing beyond noise",
    "still_improving": "(info) a finished run whose mIoU was still rising at the end",
    "broken_eval": "a class is NaN at every eval and mIoU comes from the rest alone",
    "class_never_evaluated": "a class never occurs in the validation set (NaN at every eval)",
}


def truth_json(out: Out) -> str:
    runs = {name: t.as_json() for name, t in out.runs.items()}
    return json.dumps({"runs": runs}, indent=2, allow_nan=False) + "\n"


README_HEAD = """# Sample logs

Small synthetic training runs, each written **exactly as its framework writes it** (format
strings from the frameworks' source, as documented in `shared/LOG_FORMATS.md`; shapes copied
from real public logs: prefixes, separators, number formats, wrapped numpy arrays, CRLF, bare
`NaN`). One folder per run; the folder name (relative to this folder) is the run name.
They let you try segwatch without logs of your own and give the diagnosis labelled cases.

Everything here, this README included, is written by `generate.py` (standard library + numpy;
the `tensorboard` package for the one event file). Regenerate with

    python sample_logs/generate.py            # rewrites this folder
    python sample_logs/generate.py OUT_DIR    # or writes elsewhere

The output is deterministic byte for byte (fixed seeds and wall times); `tests/test_sample_logs.py`
checks that, and checks every label below against the files.

## Runs

| run | format | status | findings | what it shows |
|---|---|---|---|---|
"""

README_TAIL = """
Metric values are synthetic: each class's IoU follows a class-specific curve (big classes
saturate early, rare ones start at exactly 0) plus shared and per-class noise, and mIoU is
the nanmean of the per-class IoUs **as printed** (rounded first), so the two agree within a file.

## Labels: `truth.json`

`{"runs": {"<run>": {...}}}` with, per run:

* `format`: the framework family; `files`: each metrics file of the run and its segwatch format
  name (`read_log(path, format=...)`); `other_files`: files of the run that are not metrics logs
  to read (Lightning's `hparams.yaml`, and MMEngine's `vis_data/<ts>.json`, an identical twin of
  `vis_data/scalars.json` that must not be read twice).
* `status`: `diverging` > `overfitting` > `stalled` > `ok` (the first that applies), or `no_eval`
  when the run has no validation at all.
* `findings`: what a diagnosis must report; `optional_findings`: also correct, not required.
* `best_miou` (fraction, 6 decimals) and `best_step`: the best eval as the files say it (the
  first one on ties), after restarts are applied; `best_step` is the training iteration the eval
  belongs to (PaddleSeg: the preceding `[TRAIN]` iter; MMSeg: the preceding train iter, not
  `Iter(val) [N]`; Detectron2: segwatch's steps are 1-based, `iteration + 1`, so a periodic eval
  on iteration `k*period-1` is step `k*period`, and the final eval-only line (`"iteration":
  max_iter`) is step `max_iter`, the step of the last train line).
  `last_step`: the largest step of any record; `n_evals`: number of evals after restarts.

Finding codes:

{findings}

How the shapes were checked (in `tests/test_sample_logs.py`, on the values parsed back from the
files): noise sigma = 1.4826 * MAD(second differences of the mIoU series) / sqrt(6); over the last
40% of evals (at least 4), the Theil-Sen gain is within 2 sigma and the Mann-Kendall trend is not
significant for `stalled` runs, and above 3 sigma for every `ok` run with evals (hard negatives
included); `overfitting` runs end more than 4 sigma below a best eval that is not among the last
three.

## Format notes

* **PaddleSeg** (`[TRAIN]`/`[EVAL]` stdout, tab after `[INFO]`): 2.0 prints `key=value`, 2.1+
  `key: value`; 2.4+ adds `Dice:`; 2.5+ prints `Class Precision`/`Class Recall` instead of
  `Class Acc`. Arrays are `str(np.round(a, 4))` under `np.set_printoptions(suppress=True)`,
  wrapped at 75 columns, continuation lines start with a space and have no prefix. PaddleSeg's
  own metrics give IoU 0 (not NaN) for an empty union and take the plain mean, so its arrays hold
  `0.` but never `nan`. Single-GPU runs draw the eval progress bar on stderr with `\\b` and `\\r`;
  multi-GPU runs print one `125/125 - 26s - ...` line.
* **MMSeg 0.x**: `<ts>.log` (percent tables, fractions in `Iter(val) [N]`, N = val images) and
  `<ts>.log.json` (line 1 = run meta with `CLASSES` and the config string; NaN bare).
* **MMSeg 1.x**: `<ts>/<ts>.log` (per-class values only in the table) and
  `<ts>/vis_data/scalars.json` (percent; val records told apart by `mIoU`).
* **Detectron2** `metrics.json`: sorted keys, 0-based `iteration`, train scalars every 20
  iterations, percent `sem_seg/*` keys merged into the line of iteration `k*period-1`, and a final
  eval-only line at `max_iter`.
* **HF** `trainer_state.json`: `json.dumps(indent=2, sort_keys=True)`, train and eval entries are
  separate `log_history` items, `eval_iou_<label>` per class (NaN for absent labels).
* **Lightning** `version_0/metrics.csv`: `csv.DictWriter` (CRLF), alphabetically sorted header
  (Lightning >= 2.2), sparse rows; float32 values.
* **TensorBoard**: scalar `simple_value` events (float32) with MMSeg 0.x `TensorboardLoggerHook`
  tags: `train/loss`, `train/decode.loss_ce`, `train/decode.acc_seg` (percent), `learning_rate`,
  `momentum`, `val/aAcc`, `val/mIoU`, `val/mAcc`, `val/IoU.<class>`, `val/Acc.<class>` (fractions;
  val at the training iteration). `tensorboard`'s `EventFileWriter` stamps its first event with
  the current time and names the file after host and pid, so the generator uses the package's
  `RecordWriter` (same framing and CRCs) with fixed wall times instead.
* **Generic CSV** (`csv/`): a custom loop's wide file, LF, header
  `step,epoch,wall_time,train_loss,lr,val_loss,val_miou,val_iou_<class>...`; mapping by the column
  rules of `metrics/readers/mapping.py`: `step` is the step, `wall_time` seconds since the epoch,
  `train_loss` -> train `loss`, `lr` -> train `lr`, `val_loss` -> val `loss`, `val_miou` -> val
  `miou`, `val_iou_<c>` -> val `iou/<c>`, `epoch` kept as a train metric; empty cell = not logged.
  Values are fractions.
"""


def readme(out: Out) -> str:
    rows = []
    for name, t in out.runs.items():
        data = t.as_json()
        findings = ", ".join(f"`{f}`" for f in t.findings) or "-"
        note = t.note.replace("|", "\\|")
        rows.append(f"| `{name}` | {data['format']} | {t.status} | {findings} | {note} |")
    codes = "\n".join(f"* `{k}`: {v}" for k, v in FINDINGS.items())
    return README_HEAD + "\n".join(rows) + "\n" + README_TAIL.replace("{findings}", codes)
