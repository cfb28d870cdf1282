"""`segwatch check` on a big log holds one table: the diagnosis reads the series it needs."""

from __future__ import annotations

import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from metrics.diagnosis import RunSeries
from metrics.schema import make_table


def test_series_are_pulled_as_a_sorted_groupby_would() -> None:
    rng = np.random.default_rng(0)
    n = 5000
    metrics = rng.choice(["loss", "lr", "miou", "iou/road", "aacc", "ips"], n)
    splits = np.where(np.isin(metrics, ["miou", "iou/road", "aacc"]), "val", "train")
    table = make_table(
        run="r",
        step=rng.integers(0, 300, n),
        split=splits,
        metric=metrics,
        value=rng.normal(size=n),
        wall_time=np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 50, n).astype(float)),
    )
    rs = RunSeries.from_table(table)
    ordered = table.sort_values("step", kind="stable")
    for (split, metric), got in [
        (("val", "miou"), rs.miou), (("train", "loss"), rs.loss), (("train", "lr"), rs.lr),
        (("val", "aacc"), rs.aacc), (("val", "iou/road"), rs.class_iou["road"]),
    ]:  # fmt: skip
        g = ordered[(ordered["split"] == split) & (ordered["metric"] == metric)]
        assert np.array_equal(got.steps, g["step"].to_numpy())
        assert np.array_equal(got.values, g["value"].to_numpy())
    walls = table["wall_time"].to_numpy()
    assert np.array_equal(rs.wall_times, np.unique(walls[np.isfinite(walls)]))
    assert isinstance(table["metric"].dtype, pd.CategoricalDtype)


def test_check_of_a_big_log_peaks_near_its_size(tmp_path: Path) -> None:
    """500,000 PaddleSeg lines (~87 MB): the whole check stays within start-up + 2× the file
    (a second copy of the table, or a sorted one, would add ~1.5× on its own)."""
    log = tmp_path / "big" / "train.log"
    log.parent.mkdir()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from bench_readers import gen_paddleseg

    gen_paddleseg(log, 500_000)
    size_mb = log.stat().st_size / 2**20
    code = textwrap.dedent(
        f"""
        import resource, sys
        from dashboard.cli import main
        import metrics.diagnosis, metrics.runs, scipy.optimize, scipy.signal, scipy.stats
        # start-up (the library and what it imports lazily) is in the base, not in the read
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        main(["check", {str(log.parent)!r}, "--json", "--no-cache", "--workers", "1"])
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(base, peak, file=sys.stderr)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    base, peak = map(float, proc.stderr.strip().splitlines()[-1].split())
    assert peak - base <= 2.0 * size_mb, (peak, base, size_mb)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0
