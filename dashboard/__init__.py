"""segwatch's front ends: the ``segwatch`` command and the Streamlit dashboard."""
