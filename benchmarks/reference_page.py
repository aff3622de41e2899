"""The latency reference: an otherwise empty Streamlit page holding one Plotly chart that a
slider redraws. benchmarks/latency.py measures the race page against it in the same run."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

lr = st.slider("learning rate", 0.0, 1.0, 0.5, 0.01, key="lr")
x = np.linspace(0.0, 1.0, 200)
fig = go.Figure(go.Scatter(x=x, y=np.sin(10 * lr * x), mode="lines"))
st.plotly_chart(fig, key="chart")
