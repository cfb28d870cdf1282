"""A writer process racing a LogTailer: nothing lost, nothing duplicated, through relaunches.

The writer appends real PaddleSeg stdout — ``[TRAIN]`` lines, eval blocks with per-class arrays,
and INFO lines with Chinese class names and ``µ`` — in random chunk sizes, split anywhere
(mid-line, and on purpose inside multi-byte UTF-8 characters), at about 5,000 lines/s, while
the tailer polls every 50 ms. Scenarios: plain appends; the file truncated and rewritten by a
relaunch under the same name; the file rotated away by rename and a new one started; the file
deleted while watched (then a new launch starts it again). At the end the tailed table must
equal one full read of the file, and the records each poll returned must add up to that table
exactly once. ``bench/bench_race.py`` runs each scenario for 30 s.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import random
import time
import warnings
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from metrics import LogTailer, read_log
from metrics.schema import concat_tables

POLL_SECONDS = 0.05
RATE = 5000  # lines per second
CLASSES = ["道路", "人行道", "建筑", "墙", "围栏", "杆", "交通灯", "交通标志", "植被", "地形"]


def launch_lines(launch: int, start: float, count: int) -> list[bytes]:
    """``count`` entries of a PaddleSeg run: train lines, INFO lines with UTF-8, eval blocks."""
    out = []
    for k in range(1, count + 1):
        it = k * 10
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(start + k))
        loss = 2.0 * math.exp(-k / 3000) + 0.1 + 0.01 * ((k * 7919) % 13)
        out.append(
            f"{stamp} [INFO]\t[TRAIN] epoch: {it // 500 + 1}, iter: {it}/100000000, "
            f"loss: {loss:.4f}, lr: {0.01 * (1 - it / 1e8) ** 0.9:.6f}, batch_cost: 0.1978, "
            f"reader_cost: 0.00091, ips: 20.2202 samples/sec | ETA 06:22:27\n".encode()
        )
        if k % 10 == 0:
            cls = CLASSES[k % len(CLASSES)]
            out.append(
                f"{stamp} [INFO]\t数据 µ 批次 {k}: 类别 {cls} 像素 {k * 31 % 997}µs\n".encode()
            )
        if k % 200 == 0:
            miou = 0.3 + 0.4 * (1 - math.exp(-k / 5000)) + launch * 1e-4
            arr = " ".join(f"{(miou + i / 100) % 1:.4f}" for i in range(len(CLASSES)))
            out.append(
                f"{stamp} [INFO]\t[EVAL] #Images: 500 mIoU: {miou:.4f} Acc: 0.9300 "
                f"Kappa: 0.9000 Dice: 0.7000\n"
                f"{stamp} [INFO]\t[EVAL] Class IoU: \n[{arr[:40]}\n {arr[40:]}]\n"
                f"{stamp} [INFO]\t[EVAL] The model with the best validation mIoU ({miou:.4f}) "
                f"was saved at iter {it}.\n".encode()
            )
    return out


def _cut(rng: random.Random, data: bytes, pos: int) -> int:
    """Where the next write ends: a random size, often inside a multi-byte character."""
    end = min(len(data), pos + rng.choice((1, 7, 60, 250, 1000, 4000, rng.randrange(1, 9000))))
    if rng.random() < 0.3:
        hi = data.find(b"\xc2\xb5", pos, pos + 4000)  # µ: cut between its two bytes
        if hi < 0:
            hi = next((i for i in range(pos, min(len(data), pos + 4000)) if data[i] >= 0xE0), -1)
        if hi >= 0:
            end = hi + 1
    return max(end, pos + 1)


class _Launch:
    """One launch's bytes and where each entry (a line or an eval block) ends."""

    def __init__(self, launch: int, start: float, count: int) -> None:
        entries = launch_lines(launch, start, count)
        self.data = b"".join(entries)
        self.ends = [0]
        self.train = [b"[TRAIN]" in e for e in entries]
        for e in entries:
            self.ends.append(self.ends[-1] + len(e))

    def lines_before(self, pos: int) -> int:
        return self.data.count(b"\n", 0, pos)

    def after_train_line(self, pos: int) -> int:
        """The first entry end at or after ``pos`` that closes a train line (evals flushed)."""
        i = next(i for i, e in enumerate(self.ends) if e >= pos)
        while i < len(self.train) and not self.train[i - 1]:
            i += 1
        return self.ends[i]


