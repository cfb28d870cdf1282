"""Start-up of the `segwatch` command against `import pandas`, measured in the same run.

Every cron or CI call of `segwatch check` pays the interpreter start and the imports before it
reads a byte. Targets: `segwatch --help` ≤ 1.5× and `segwatch check` on one small run ≤ 2.0×
the time of `python -c "import pandas"`. Each command is run ``--repeat`` times in turn (so
machine noise hits all of them alike); medians are compared.

    python bench/bench_startup.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUN = REPO / "sample_logs" / "paddleseg" / "deeplabv3p_cityscapes_healthy"


def commands() -> dict[str, list[str]]:
    segwatch = shutil.which("segwatch") or str(Path(sys.executable).parent / "segwatch")
    return {
        "python -c 'import pandas'": [sys.executable, "-c", "import pandas"],
        "segwatch --help": [segwatch, "--help"],
        "segwatch check (one small run)": [segwatch, "check", str(RUN), "--no-cache"],
    }


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    cmds = commands()
    if subprocess.run([cmds["segwatch check (one small run)"][0], "check", "--help"],
                      capture_output=True, text=True).stdout.find("--no-cache") < 0:  # fmt: skip
        cmds["segwatch check (one small run)"].remove("--no-cache")
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for cmd in cmds.values():
        timed(cmd)  # warm the page cache
    for _ in range(args.repeat):
        for name, cmd in cmds.items():
            times[name].append(timed(cmd))
    base = statistics.median(times["python -c 'import pandas'"])
    print(f"medians of {args.repeat} runs each, interleaved\n")
    targets = {"segwatch --help": 1.5, "segwatch check (one small run)": 2.0}
    for name, ts in times.items():
        med = statistics.median(ts)
        line = f"  {name:<34} {med:6.3f} s  (min {min(ts):.3f}, max {max(ts):.3f})"
        if name in targets:
            ratio = med / base
            verdict = "met" if ratio <= targets[name] else "NOT met"
            line += f"  {ratio:.2f}× pandas (target ≤ {targets[name]}×: {verdict})"
        print(line)


if __name__ == "__main__":
    main()
