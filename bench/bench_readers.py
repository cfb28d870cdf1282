"""Benchmark of the log readers against baselines measured in the same run.

Generates (under bench/_data/, not committed) a PaddleSeg text log and an MMSeg 0.x JSON log of
1,000,000 train lines each plus eval blocks, and a TensorBoard event file of 100k steps × 5 tags.
Each measurement runs in a fresh interpreter (so peak memory is that read's own) and is the
median of ``--repeat`` runs. Prints a table and, with ``--write``, updates bench/RESULTS.md.

    python bench/bench_readers.py [--lines 1000000] [--tb-steps 100000] [--repeat 3] [--write]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
PY = sys.executable


def gen_paddleseg(path: Path, lines: int) -> None:
    """PaddleSeg v2.x stdout: a [TRAIN] line per 10 iters, an eval block every 4000 iters."""
    if path.exists() and path.stat().st_size > 0 and path.name.endswith(f"{lines}.log"):
        return
    total = lines * 10
    with open(path, "w") as fh:
        base = 1638700000
        for k in range(1, lines + 1):
            it = k * 10
            t = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(base + k * 2))
            loss = 2.5 * math.exp(-k / 2e5) + 0.2 + 0.05 * math.sin(k)
            lr = 0.01 * (1 - it / total) ** 0.9
            fh.write(
                f"{t} [INFO]\t[TRAIN] epoch: {it // 3000 + 1}, iter: {it}/{total}, "
                f"loss: {loss:.4f}, lr: {lr:.6f}, batch_cost: 0.1978, reader_cost: 0.00091, "
                f"ips: 20.2202 samples/sec | ETA 06:22:27\n"
            )
            if it % 4000 == 0:
                miou = 0.3 + 0.35 * (1 - math.exp(-it / 3e6))
                fh.write(
                    f"{t} [INFO]\tStart evaluating (total_samples: 500, total_iters: 500)...\n"
                    f"{t} [INFO]\t[EVAL] #Images: 500 mIoU: {miou:.4f} Acc: 0.9300 "
                    f"Kappa: 0.9000 Dice: 0.7000\n"
                    f"{t} [INFO]\t[EVAL] Class IoU: \n"
                    "[0.9271 0.5373 0.8191 0.3474 0.     0.761  0.252  0.0003 0.8191 0.3474\n"
                    " 0.1    0.2    0.3    0.4    0.5    0.6    0.7    0.8    nan   ]\n"
                    f"{t} [INFO]\t[EVAL] The model with the best validation mIoU ({miou:.4f}) "
                    f"was saved at iter {it}.\n"
                )


def gen_mmseg_json(path: Path, lines: int) -> None:
    """MMSeg 0.x JSON log: metadata line, a train record per 50 iters, val every 4000 iters."""
    if path.exists() and path.stat().st_size > 0:
        return
    with open(path, "w") as fh:
        fh.write(json.dumps({"env_info": "sys.platform: linux", "seed": 0, "CLASSES": ["a"]}))
        fh.write("\n")
        for k in range(1, lines + 1):
            it = k * 50
            loss = 2.3 * math.exp(-k / 2e5) + 0.3
            rec = {
                "mode": "train",
                "epoch": it // 1464 + 1,
                "iter": it,
                "lr": round(0.01 * (1 - k / (lines + 1)) ** 0.9, 5),
                "memory": 21690,
                "data_time": 0.01687,
                "decode.loss_ce": round(loss * 0.7, 5),
                "decode.acc_seg": 57.18525,
                "aux.loss_ce": round(loss * 0.3, 5),
                "aux.acc_seg": 55.1,
                "loss": round(loss, 5),
                "time": 1.07203,
            }
            fh.write(json.dumps(rec) + "\n")
            if it % 4000 == 0:
                val = {"mode": "val", "epoch": rec["epoch"], "iter": 1449, "lr": rec["lr"]}
                val.update({"aAcc": 0.93, "mIoU": round(0.5 + 0.2 * k / lines, 4), "mAcc": 0.7})
                val.update({f"IoU.c{i}": 0.5 for i in range(21)})
                fh.write(json.dumps(val) + "\n")


def gen_events(path: Path, steps: int) -> None:
    """A TensorBoard event file: 5 scalar tags at every step, one event per scalar.

    That is how ``torch.utils.tensorboard.SummaryWriter.add_scalar`` (and most trainers on top of
    it) write; the wall times are fixed so the file is the same on every run.
    """
    if path.exists() and path.stat().st_size > 0:
        return
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.record_writer import RecordWriter

    tags = ["train/loss", "train/lr", "train/time", "train/data_time", "val/mIoU"]
    with open(path, "wb") as fh:
        writer = RecordWriter(fh)
        writer.write(
            event_pb2.Event(wall_time=1.6e9, file_version="brain.Event:2").SerializeToString()
        )
        for s in range(1, steps + 1):
            for i, t in enumerate(tags):
                value = summary_pb2.Summary.Value(tag=t, simple_value=1.0 / (s + i))
                ev = event_pb2.Event(
                    wall_time=1.6e9 + s, step=s, summary=summary_pb2.Summary(value=[value])
                )
                writer.write(ev.SerializeToString())
        writer.flush()


def run_child(setup: str, code: str) -> tuple[float, float, float]:
    """Run ``setup`` then ``code`` in a fresh interpreter.

    Returns (seconds of ``code`` alone, wall seconds of the whole process including interpreter
    start and imports, peak RSS in MB).
    """
    wrapper = "\n".join(
        [
            "import resource, sys, time, json",
            setup,
            "t0 = time.perf_counter()",
            code,
            "t1 = time.perf_counter()",
            "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024",
            'print(json.dumps({"t": t1 - t0, "peak": peak}))',
        ]
    )
    start = time.perf_counter()
    out = subprocess.run([PY, "-c", wrapper], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    res = json.loads(out.stdout.strip().splitlines()[-1])
    return res["t"], wall, res["peak"]


def measure(label: str, setup: str, code: str, repeat: int) -> dict[str, float | str]:
    runs = [run_child(textwrap.dedent(setup), textwrap.dedent(code)) for _ in range(repeat)]
    return {
        "what": label,
        "seconds": statistics.median(r[0] for r in runs),
        "spread": f"{min(r[0] for r in runs):.3f}–{max(r[0] for r in runs):.3f}",
        "wall_with_start": statistics.median(r[1] for r in runs),
        "peak_mb": max(r[2] for r in runs),
    }


def poll_after_append(path: Path, fmt_line: str, repeat: int) -> float:
    """Median ms of LogTailer.poll() after 100 lines are appended to the big file."""
    code = f"""
