"""The runs overview as a table: one row per run, runs that need attention first. Pure."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from dashboard.figures.prepare import best_point, metric_series
from metrics.diagnosis import STATUS_ORDER, RunDiagnosis
from metrics.facts import FACT_KEYS, RunFacts
from metrics.schema import MIOU
from metrics.stats.forecast import Forecast

BADGES = {
    "diverging": "🔴 diverging",
    "broken_eval": "🔴 broken eval",
    "overfitting": "🟠 overfitting",
    "stalled": "🟡 stalled",
    "stopped": "🟠 stopped",
    "attention": "🟡 attention",
    "no_eval": "⚪ no eval yet",
    "converged": "🔵 converged",
    "ok": "🟢 ok",
}
TREND_POINTS = 40
#: A run not summarised yet: its row waits after every status.
PENDING_RANK = len(STATUS_ORDER)
PENDING = "⏳ reading…"


@dataclass(frozen=True)
class RowInput:
    """What one overview row is made of."""

    name: str
    table: pd.DataFrame
    planned: int | None
    diagnosis: RunDiagnosis
    forecast: Forecast | None


def overview_row(r: RowInput) -> dict[str, Any]:
    """One run's row: badge, best/latest mIoU, progress, forecast, trend, top finding.

    The age columns change every second, so ``with_age`` adds them after any caching.
    """
    top = r.diagnosis.top
    finding = (top.code, top.message, tuple(top.checks)) if top else None
    part = table_part(r.table, r.planned, r.forecast)
    return make_row(r.name, r.diagnosis.status, part, finding)


def table_part(table: pd.DataFrame, planned: int | None, fc: Forecast | None) -> dict[str, Any]:
    """What a row draws from a run's table, as plain data: kept beside a run's cached summary,
    it makes the row again without the table (``dashboard.summaries``)."""
    steps, values = metric_series(table, MIOU, "val")
    best = best_point(steps, values)
    finite = values[np.isfinite(values)]
    return {
        "best": [int(best[0]), float(best[1])] if best else None,
        "latest": float(finite[-1]) if len(finite) else None,
        "last": int(table["step"].max()) if len(table) else None,
        "planned": planned or None,
        "forecast": _forecast_text(fc),
        "trend": _sparkline(finite),
    }


def make_row(
    name: str,
    status: str | None,
    part: Mapping[str, Any],
    top: tuple[str, str, tuple[str, ...]] | None,
) -> dict[str, Any]:
    """A row from a run's status (None: still being read), its ``table_part`` and its top
    finding (code, message, checks)."""
    best = part.get("best")
    last, planned = part.get("last"), part.get("planned")
    checks = top[2] if top else ()
    return {
        "rank": STATUS_ORDER.index(status) if status else PENDING_RANK,  # worst first
        "status": BADGES.get(status, status) if status else PENDING,
        "run": name,
        "best mIoU": best[1] if best else None,
        "best @ step": best[0] if best else None,
        "latest mIoU": part.get("latest"),
        "step": _progress_text(last, planned),
        "done": (last / planned) if last is not None and planned else None,
        "forecast @ end": part.get("forecast", "—"),
        "trend": list(part.get("trend") or []),
        "updated": "",
        "age_s": math.inf,
        "top finding": f"{top[0]}: {top[1]}" if top else "",
        "first check": checks[0] if checks else "",
        "checks": checks,
    }


def with_age(row: dict[str, Any], age_s: float | None, live: bool) -> dict[str, Any]:
    """The row with its "updated 12 s ago" column (and the age used to sort)."""
    out = dict(row)
    out["updated"] = ("● live · " if live else "") + age_text(age_s)
    out["age_s"] = age_s if age_s is not None else math.inf
    return out


def overview_frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Rows by status (worst first), then by name: an order that does not move while files grow.

    Sorting by last update would reshuffle live runs every refresh, under the reader's mouse.
    """
    frame = pd.DataFrame(list(rows))
    if frame.empty:
        return frame
    frame = frame.sort_values(["rank", "run"], kind="stable").reset_index(drop=True)
    frame["link"] = [run_link(str(n)) for n in frame["run"]]
    return frame


def run_link(name: str, view: str = "run") -> str:
    """The address of a run on a page, relative to the app (``run?run=csv/x``)."""
    return f"{view}?run={quote(name, safe='/')}"


def advice_once(checks: Iterable[Iterable[str]]) -> list[str]:
    """Each suggested check once, in first-seen order (the advice is the same for every run)."""
    return list(dict.fromkeys(c for cs in checks for c in cs))


def filter_frame(frame: pd.DataFrame, text: str = "", statuses: Iterable[str] = ()) -> pd.DataFrame:
    """Runs whose name matches ``text`` and whose status is in ``statuses``.

    ``text`` is a case-insensitive regular expression (TensorBoard's run filter); one that does
    not compile is matched as plain text.
    """
    if frame.empty:
        return frame
    keep = np.ones(len(frame), bool)
    if text:
        keep &= name_matches(frame["run"], text)
    wanted = [BADGES.get(s, s) for s in statuses]
    if wanted:
        keep &= frame["status"].isin(wanted).to_numpy()
    return frame.loc[keep].reset_index(drop=True)


def name_matches(names: pd.Series, text: str) -> np.ndarray:
    """A mask of the names matching ``text`` as a case-insensitive regex (else as plain text)."""
    try:
        pattern = re.compile(text, re.IGNORECASE)
    except re.error:
        pattern = re.compile(re.escape(text), re.IGNORECASE)
    shown = names.astype(str)
    return np.fromiter((pattern.search(n) is not None for n in shown), bool, len(shown))


def _progress_text(last: int | None, planned: int | None) -> str:
    if last is None:
        return "—"
    return f"{last:,} / {planned:,}" if planned else f"{last:,}"


def _forecast_text(fc: Forecast | None) -> str:
    if fc is None or not fc.ok:
        return "—"
    if math.isnan(fc.value_low):
        return f"{fc.value:.4f}"
    return f"{fc.value:.4f} ({fc.value_low:.3f}–{fc.value_high:.3f})"


def _sparkline(values: np.ndarray) -> list[float]:
    if len(values) > TREND_POINTS:
        idx = np.linspace(0, len(values) - 1, TREND_POINTS).astype(int)
        values = values[idx]
    return [float(v) for v in values]


def fact_rows(facts: RunFacts | None) -> list[dict[str, str]]:
    """The run facts as (fact, value) text rows, a dict spread over one row per key.

    Facts the log does not state are left out.
    """
    if facts is None:
        return []
    rows = []
    for key, value in facts.to_dict().items():
        if key in FACT_KEYS and value not in (None, [], {}):
            rows += _fact_rows(key, value)
    return rows


def _fact_rows(key: str, value: object) -> list[dict[str, str]]:
    if isinstance(value, dict):
        return [r for k, v in value.items() for r in _fact_rows(f"{key} · {k}", v)]
    if isinstance(value, list | tuple) and all(not isinstance(v, dict | list) for v in value):
        return [{"fact": key, "value": ", ".join(str(v) for v in value)}]
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return [{"fact": key, "value": text}]


def age_text(seconds: float | None) -> str:
    """'12 s ago', '4 min ago', '3 h ago', '2 d ago' (or 'never')."""
    if seconds is None or not math.isfinite(seconds):
        return "never"
    s = int(seconds)
    if s < 90:
        return f"{s} s ago"
    if s < 90 * 60:
        return f"{s // 60} min ago"
    if s < 36 * 3600:
        return f"{s // 3600} h ago"
    return f"{s // 86400} d ago"
