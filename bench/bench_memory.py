"""Peak memory of reading a 1 GB log in a fresh interpreter: read_log (pieces) vs one whole read.

Generates (once, under bench/_data/, not committed) a PaddleSeg text log of about ``--gb`` GB
with bench_readers' generator, then measures in fresh interpreters the peak RSS of
``read_log`` (the file fed to the parser in 256 MB pieces) and of the former whole-file read
(the file's bytes in memory plus one ``feed``), and the size of the resulting table.

    python bench/bench_memory.py [--gb 1.0] [--format paddleseg|mmseg-json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
sys.path.insert(0, str(HERE))

from bench_readers import gen_mmseg_json, gen_paddleseg  # noqa: E402

BYTES_PER_LINE = {"paddleseg": 183, "mmseg-json": 244}  # measured on the generators' output

CHILD = """
import json, resource, sys, time, warnings
sys.path.insert(0, {repo!r})
warnings.simplefilter("ignore")
from metrics import read_log
from metrics.readers.registry import detect_format, finalize
from metrics.readers.source import open_source
path, mode = {path!r}, {mode!r}
t0 = time.perf_counter()
if mode == "pieces":
    table = read_log(path).table
else:  # the former read_log: every byte in memory, one feed
    fmt = detect_format(path)
    data = open_source(path).read_all()
    parser = fmt.new_parser()
    first, used = parser.feed(data, 0)
    last = parser.finish(data[used:], used)
    table = finalize([first, last], "run")[0]
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"seconds": seconds, "peak_mb": peak, "rows": len(table),
                  "table_mb": table.memory_usage(deep=True).sum() / 2**20}}))
"""


def generate(fmt: str, gb: float) -> Path:
    lines = int(gb * 2**30 / BYTES_PER_LINE[fmt])
    DATA.mkdir(exist_ok=True)
    if fmt == "paddleseg":
        path = DATA / f"memory_paddleseg_{lines}.log"
        gen_paddleseg(path, lines)
    else:
        path = DATA / f"memory_mmseg_{lines}.log.json"
        gen_mmseg_json(path, lines)
    return path


def measure(path: Path, mode: str) -> dict[str, float]:
    code = textwrap.dedent(CHILD.format(repo=str(HERE.parent), path=str(path), mode=mode))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gb", type=float, default=1.0)
    ap.add_argument("--format", choices=sorted(BYTES_PER_LINE), default="paddleseg")
    ap.add_argument("--modes", default="pieces,whole")
    args = ap.parse_args()
    t0 = time.perf_counter()
    path = generate(args.format, args.gb)
    size_mb = path.stat().st_size / 2**20
    print(f"{path.name}: {size_mb:,.0f} MB (generated/checked in {time.perf_counter() - t0:.0f} s)")
    for mode in args.modes.split(","):
        r = measure(path, mode)
        print(
            f"{mode:>6}: peak RSS {r['peak_mb']:,.0f} MB ({r['peak_mb'] / size_mb:.2f}x the file), "
            f"{r['rows']:,} records, table {r['table_mb']:,.0f} MB, {r['seconds']:.1f} s"
        )


if __name__ == "__main__":
    main()
