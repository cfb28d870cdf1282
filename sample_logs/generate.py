"""Write segwatch's bundled sample logs: small synthetic runs, each as its framework writes it.

Run ``python sample_logs/generate.py [OUT_DIR]`` (default: the folder of this script). Output is
byte-for-byte deterministic: fixed seeds, fixed wall times, no host names or pids from this
machine. Standard library + numpy only (plus the ``tensorboard`` package, used only for the
TFRecord framing and the ``Event`` protos of the one TensorBoard run).

Each run is one folder (the folder name is the run name). Formats follow
``shared/LOG_FORMATS.md``; the behaviours each run shows are in ``README.md`` and, as labels for
the diagnosis, in ``truth.json`` (written by this script from the very values it printed).
The runs themselves are written by the ``generator`` package next to this script, one module
per framework; this file only writes its output to disk.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # imported from elsewhere than ``python sample_logs/generate.py``
    sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # no __pycache__ among the sample logs users point segwatch at

from generator import generate  # noqa: E402


def main(argv: Sequence[str]) -> int:
    target = Path(argv[1]) if len(argv) > 1 else HERE
    out = generate()
    for rel, data in out.files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    print(f"wrote {len(out.files)} files for {len(out.runs)} runs under {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
