"""Logs on object storage for real: discovery, `check` and live tailing of
``s3://bucket/work_dirs`` against an S3 API server on loopback (moto's server mode, started
here on a free port, dummy credentials; nothing leaves the machine)."""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.cli import main
from metrics.readers.source import Source
from metrics.runs import LogTailer, discover_runs

moto_server = pytest.importorskip("moto.server", reason="moto[server] is in the [test] extra")
s3fs = pytest.importorskip("s3fs", reason="s3fs is in the [s3] and [test] extras")

RUNS = ("paddleseg", "mmseg1x")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture()
def bucket(endpoint: str, monkeypatch: pytest.MonkeyPatch, sample_logs: Path) -> Iterator[str]:
    """``s3://<bucket>/work_dirs`` holding two folders of the bundled runs."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint,
    }.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    s3fs.S3FileSystem.clear_instance_cache()
    fs = s3fs.S3FileSystem(anon=False)
    name = f"logs-{_free_port()}"
    fs.mkdir(name)
    for run in RUNS:
        fs.put(str(sample_logs / run), f"{name}/work_dirs/{run}", recursive=True)
    yield name
    s3fs.S3FileSystem.clear_instance_cache()


def _local_copy(sample_logs: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "work_dirs"
    for run in RUNS:
        shutil.copytree(sample_logs / run, dest / run)
    return dest


def test_discovery_finds_the_runs_it_finds_on_disk(
    bucket: str, sample_logs: Path, tmp_path: Path
) -> None:
    remote = discover_runs(f"s3://{bucket}/work_dirs")
    local = discover_runs(str(_local_copy(sample_logs, tmp_path)))
    assert [r.name for r in remote] == [r.name for r in local]
    assert all(f.path.startswith(f"s3://{bucket}/work_dirs/") for r in remote for f in r.files)
    assert [[f.format for f in r.files] for r in remote] == [
        [f.format for f in r.files] for r in local
    ]


def test_check_reads_s3_as_it_reads_disk(
    bucket: str, sample_logs: Path, tmp_path: Path, capsys
) -> None:
    url = f"s3://{bucket}/work_dirs"
    cache = str(tmp_path / "cache")
    codes = []
    outs = []
    for args in (
        [url, "--workers", "2", "--cache-dir", cache],
        [url, "--workers", "1", "--cache-dir", cache],  # from the cache: same output
        [str(_local_copy(sample_logs, tmp_path)), "--no-cache", "--workers", "1"],
    ):
        codes.append(main(["check", *args, "--json"]))
        outs.append(json.loads(capsys.readouterr().out)["runs"])
    assert outs[0] == outs[1]
    keep = ("run", "format", "records", "last_step", "best_miou", "best_step", "evals")
    for remote, local in zip(outs[0], outs[2], strict=True):
        assert "error" not in remote
        assert {k: remote[k] for k in keep} == {k: local[k] for k in keep}
        assert [f["code"] for f in remote["findings"]] == [f["code"] for f in local["findings"]]


def test_tailer_follows_a_growing_log_with_range_reads(
    bucket: str, sample_logs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = next((sample_logs / "paddleseg").rglob("*.log"))
    lines = log.read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    url = f"s3://{bucket}/work_dirs/live/train.log"
    fs = s3fs.S3FileSystem(anon=False)
    fs.pipe_file(url, b"".join(lines[:half]))

    starts: list[int] = []
    real = Source.read_range

    def spy(self: Source, start: int, end: int | None = None) -> bytes:
        starts.append(start)
        return real(self, start, end)

    monkeypatch.setattr(Source, "read_range", spy)
    tailer = LogTailer(url)
    first = tailer.poll()
    assert len(first) > 0
    offset = tailer._offset
    assert tailer.poll().empty  # nothing new: nothing read past the offset
    starts.clear()
    fs.pipe_file(url, b"".join(lines))  # the object grows between polls
    second = tailer.poll()
    assert len(second) > 0
    assert starts and min(s for s in starts if s >= offset - 4096) >= offset - 4096
    assert offset in starts  # the new bytes are fetched from the last offset on
    whole = LogTailer(url)
    whole.poll()
    assert len(tailer.table) == len(whole.table)