def writer(
    path: str,
    seconds: float,
    scenario: str,
    seed: int,
    shadow: str,
    done: object,
    pending: object,
    caught_up: object,
) -> None:
    """Append lines at ``RATE`` for ``seconds``; at half time do what ``scenario`` says."""
    rng = random.Random(seed)
    count = int(RATE * seconds) + 1000
    run = _Launch(0, 1.64e9, count)
    written = 0  # lines of earlier launches
    pos, switched = 0, False
    fh = open(path, "ab", buffering=0)  # noqa: SIM115 - reopened when the file is switched
    start = time.monotonic()
    while (elapsed := time.monotonic() - start) < seconds:
        if not switched and scenario != "append" and elapsed >= seconds / 2:
            switched = True
            end = run.after_train_line(pos)  # a launch ends on a whole line
            fh.write(run.data[pos:end])
            fh.close()
            Path(shadow).write_bytes(run.data[:end])
            written += run.lines_before(end)
            if scenario == "truncate":
                fh = open(path, "wb", buffering=0)  # noqa: SIM115 - same inode, cut to zero
            elif scenario == "rotate":
                os.rename(path, path + ".1")
                fh = open(path, "wb", buffering=0)  # noqa: SIM115
            elif scenario == "delete":
                # the tailer reads everything, then the file goes away (a handshake, not a
                # sleep: on a loaded machine a poll can take longer than any fixed pause)
                pending.value = end  # type: ignore[attr-defined]
                caught_up.wait(10.0)  # type: ignore[attr-defined]
                os.unlink(path)
                time.sleep(0.4)
                fh = open(path, "wb", buffering=0)  # noqa: SIM115
            run, pos = _Launch(1, 1.7e9, count), 0
        lines = run.lines_before(pos)
        while written + lines < RATE * elapsed and pos < len(run.data):
            end = _cut(rng, run.data, pos)
            fh.write(run.data[pos:end])
            lines += run.data.count(b"\n", pos, end)
            pos = end
        time.sleep(0.002)
    end = run.after_train_line(pos)
    fh.write(run.data[pos:end])
    fh.close()
    done.value = written + run.lines_before(end)  # type: ignore[attr-defined]


@dataclass
class RaceResult:
    """What a race measured."""

    scenario: str
    seconds: float
    lines: int = 0
    records: int = 0
    lost: int = 0
    duplicated: int = 0
    polls: int = 0
    resets: int = 0
    max_poll_ms: float = 0.0
    before_switch_ok: bool = True
    notes: list[str] = field(default_factory=list)


def _keys(table: pd.DataFrame) -> Counter[tuple[object, ...]]:
    cols = [
        table[c].astype(str).tolist() if c in ("split", "metric") else table[c].tolist()
        for c in ("step", "split", "metric", "value", "wall_time")
    ]
    return Counter(zip(*cols, strict=True))


def race(tmp: Path, scenario: str, seconds: float, seed: int = 0) -> RaceResult:
    """Run the writer against a tailer; compare the tailed table with one full read."""
    path = tmp / "workerlog.0"
    shadow = tmp / "before_switch.log"
    path.write_bytes(b"")
    ctx = multiprocessing.get_context("fork")
    done, pending, caught_up = ctx.Value("q", -1), ctx.Value("q", -1), ctx.Event()
    args = (str(path), seconds, scenario, seed, str(shadow), done, pending, caught_up)
    proc = ctx.Process(target=writer, args=args)
    tailer = LogTailer(str(path))
    result = RaceResult(scenario, seconds)
    polled: list[pd.DataFrame] = []
    resets = 0
    checked_missing = False

    def take(final: bool = False) -> None:
        nonlocal resets, polled
        t0 = time.perf_counter()
        new = tailer.poll(final=final)
        result.max_poll_ms = max(result.max_poll_ms, 1000 * (time.perf_counter() - t0))
        result.polls += 1
        if tailer.resets != resets:  # a new file: what was polled before is void
            resets, polled = tailer.resets, []
        polled.append(new)

    proc.start()
    try:
        while proc.is_alive():
            take()
            if 0 <= pending.value <= tailer.offset:
                caught_up.set()
            if tailer.missing and not checked_missing:
                checked_missing = True
                before = read_log(str(shadow), run=tailer.run).table
                result.before_switch_ok = _keys(before) == _keys(tailer.table)
            time.sleep(POLL_SECONDS)
        proc.join()
        take(final=True)  # the switch may be seen only here, on a slow machine
    finally:
        if proc.is_alive():
            proc.kill()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = read_log(str(path), run=tailer.run).table
    want, got = _keys(full), _keys(tailer.table)
    emitted = _keys(concat_tables(polled))
    result.lines = int(done.value)
    result.records = len(full)
    result.lost = sum((want - got).values()) + sum((want - emitted).values())
    result.duplicated = sum((got - want).values()) + sum((emitted - want).values())
    result.resets = tailer.resets
    if scenario == "delete" and not checked_missing:
        result.notes.append("the tailer never saw the file missing")
    return result


@pytest.mark.parametrize("scenario", ["append", "truncate", "rotate", "delete"])
def test_writer_racing_the_tailer(tmp_path: Path, scenario: str) -> None:
    r = race(tmp_path, scenario, seconds=2.5, seed=zlib.crc32(scenario.encode()) % 1000)
    assert r.lines > 5000 and r.records > 0  # a race of thousands of lines
    assert (r.lost, r.duplicated) == (0, 0), r
    assert r.resets == (0 if scenario == "append" else 1), r
    assert r.before_switch_ok and not r.notes, r


def test_the_writer_splits_utf8_characters(tmp_path: Path) -> None:
    """The race is only a race if pieces end inside multi-byte characters."""
    rng = random.Random(1)
    data = b"".join(launch_lines(0, 1.64e9, 2000))
    pos, inside = 0, 0
    while pos < len(data):
        end = _cut(rng, data, pos)
        inside += end < len(data) and (data[end] & 0xC0) == 0x80
        pos = end
    assert inside > 50
