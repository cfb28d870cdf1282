"""Long fuzz run of every reader: the oracles of tests/test_fuzz_readers.py on 100,000+ cases.

Each case takes a corpus log (bundled sample_logs/ and ../shared/sample_logs_public/, windowed),
mutates it (one line, random bytes, or only random chunking) and checks: typed errors only,
pieces == one read, values printed in the input (TensorBoard: records a subset of the
original's), other lines' records unchanged. Then every line log's small slice is cut at
EVERY byte offset (records of completed lines kept, none invented). Failing inputs are saved
under bench/_data/fuzz_failures/ for replay.

    python bench/bench_fuzz.py [--cases 100000] [--seed 0] [--workers 1] [--window 10000]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
import traceback
import warnings
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from metrics.errors import MetricsError  # noqa: E402
from metrics.readers.registry import get_format  # noqa: E402
from tests import test_fuzz_readers as fuzz  # noqa: E402
from tests.test_fuzz_readers import (  # noqa: E402
    WINDOW,
    OracleError,
    _small,
    check_prefix,
    corpus,
    fuzz_case,
    line_samples,
    parse_parts,
    records_of,
    truncation_points,
)

FAILURES = HERE / "_data" / "fuzz_failures"


def run_cases(first: int, last: int, seed: int) -> tuple[int, Counter[str], list[str]]:
    """Random mutation cases ``first..last-1``; returns (cases run, per kind, failure messages)."""
    warnings.simplefilter("ignore")
    samples = corpus()
    kinds: Counter[str] = Counter()
    failures: list[str] = []
    for i in range(first, last):
        sample = samples[i % len(samples)]
        case_seed = seed * 10_000_019 + i
        try:
            kinds[fuzz_case(sample, case_seed, max_cuts=4)] += 1
        except OracleError as exc:
            failures.append(f"{sample.name} seed={case_seed}: {exc}")
        except Exception:  # the oracle itself broke: count it, keep going
            failures.append(f"{sample.name} seed={case_seed}: {traceback.format_exc(limit=2)}")
    return last - first, kinds, failures


def run_all_cases(cases: int, seed: int, workers: int) -> tuple[int, Counter[str], list[str]]:
    """``run_cases`` in blocks of 5,000 over ``workers`` processes, with progress."""
    blocks = [(a, min(cases, a + 5000), seed) for a in range(0, cases, 5000)]
    kinds: Counter[str] = Counter()
    failures: list[str] = []
    done = 0
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for n, k, f in pool.imap_unordered(_run_block, blocks):
            done += n
            kinds.update(k)
            failures.extend(f)
            print(f"  {done} cases, {len(failures)} failures", flush=True)
    return done, kinds, failures


def _run_block(block: tuple[int, int, int]) -> tuple[int, Counter[str], list[str]]:
    return run_cases(*block)


def run_truncations(size: int) -> tuple[int, list[str]]:
    """Every byte offset of a ``size``-byte slice (train and val lines) of every line log."""
    count = 0
    failures: list[str] = []
    for sample in line_samples():
        fmt = get_format(sample.fmt)
        data = _small(sample, size)
        try:
            full = records_of(parse_parts(fmt, data))
        except MetricsError:  # a slice without its CSV header: not a log on its own
            continue
        for cut in truncation_points(data, full, stride=1):
            count += 1
            try:
                check_prefix(fmt, data, cut, full)
            except OracleError as exc:
                failures.append(f"{sample.name} cut={cut}: {exc}")
    return count, failures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--slice", type=int, default=1500, help="bytes cut at every offset")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--window", type=int, default=WINDOW, help="bytes around a first val record")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    fuzz.WINDOW = args.window
    t0 = time.perf_counter()
    samples = corpus()
    print(f"corpus: {len(samples)} logs, formats {sorted({s.fmt for s in samples})}")
    cases, kinds, failures = run_all_cases(args.cases, args.seed, args.workers)
    t1 = time.perf_counter()
    cuts, cut_failures = run_truncations(args.slice)
    t2 = time.perf_counter()
    every = failures + cut_failures
    if every:
        FAILURES.mkdir(parents=True, exist_ok=True)
        (FAILURES / f"seed{args.seed}.txt").write_text("\n".join(every) + "\n")
        for line in every[:20]:
            print("FAIL", line[:300])
    print(f"mutation cases: {cases} ({dict(kinds)}), failures: {len(failures)}, {t1 - t0:.0f} s")
    print(f"truncations at every offset: {cuts}, failures: {len(cut_failures)}, {t2 - t1:.0f} s")
    print(f"total: {cases + cuts} cases, {len(every)} failures, {t2 - t0:.0f} s")
    sys.exit(1 if every else 0)


if __name__ == "__main__":
    main()
