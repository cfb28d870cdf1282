"""The Streamlit dashboard (``segwatch serve``): runs overview, one run, its data, compare.

Pages are ``st.navigation`` entries over ``dashboard/views/*.py``; their state (run, smoothing,
filters) lives in the URL, so a link reproduces the view.
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="segwatch", page_icon="📉", layout="wide")
pages = [
    # The default page is served at "/" only (Streamlit routes it by an empty path), so the
    # Runs page has a hidden twin at /overview, the address the README gives.
    st.Page("views/overview.py", title="Runs", icon="📋", url_path="runs", default=True),
    st.Page("views/overview.py", title="Runs", url_path="overview", visibility="hidden"),
    st.Page("views/run.py", title="Run", icon="📈", url_path="run"),
    st.Page("views/data.py", title="Data", icon="🔬", url_path="data"),
    st.Page("views/compare.py", title="Compare", icon="⚖️", url_path="compare"),
]
st.navigation(pages).run()
