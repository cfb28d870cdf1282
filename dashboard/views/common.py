"""What every page shares: the log folder, the runs in it, safe text, badges and error cards.

Log content (run, class and file names, messages quoting a line) never reaches Markdown or
HTML unescaped: ``md()`` backslash-escapes every ASCII punctuation character, so a run named
``[x](javascript:alert(1))`` or ``<img src=x onerror=...>`` shows literally.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from dashboard import cache
from dashboard.figures.overview import BADGES, age_text
from dashboard.server_args import logdir
from metrics.errors import MetricsError
from metrics.runs import RunSource
from metrics.runs.live import RunState

REFRESH_S = 5.0
_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")


def md(text: object) -> str:
    """Text safe inside Markdown: every ASCII punctuation backslash-escaped, newlines kept."""
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\n", "  \n")


def sources() -> list[RunSource] | None:
    """The runs of the log folder, or None (after an error card) when it cannot be listed."""
    folder = logdir()
    try:
        return cache.discover(folder)
    except MetricsError as exc:
        error_card(folder, str(exc))
        return None


def refuse_unknown_run(by_name: Mapping[str, object]) -> None:
    """A run named in the URL that is not one of LOGDIR's runs is refused, and says so.

    Runs are only ever picked from what discovery found under LOGDIR, so ``../../etc``, an
    absolute path or a symlink out of the folder can never be opened; the message tells why.
    """
    asked = st.query_params.get("run")
    if asked and asked not in by_name:
        st.warning(
            f"No run named {md(asked)!s} under this dashboard's log folder; only runs found "
            "inside it can be opened."
        )


def error_card(what: str, message: str) -> None:
    """A run or file that could not be read: named, with the reader's message (escaped)."""
    st.error(f"**Cannot read {md(what)}**  \n{md(message)}", icon="🚫")


def problem_card(state: RunState) -> None:
    """An error card for a run that failed to read, or read nothing but malformed lines."""
    if state.error:
        error_card(state.name, state.error)
    elif state.run is not None and state.run.table.empty and state.run.bad_lines:
        path, b = state.run.bad_lines[0]
        more = len(state.run.bad_lines) - 1
        extra = f" (and {more} more malformed line(s))" if more else ""
        error_card(state.name, f"{path}, line {b.line}: {b.reason}{extra}")


def badge(status: str) -> str:
    return BADGES.get(status, status)


def live_marker(state: RunState, status: str, last: int | None, planned: int | None) -> str:
    """How far the run got, in words: still writing, finished, or stopped at N of M."""
    age = age_text(state.age())
    at = "" if last is None else f" at step {last:,}"
    of = f" of {planned:,}" if planned else ""
    if state.is_live():
        return f"● still writing · step {last or 0:,}{of} · updated {age}"
    if status == "converged" or (last is not None and planned and last >= planned):
        return f"finished{at} · last update {age}"
    if status == "stopped" or planned:
        return f"stopped{at}{of} · last update {age}"
    return f"last update {age}{at} (no planned length in the log to say whether it finished)"


def refresh_seconds() -> float | None:
    """The live refresh period from the sidebar (None when live refresh is off)."""
    on = st.sidebar.toggle("Live refresh", value=True, key="live", bind="query-params")
    return REFRESH_S if on else None


def url_slider(
    where: Any, label: str, key: str, default: float, *, page: str, help: str | None = None
) -> float:
    """A 0–0.99 slider synced with ``key=`` in the URL, in ``where`` (the sidebar, a column).

    Written from here rather than bound (``bind="query-params"`` replaces the history entry),
    so a change is a history entry: Back undoes it. ``page`` keeps each page's record of what
    its URL said apart (the widget key is the same on every page, its state is not).
    """
    raw = st.query_params.get(key)
    try:
        in_url = min(max(float(raw), 0.0), 0.99) if raw is not None else default
    except ValueError:
        in_url = default
    shadow = f"_{key}_in_url_{page}"
    if st.session_state.get(shadow) != in_url or key not in st.session_state:
        st.session_state[key] = in_url  # first visit, a link, Back, another page's slider
    # no value= here: the session state holds it (setting both makes Streamlit warn)
    weight = float(where.slider(label, 0.0, 0.99, step=0.01, key=key, help=help))
    st.session_state[shadow] = weight
    if weight != in_url:
        st.query_params[key] = f"{weight:g}"
    return weight


def show_bad_lines(states: Sequence[RunState]) -> None:
    """Skipped malformed lines, each with its file and line number (text, never Markdown)."""
    bad = [(s.name, path, b) for s in states if s.run for path, b in s.run.bad_lines]
    if not bad:
        return
    with st.expander(f"{len(bad)} malformed line(s) skipped", icon="⚠️"):
        for name, path, b in bad[:200]:
            st.text(f"{name}: {path}:{b.line}: {b.reason}\n    {b.text[:300]}")
