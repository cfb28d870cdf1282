"""One watcher per state file: an exclusive lock held while a ``segwatch watch`` runs.

Two watchers sharing a state file (a cron pass that outlasts its period, or two watches of one
folder) would each send the same alert. The lock is ``flock`` on ``<state>.lock``: the kernel
drops it when the process ends, so a crash never leaves a stale lock. Where ``fcntl`` does not
exist (Windows) there is no lock.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from metrics.errors import AlertStateError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


@contextmanager
def state_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold the lock of the state file at ``path``; ``AlertStateError`` if another holds it."""
    lock = Path(str(path) + ".lock")
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise AlertStateError(
            f"{lock}: cannot create the lock of the alert state ({exc.strerror}); "
            "pick a writable --state FILE"
        ) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise AlertStateError(
                f"{path} is in use by another `segwatch watch` (a pass that outlasts its cron "
                "period, or two watches of one folder); let it finish, or give each its own "
                "--state FILE"
            ) from None
        yield
    finally:
        os.close(fd)  # closing releases the lock
