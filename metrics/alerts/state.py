"""What the watcher remembers between passes and restarts, in one JSON file written atomically.

Per run: the last condition and status seen, the read error last reported (so an unreadable
run is reported once, not at every pass), and per notification target what it was last told
(``Delivery``). Targets are keyed by a hash of their URL, so tokens in Apprise URLs never
reach the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metrics.alerts.transitions import Delivery
from metrics.errors import AlertStateError

STATE_VERSION = 1


@dataclass(frozen=True)
class RunRecord:
    """What the watcher knows of one run."""

    status: str | None = None
    condition: tuple[str, ...] = ()
    error: str | None = None
    targets: dict[str, Delivery] = field(default_factory=dict)


@dataclass
class AlertState:
    """Every run's record, by run name."""

    runs: dict[str, RunRecord] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "runs": {
                name: {
                    "status": r.status,
                    "condition": list(r.condition),
                    "error": r.error,
                    "targets": {
                        k: {"notified": list(d.notified), "last_sent": d.last_sent}
                        for k, d in r.targets.items()
                    },
                }
                for name, r in self.runs.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Any) -> AlertState:
        """Parse ``to_dict``'s output; raises ValueError, TypeError or KeyError if malformed."""
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            raise ValueError(f"not a version {STATE_VERSION} state")
        runs = {}
        for name, r in data["runs"].items():
            targets = {
                str(k): Delivery(
                    tuple(str(i) for i in d["notified"]),
                    None if d["last_sent"] is None else float(d["last_sent"]),
                )
                for k, d in r["targets"].items()
            }
            runs[str(name)] = RunRecord(
                None if r["status"] is None else str(r["status"]),
                tuple(str(i) for i in r["condition"]),
                None if r["error"] is None else str(r["error"]),
                targets,
            )
        return cls(runs)


def target_key(url: str) -> str:
    """A stable key for a notification URL that does not reveal it (tokens, passwords)."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def default_state_path(logdir: str) -> Path:
    """``$XDG_CACHE_HOME/segwatch/watch-<hash of LOGDIR>.json`` (``~/.cache`` by default).

    One file per log folder, so watchers of different folders do not share alerts. The XDG
    variable, not ``platformdirs``: one environment variable is all a cache file needs, and
    ``~/.cache`` works on every system segwatch runs on.
    """
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    where = logdir if "://" in logdir else os.path.abspath(logdir)
    digest = hashlib.sha256(where.encode("utf-8")).hexdigest()[:12]
    return Path(base) / "segwatch" / f"watch-{digest}.json"


def load_state(path: str | os.PathLike[str]) -> AlertState:
    """The state saved at ``path``; an empty one when the file does not exist yet."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        return AlertState()
    except OSError as exc:
        raise AlertStateError(f"{p}: cannot read the alert state ({exc.strerror})") from exc
    try:
        return AlertState.from_dict(json.loads(text))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise AlertStateError(
            f"{p}: not a segwatch alert state ({exc}); move it away or delete it to start "
            "afresh (alerts about runs that already need attention are then sent again)"
        ) from exc


def save_state(path: str | os.PathLike[str], state: AlertState) -> None:
    """Write ``state`` atomically: a crash leaves the old file or the new one, never half."""
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=p.name + ".", suffix=".tmp", dir=p.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(state.to_dict(), fh, indent=1, sort_keys=True)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, p)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise AlertStateError(
            f"{p}: cannot write the alert state ({exc.strerror}); pick a writable --state FILE"
        ) from exc