import shutil, time, statistics
from metrics import LogTailer
src = {str(path)!r}
dst = src + '.tail'
shutil.copyfile(src, dst)
tailer = LogTailer(dst)
tailer.poll()
times = []
line = {fmt_line!r}
for r in range({repeat} * 5):
    with open(dst, 'a') as fh:
        fh.writelines(line.format(it=10**9 + r * 1000 + i) for i in range(100))
    a = time.perf_counter(); new = tailer.poll(); times.append(time.perf_counter() - a)
    assert len(new) > 0
import os; os.remove(dst)
print(statistics.median(times) * 1000, file=sys.stderr)
ms = statistics.median(times) * 1000
"""
    wrapper = code + "\nprint(ms)\n"
    out = subprocess.run(
        [PY, "-c", "import sys\n" + wrapper], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--tb-steps", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--write", action="store_true", help="write bench/RESULTS.md")
    args = ap.parse_args()
    DATA.mkdir(exist_ok=True)
    pseg = DATA / f"paddleseg_{args.lines}.log"
    mjson = DATA / f"mmseg0_{args.lines}.log.json"
    events = DATA / f"events.out.tfevents.{args.tb_steps}.add_scalar.bench"
    for gen, path, n in (
        (gen_paddleseg, pseg, args.lines),
        (gen_mmseg_json, mjson, args.lines),
        (gen_events, events, args.tb_steps),
    ):
        t = time.perf_counter()
        gen(path, n)
        print(
            f"data: {path.name} {path.stat().st_size / 1e6:.0f} MB ({time.perf_counter() - t:.0f} s)",
            file=sys.stderr,
        )

    r = args.repeat
    rows = []
    setup = "from metrics import read_log, formats\nformats()"  # imports and reader registry
    read = "t = read_log({p!r}).table\nassert len(t) > 0"
    rows.append(
        measure("PaddleSeg 1M lines: segwatch read_log", setup, read.format(p=str(pseg)), r)
    )
    rows.append(
        measure("PaddleSeg 1M lines: Python byte read", "", f"open({str(pseg)!r}, 'rb').read()", r)
    )
    rows.append(
        measure(
            "PaddleSeg 1M lines: per-line regex loop",
            "import re",
            f"""
