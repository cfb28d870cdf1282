"""A writer process racing a LogTailer for 30 s per scenario: lines raced, records lost/duplicated.

The writer (tests/test_tail_race.py) appends PaddleSeg stdout with UTF-8 class names in random
chunks split mid-line and mid-character at ~5,000 lines/s; the tailer polls every 50 ms.
Scenarios: append, truncate-and-relaunch, rotation by rename, deletion then a new launch.

    python bench/bench_race.py [--seconds 30] [--scenarios append,truncate,rotate,delete]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_tail_race import race


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--scenarios", default="append,truncate,rotate,delete")
    args = ap.parse_args()
    total_lines = total_records = total_lost = total_dup = 0
    for i, scenario in enumerate(args.scenarios.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            r = race(Path(tmp), scenario, args.seconds, seed=i)
            took = time.perf_counter() - t0
        total_lines += r.lines
        total_records += r.records
        total_lost += r.lost
        total_dup += r.duplicated
        print(
            f"{scenario:>9}: {r.lines:,} lines in {r.seconds:.0f} s "
            f"({r.lines / r.seconds:,.0f}/s), {r.records:,} records in the final file, "
            f"lost {r.lost}, duplicated {r.duplicated}, {r.polls} polls "
            f"(slowest {r.max_poll_ms:.0f} ms), resets {r.resets}, "
            f"before-switch table ok: {r.before_switch_ok} {' '.join(r.notes)} [{took:.0f} s]",
            flush=True,
        )
    print(
        f"total: {total_lines:,} lines raced, {total_records:,} records checked, "
        f"lost {total_lost}, duplicated {total_dup}"
    )
    sys.exit(1 if total_lost or total_dup else 0)


if __name__ == "__main__":
    main()
