"""`segwatch check --dask ADDRESS`: the runs' reports made on a Dask cluster (a LocalCluster
of 2 worker processes started here), the same as in process and in discovery order."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.cli import main

distributed = pytest.importorskip("distributed", reason="dask[distributed] is in [test]")


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def test_dask_gives_the_same_reports(
    scheduler: str, sample_logs: Path, tmp_path: Path, capsys
) -> None:
    logdir = tmp_path / "logs"
    shutil.copytree(sample_logs / "paddleseg", logdir / "paddleseg")
    shutil.copytree(sample_logs / "hf", logdir / "hf")
    outs = []
    for extra in (["--dask", scheduler], ["--workers", "1"]):
        code = main(["check", str(logdir), "--json", "--no-cache", *extra])
        outs.append((code, json.loads(capsys.readouterr().out)))
    assert outs[0] == outs[1]
    assert len(outs[0][1]["runs"]) >= 5


def test_unreachable_scheduler_is_a_usage_error(sample_logs: Path, capsys) -> None:
    code = main(["check", str(sample_logs / "hf"), "--no-cache", "--dask", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 2 and "Dask scheduler" in err and "Traceback" not in err
