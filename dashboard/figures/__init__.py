"""Figure builders and the data behind them: plain functions returning plotly figures or
frames, testable without a browser; the Streamlit pages only wire widgets to them."""
