"""Where log bytes come from: a local path or any fsspec URL (``memory://``, ``s3://``, …)."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Any

import fsspec

from metrics.errors import LogReadError
from metrics.readers.confine import check_inside


@dataclass(frozen=True)
class FileStat:
    """What tells a grown, rewritten or replaced file apart."""

    size: int
    mtime: float
    ident: Any  # inode (local) or another identity the filesystem offers; None if unknown


class Source:
    """Byte access to one log file through fsspec.

    With ``root`` (a real local folder path), every stat and read first checks that the file,
    symlinks followed, is inside it (``metrics.readers.confine``): a file swapped for a symlink
    out of LOGDIR after discovery is refused at the next read.
    """

    def __init__(self, path: str, root: str | None = None) -> None:
        self.path = path
        self.root = root
        fs, inner = fsspec.core.url_to_fs(path)
        self.fs: Any = fs
        self.inner: str = inner
        self.name = os.path.basename(inner.rstrip("/")) or inner

    @property
    def is_local(self) -> bool:
        return "file" in _protocols(self.fs)

    def stat(self) -> FileStat:
        """Size, mtime and identity; ``LogReadError`` if missing or not a regular file."""
        if self.is_local:
            check_inside(self.inner, self.root, self.path)
            try:
                st = os.stat(self.inner)
            except FileNotFoundError:
                raise LogReadError(f"{self.path}: no such file") from None
            except OSError as exc:
                raise LogReadError(f"{self.path}: cannot read ({exc.strerror})") from None
            if not stat.S_ISREG(st.st_mode):
                raise LogReadError(
                    f"{self.path}: not a regular file (a FIFO, device or folder); "
                    "segwatch reads log files only"
                )
            return FileStat(st.st_size, st.st_mtime, (st.st_dev, st.st_ino))
        try:
            # a listing cached by discovery would hide a log that grew since (s3fs, gcsfs …)
            self.fs.invalidate_cache(self.inner)
            info = self.fs.info(self.inner)
        except FileNotFoundError:
            raise LogReadError(f"{self.path}: no such file") from None
        if info.get("type") != "file":
            raise LogReadError(f"{self.path}: not a file")
        mtime = info.get("mtime") or info.get("LastModified") or info.get("created") or 0.0
        if hasattr(mtime, "timestamp"):
            mtime = mtime.timestamp()
        ident = info.get("ino") or info.get("created")
        if hasattr(ident, "timestamp"):
            ident = ident.timestamp()
        return FileStat(int(info.get("size") or 0), float(mtime), ident)

    def read_range(self, start: int, end: int | None = None) -> bytes:
        """Bytes ``[start, end)`` (to the end of the file when ``end`` is None)."""
        size = self.stat().size
        try:
            if self.is_local:
                check_inside(self.inner, self.root, self.path)
                with open(self.inner, "rb") as fh:
                    fh.seek(start)
                    return fh.read() if end is None else fh.read(max(0, end - start))
            if start >= size or (end is not None and end <= start):
                return b""  # past the end: an object store answers 416, not b""
            # one ranged request (object stores: a GET of bytes start..end), no read-ahead
            data: bytes = self.fs.cat_file(self.inner, start=start, end=end)
            return data
        except FileNotFoundError:
            raise LogReadError(f"{self.path}: no such file") from None
        except OSError as exc:
            raise LogReadError(f"{self.path}: cannot read ({exc})") from None

    def read_head(self, n: int) -> bytes:
        return self.read_range(0, n)

    def read_all(self) -> bytes:
        return self.read_range(0)


def _protocols(fs: Any) -> tuple[str, ...]:
    proto = fs.protocol
    return (proto,) if isinstance(proto, str) else tuple(proto)


def open_source(path: str, root: str | None = None) -> Source:
    """A ``Source`` for a local path or an fsspec URL, confined to ``root`` when given."""
    return Source(str(path), root)
