"""Plotly figures of the Functions page: arrays from :mod:`engine.functions` in, figures out.

Every figure uses the shared font sizes of :data:`viz.style.FONTS` (ticks 15 px, axis titles
16 px, chart titles 18 px), readable from the back of a classroom,
and fills the width it is given.  No NaN or inf reaches a trace: the callers pass finite
arrays, and the one place where a value can be exactly 0 on a log axis (a product of
derivatives of a dead ReLU) leaves that point out and says so in the legend.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from texts import t
from viz.style import FONTS

__all__ = [
    "PLOTLY_CONFIG",
    "accuracy_loss_figure",
    "activation_figure",
    "derivative_product_figure",
    "dying_relu_figure",
    "linear_stack_figure",
    "loss_figure",
    "perceptron_figure",
    "softmax_figure",
]

INK = "#222222"
BLUE = "#0072B2"
ORANGE = "#E69F00"
RED = "#C00000"
GREEN = "#009E73"
GREY = "#9A9A9A"
SERIES = {"sigmoid": BLUE, "tanh": GREEN, "relu": ORANGE, "leaky_relu": "#CC79A7",
          "linear": GREY, "step": INK}
FONT = dict(size=FONTS.tick, family="Source Sans Pro, Arial, sans-serif", color=INK)
TICK_FONT = dict(size=FONTS.tick, color=INK)
PLOTLY_CONFIG = {"displaylogo": False, "scrollZoom": False,
                 "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"]}
HEIGHT = 380


def _layout(fig: go.Figure, height: int = HEIGHT, legend: bool = False) -> go.Figure:
    fig.update_layout(
        height=height, font=FONT, margin=dict(l=60, r=20, t=50, b=55),
        paper_bgcolor="white", plot_bgcolor="white", showlegend=legend,
        legend=dict(orientation="h", x=0.0, y=1.02, yanchor="bottom",
                    font=dict(size=FONTS.legend)),
        hoverlabel=dict(font_size=FONTS.tick),
    )
    fig.update_xaxes(tickfont=TICK_FONT, gridcolor="#E5E7EB", zerolinecolor="#9CA3AF",
                     title_font=dict(size=FONTS.label))
    fig.update_yaxes(tickfont=TICK_FONT, gridcolor="#E5E7EB", zerolinecolor="#9CA3AF",
                     title_font=dict(size=FONTS.label))
    # marks' labels (a line's value) at the label size; subplot titles (paper-placed) at
    # the title size
    fig.update_annotations(font_size=FONTS.label)
    fig.update_annotations(selector=dict(yref="paper"), font_size=FONTS.title)
    return fig


def activation_figure(z: np.ndarray, f: np.ndarray, df: np.ndarray, *, name: str, key: str,
                      max_derivative: float, point: tuple[float, float, float] | None = None
                      ) -> go.Figure:
    """f(z) and f'(z) side by side; a dashed line at the largest f'; ``point`` (z, f, f')
    marked on both."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=(f"{name}: f(z)", f"{name}: f′(z)"))
    color = SERIES.get(key, BLUE)
    fig.add_trace(go.Scatter(x=z, y=f, mode="lines", line=dict(color=color, width=3.5),
                             name="f(z)", hovertemplate="z = %{x:.3g}<br>f = %{y:.4g}"
                             "<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Scatter(x=z, y=df, mode="lines", line=dict(color=RED, width=3.5),
                             name="f′(z)", hovertemplate="z = %{x:.3g}<br>f′ = %{y:.4g}"
                             "<extra></extra>"), row=1, col=2)
    fig.add_hline(y=max_derivative, line=dict(color=RED, dash="dash", width=1.5), row=1,
                  col=2, annotation_text=t("functions_viz.max_derivative",
                                           value=f"{max_derivative:g}"),
                  annotation_position="top left")
    if point is not None:
        pz, pf, pd = point
        for col, y in ((1, pf), (2, pd)):
            fig.add_trace(go.Scatter(x=[pz], y=[y], mode="markers",
                                     marker=dict(size=13, color=INK, symbol="circle"),
                                     hovertemplate="z = %{x:.4g}<br>%{y:.4g}<extra></extra>"),
                          row=1, col=col)
    fig.update_xaxes(title_text="z")
    top = max(1.0, float(np.max(df)))
    fig.update_yaxes(range=[min(-0.1, float(np.min(df)) - 0.1), top * 1.2], row=1, col=2)
    return _layout(fig)


def derivative_product_figure(n_layers: int, products: dict[str, np.ndarray],
                              names: dict[str, str]) -> go.Figure:
    """f'(z₀)ⁿ against the number of layers n, log scale; exact zeros left out."""
    fig = go.Figure()
    n = np.arange(1, n_layers + 1)
    for key, values in products.items():
        keep = values > 0
        label = names[key] if keep.all() else f"{names[key]} ({t('functions_viz.zero')})"
        fig.add_trace(go.Scatter(
            x=n[keep], y=values[keep], mode="lines+markers", name=label,
            line=dict(color=SERIES.get(key, INK), width=3), marker=dict(size=7),
            hovertemplate="n = %{x}<br>%{y:.3g}<extra>" + names[key] + "</extra>"))
    fig.update_xaxes(title_text=t("functions_viz.layers"))
    fig.update_yaxes(type="log", title_text=t("functions_viz.product"), exponentformat="power")
    return _layout(fig, height=400, legend=True)


def linear_stack_figure(x: np.ndarray, linear: np.ndarray, bent: np.ndarray, *,
                        linear_name: str, bent_name: str) -> go.Figure:
    """The same stack of layers without (left: a straight line) and with (right: bent) an
    activation between them; each panel has its own y scale."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=(linear_name, bent_name))
    fig.add_trace(go.Scatter(x=x, y=linear, mode="lines", line=dict(color=GREY, width=3.5),
                             hovertemplate="x = %{x:.3g}<br>y = %{y:.4g}<extra></extra>"),
                  row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=bent, mode="lines", line=dict(color=BLUE, width=3.5),
                             hovertemplate="x = %{x:.3g}<br>y = %{y:.4g}<extra></extra>"),
                  row=1, col=2)
    fig.update_xaxes(title_text="x")
    fig.update_yaxes(title_text="y", row=1, col=1)
    return _layout(fig, height=340)


def dying_relu_figure(x: np.ndarray, z: np.ndarray, alive: np.ndarray) -> go.Figure:
    """Each sample's pre-activation z = w·x + b: above 0 the gradient passes, at or below 0
    it is stopped."""
    fig = go.Figure()
    for mask, name, color, symbol in ((alive, t("functions_viz.alive"), BLUE, "circle"),
                                      (~alive, t("functions_viz.dead"), RED, "x")):
        fig.add_trace(go.Scatter(x=x[mask], y=z[mask], mode="markers", name=name,
                                 marker=dict(size=14, color=color, symbol=symbol),
                                 hovertemplate="x = %{x:.3g}<br>z = %{y:.3g}<extra></extra>"))
    fig.add_hline(y=0.0, line=dict(color=INK, width=1.5))
    fig.update_xaxes(title_text="x")
    fig.update_yaxes(title_text="z = w·x + b")
    return _layout(fig, height=340, legend=True)


def softmax_figure(z: np.ndarray, p: np.ndarray) -> go.Figure:
    """Scores z and their softmax probabilities, bar for bar."""
    names = [f"z{str(i + 1).translate(str.maketrans('0123456789', '₀₁₂₃₄₅₆₇₈₉'))}"
             for i in range(len(z))]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=(t("functions_viz.scores"),
                                        t("functions_viz.probabilities")))
    fig.add_trace(go.Bar(x=names, y=z, marker_color=GREY, text=[f"{v:.3g}" for v in z],
                         textposition="outside", textfont=dict(size=15),
                         hovertemplate="%{x}: %{y:.4g}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Bar(x=names, y=p, marker_color=BLUE, text=[f"{v:.3f}" for v in p],
                         textposition="outside", textfont=dict(size=15),
                         hovertemplate="%{x}: %{y:.4f}<extra></extra>"), row=1, col=2)
    low, high = min(0.0, float(z.min())), max(0.0, float(z.max()))
    pad = 0.2 * max(high - low, 1e-9)
    fig.update_yaxes(range=[low - (pad if low < 0 else 0), high + pad], row=1, col=1)
    fig.update_yaxes(range=[0, 1.15], row=1, col=2)
    return _layout(fig, height=360)


def loss_figure(yhat: np.ndarray, value: np.ndarray, grad: np.ndarray, *, name: str,
                point: tuple[float, float, float], x_title: str) -> go.Figure:
    """L(ŷ) and ∂L/∂ŷ side by side for one target, the chosen prediction marked."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=(f"{name}: L(ŷ)", f"{name}: ∂L/∂ŷ"))
    fig.add_trace(go.Scatter(x=yhat, y=value, mode="lines", line=dict(color=BLUE, width=3.5),
                             hovertemplate="ŷ = %{x:.3g}<br>L = %{y:.4g}<extra></extra>"),
                  row=1, col=1)
    fig.add_trace(go.Scatter(x=yhat, y=grad, mode="lines", line=dict(color=RED, width=3.5),
                             hovertemplate="ŷ = %{x:.3g}<br>∂L/∂ŷ = %{y:.4g}<extra></extra>"),
                  row=1, col=2)
    px, pv, pg = point
    for col, y in ((1, pv), (2, pg)):
        fig.add_trace(go.Scatter(x=[px], y=[y], mode="markers",
                                 marker=dict(size=14, color=INK),
                                 hovertemplate="ŷ = %{x:.3g}<br>%{y:.4g}<extra></extra>"),
                      row=1, col=col)
    fig.update_xaxes(title_text=x_title)
    return _layout(fig)


def accuracy_loss_figure(b: np.ndarray, loss: np.ndarray, accuracy: np.ndarray) -> go.Figure:
    """Loss (smooth) above accuracy (flat steps) as the bias b sweeps."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12,
                        subplot_titles=(t("functions_viz.loss_title"),
                                        t("functions_viz.accuracy_title")))
    fig.add_trace(go.Scatter(x=b, y=loss, mode="lines", line=dict(color=BLUE, width=3.5),
                             hovertemplate="b = %{x:.3g}<br>L = %{y:.4g}<extra></extra>"),
                  row=1, col=1)
    fig.add_trace(go.Scatter(x=b, y=accuracy, mode="lines", line=dict(color=ORANGE, width=3.5,
                                                                      shape="hv"),
                             hovertemplate="b = %{x:.3g}<br>%{y:.0%}<extra></extra>"),
                  row=2, col=1)
    fig.update_yaxes(tickformat=".0%", range=[-0.05, 1.05], row=2, col=1)
    fig.update_xaxes(title_text="b", row=2, col=1)
    return _layout(fig, height=480)


def perceptron_figure(w1: float, w2: float, b: float, targets, outputs) -> go.Figure:
    """The four inputs of a gate (target 1: blue squares, 0: orange circles; a red ring where
    the perceptron is wrong), the region where it outputs 1 (shaded) and its line
    w₁x₁ + w₂x₂ + b = 0."""
    lo, hi = -0.5, 1.5
    grid = np.linspace(lo, hi, 161)
    g1, g2 = np.meshgrid(grid, grid)
    region = (w1 * g1 + w2 * g2 + b > 0).astype(float)
    fig = go.Figure()
    fig.add_trace(go.Heatmap(x=grid, y=grid, z=region, zmin=0, zmax=1, showscale=False,
                             colorscale=[[0, "#FFF4DD"], [1, "#DCEBF7"]], hoverinfo="skip"))
    if abs(w2) > 1e-12:
        xs = np.array([lo, hi])
        fig.add_trace(go.Scatter(x=xs, y=-(w1 * xs + b) / w2, mode="lines",
                                 line=dict(color=INK, width=3), hoverinfo="skip"))
    elif abs(w1) > 1e-12:
        fig.add_trace(go.Scatter(x=[-b / w1] * 2, y=[lo, hi], mode="lines",
                                 line=dict(color=INK, width=3), hoverinfo="skip"))
    points = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    targets = np.asarray(targets)
    outputs = np.asarray(outputs)
    for value, color, symbol in ((1, BLUE, "square"), (0, ORANGE, "circle")):
        mask = targets == value
        fig.add_trace(go.Scatter(
            x=points[mask, 0], y=points[mask, 1], mode="markers+text",
            text=[f"{value}" for _ in range(int(mask.sum()))], textposition="top right",
            textfont=dict(size=FONTS.label, color=INK),
            marker=dict(size=24, color=color, symbol=symbol, line=dict(color=INK, width=1.5)),
            hovertemplate="x₁ = %{x}, x₂ = %{y}<extra></extra>"))
    wrong = targets != outputs
    if wrong.any():
        fig.add_trace(go.Scatter(x=points[wrong, 0], y=points[wrong, 1], mode="markers",
                                 marker=dict(size=42, color="rgba(0,0,0,0)", symbol="circle",
                                             line=dict(color=RED, width=4)),
                                 hoverinfo="skip"))
    fig.update_xaxes(range=[lo, hi], title_text="x₁", constrain="domain", dtick=0.5)
    fig.update_yaxes(range=[lo, hi], title_text="x₂", scaleanchor="x", scaleratio=1,
                     dtick=0.5)
    return _layout(fig, height=420)