pat = re.compile(r"\\[TRAIN\\] epoch: (\\d+), iter: (\\d+)/(\\d+), loss: ([^,]+), lr: ([^,]+)")
out = []
for line in open({str(pseg)!r}, encoding='utf-8'):
    m = pat.search(line)
    if m: out.append((int(m.group(2)), float(m.group(4)), float(m.group(5))))
""",
            r,
        )
    )
    rows.append(
        measure("MMSeg JSON 1M lines: segwatch read_log", setup, read.format(p=str(mjson)), r)
    )
    rows.append(
        measure(
            "MMSeg JSON 1M lines: json.loads per line",
            "import json",
            f"out = [json.loads(l) for l in open({str(mjson)!r}, 'rb')]",
            r,
        )
    )
    rows.append(
        measure("TB events 100k×5: segwatch read_log", setup, read.format(p=str(events)), r)
    )
    rows.append(
        measure(
            "TB events 100k×5: EventAccumulator(size_guidance scalars=0)",
            "from tensorboard.backend.event_processing.event_accumulator import EventAccumulator",
            f"""
acc = EventAccumulator({str(events)!r}, size_guidance={{'scalars': 0}}); acc.Reload()
vals = [acc.Scalars(t) for t in acc.Tags()['scalars']]
""",
            r,
        )
    )
    poll_ms = poll_after_append(
        pseg,
        "2021-12-06 02:08:34 [INFO]\t[TRAIN] epoch: 22, iter: {it}/9999999999, loss: 0.7644, lr: 0.000970, batch_cost: 0.1978, reader_cost: 0.00091, ips: 20.2202 samples/sec | ETA 06:22:27\n",
        r,
    )
    by = {row["what"]: row for row in rows}
    ratios = {
        "PaddleSeg: segwatch vs per-line regex loop": by["PaddleSeg 1M lines: per-line regex loop"][
            "seconds"
        ]
        / by["PaddleSeg 1M lines: segwatch read_log"]["seconds"],
        "PaddleSeg: segwatch vs byte read": by["PaddleSeg 1M lines: segwatch read_log"]["seconds"]
        / by["PaddleSeg 1M lines: Python byte read"]["seconds"],
        "MMSeg JSON: segwatch vs json.loads per line": by[
            "MMSeg JSON 1M lines: json.loads per line"
        ]["seconds"]
        / by["MMSeg JSON 1M lines: segwatch read_log"]["seconds"],
        "TB: segwatch vs EventAccumulator": by[
            "TB events 100k×5: EventAccumulator(size_guidance scalars=0)"
        ]["seconds"]
        / by["TB events 100k×5: segwatch read_log"]["seconds"],
    }
    lines = [
        "| measurement | time of the read (s), median | min–max | process wall time incl. interpreter start and imports (s) | peak memory (MB) |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['what']} | {row['seconds']:.3f} | {row['spread']} | {row['wall_with_start']:.3f} | {row['peak_mb']:.0f} |"
        )
    lines.append(
        f"| `LogTailer.poll()` after 100 lines appended to the 1M-line PaddleSeg log | {poll_ms / 1000:.4f} | | | |"
    )
    lines.append("")
    lines.append("| ratio | value |")
    lines.append("|---|---|")
    for k, v in ratios.items():
        lines.append(f"| {k} | {v:.1f}× |")
    report = "\n".join(lines)
    print(report)
    if args.write:
        res = HERE / "RESULTS.md"
        text = res.read_text() if res.exists() else "# Benchmark results\n"
        marker_a, marker_b = "<!-- readers:start -->", "<!-- readers:end -->"
        block = (
            f"{marker_a}\n## Readers (`python bench/bench_readers.py --write`)\n\n"
            f"Measured {time.strftime('%Y-%m-%d')} on this project's machine ({os.cpu_count()} cores), "
            f"medians of {r} fresh interpreters each.\n\n{report}\n{marker_b}"
        )
        if marker_a in text:
            pre, rest = text.split(marker_a, 1)
            text = pre + block + rest.split(marker_b, 1)[1]
        else:
            text = text.rstrip() + "\n\n" + block + "\n"
        res.write_text(text)


if __name__ == "__main__":
    main()
