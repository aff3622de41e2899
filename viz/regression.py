"""Figures of batch / mini-batch / stochastic gradient descent on a two-parameter model.

Arrays from :mod:`engine.regression` in, ``go.Figure`` out: the loss over the (w, b) plane
with every method's path (and, optionally, the loss of one mini-batch: why the path
wiggles), the loss against epochs and against updates, and the data with the fitted lines.
Nothing non-finite reaches a trace (the engine's paths are finite; grids are clipped).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from texts import t
from viz.style import apply_fonts

__all__ = ["Method", "contour_figure", "data_figure", "loss_curves_figure", "view_box"]

INK = "#222222"
MIN_COLOR = "#C00000"
BATCH_COLOR = "#7B3294"  # purple: no run has it
MAX_PATH_POINTS = 4000  # points per drawn path (a long SGD path is thinned evenly)


@dataclass(frozen=True)
class Method:
    """One drawn training: its label, colour, dash, and the engine's record (run 0)."""

    name: str
    color: str
    dash: str
    path: np.ndarray        # (U+1, 2)
    full_loss: np.ndarray   # (U+1,)
    per_epoch: int


def _thin(n: int, limit: int = MAX_PATH_POINTS) -> np.ndarray:
    """Indices 0 … n−1, evenly thinned to at most ``limit`` (first and last kept)."""
    if n <= limit:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(int))


def view_box(points: np.ndarray, margin: float = 0.15) -> tuple[tuple[float, float],
                                                                tuple[float, float]]:
    """((wmin, wmax), (bmin, bmax)) holding ``points`` (k, 2) with a margin, at least 1 wide."""
    pts = np.asarray(points, float).reshape(-1, 2)
    low, high = pts.min(axis=0), pts.max(axis=0)
    centre = 0.5 * (low + high)
    half = 0.5 * np.maximum(high - low, 1.0) * (1.0 + 2.0 * margin)
    return (float(centre[0] - half[0]), float(centre[0] + half[0])), \
        (float(centre[1] - half[1]), float(centre[1] + half[1]))


def contour_figure(ws: np.ndarray, bs: np.ndarray, loss_grid: np.ndarray,
                   methods: Sequence[Method], *, minimum: tuple[float, float] | None,
                   positions: Sequence[int] | None = None,
                   batch: tuple[np.ndarray, tuple[float, float], tuple[float, float]] | None = None,
                   present: bool = False, height: int = 560) -> go.Figure:
    """The full-data loss over (w, b) as filled contours (log-spaced), each method's path,
    the exact minimum as a red star.  ``positions[i]``: the update at which method i's
    current point is marked.  ``batch`` (loss grid of one mini-batch, the point where it
    was used, the point after the step): its contours in purple and that step as an arrow.
    """
    z = np.asarray(loss_grid, float)
    low = float(np.min(z))
    shown = np.log10(np.maximum(z - low, 0.0) + 1e-3 * max(float(np.ptp(z)), 1e-12))
    fig = go.Figure()
    fig.add_trace(go.Contour(
        x=ws, y=bs, z=shown, ncontours=22, showscale=False, hoverinfo="skip",
        colorscale=[[0, "#FFFFFF"], [0.35, "#E3E8EE"], [1, "#9AA8B8"]],
        contours=dict(coloring="fill", showlines=True), line=dict(width=0.6, color="#8895A5"),
        name=t("reg_viz.full_loss")))
    if batch is not None:
        bz, here, after = batch
        bz = np.asarray(bz, float)
        blow = float(np.min(bz))
        fig.add_trace(go.Contour(
            x=ws, y=bs, z=np.log10(np.maximum(bz - blow, 0.0)
                                   + 1e-3 * max(float(np.ptp(bz)), 1e-12)),
            ncontours=14, showscale=False, hoverinfo="skip", name=t("reg_viz.batch_loss"),
            contours=dict(coloring="none"), line=dict(width=1.6, color=BATCH_COLOR),
            showlegend=True))
        fig.add_annotation(x=after[0], y=after[1], ax=here[0], ay=here[1], xref="x", yref="y",
                           axref="x", ayref="y", showarrow=True, arrowhead=3, arrowsize=1.4,
                           arrowwidth=3, arrowcolor=BATCH_COLOR, text="")
    for i, m in enumerate(methods):
        idx = _thin(m.path.shape[0])
        pts = m.path[idx]
        epochs = idx / max(m.per_epoch, 1)
        fig.add_trace(go.Scatter(
            x=pts[:, 0], y=pts[:, 1], mode="lines+markers" if idx.size <= 60 else "lines",
            name=m.name, legendgroup=m.name, line=dict(color=m.color, width=2.4, dash=m.dash),
            marker=dict(size=6, color=m.color), customdata=np.column_stack([idx, epochs]),
            hovertemplate=(m.name + "<br>" + t("reg_viz.update") + " %{customdata[0]}, "
                           + t("reg_viz.epoch") + " %{customdata[1]:.2f}<br>"
                           "(w, b) = (%{x:.4g}, %{y:.4g})<extra></extra>")))
        if positions is not None:
            k = int(np.clip(positions[i], 0, m.path.shape[0] - 1))
            fig.add_trace(go.Scatter(
                x=[m.path[k, 0]], y=[m.path[k, 1]], mode="markers", showlegend=False,
                legendgroup=m.name, hoverinfo="skip",
                marker=dict(size=15, color=m.color, line=dict(color="#FFFFFF", width=2))))
    start = methods[0].path[0] if methods else None
    if start is not None:
        fig.add_trace(go.Scatter(x=[start[0]], y=[start[1]], mode="markers",
                                 name=t("reg_viz.start"),
                                 marker=dict(symbol="circle-open", size=16, color=INK,
                                             line=dict(width=3)),
                                 hovertemplate="(w, b) = (%{x:.4g}, %{y:.4g})<extra></extra>"))
    if minimum is not None:
        fig.add_trace(go.Scatter(x=[minimum[0]], y=[minimum[1]], mode="markers",
                                 name=t("reg_viz.minimum"),
                                 marker=dict(symbol="star", size=20, color=MIN_COLOR,
                                             line=dict(color="#FFFFFF", width=1.5)),
                                 hovertemplate="(w*, b*) = (%{x:.5g}, %{y:.5g})"
                                 "<extra></extra>"))
    fig.update_xaxes(title_text="w", range=[float(ws[0]), float(ws[-1])], showgrid=False)
    fig.update_yaxes(title_text="b", range=[float(bs[0]), float(bs[-1])], showgrid=False)
    fig.update_layout(height=height, margin=dict(l=70, r=20, t=40, b=60), dragmode="pan")
    apply_fonts(fig, present)
    return fig


def loss_curves_figure(methods: Sequence[Method], *, best_loss: float | None,
                       present: bool = False, height: int = 400) -> go.Figure:
    """Full-data loss against epochs (left) and against updates (right, log axis).

    With a known minimum the y axis is L − L* on a log scale (how far from the best
    possible), else L itself.
    """
    title = t("reg_viz.gap_axis") if best_loss is not None else t("reg_viz.loss_axis")
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=(t("reg_viz.per_epoch"), t("reg_viz.per_update")))
    for m in methods:
        values = m.full_loss - best_loss if best_loss is not None else m.full_loss
        values = np.maximum(values, 1e-16) if best_loss is not None else values
        idx = _thin(values.size)
        for col, x in ((1, idx / max(m.per_epoch, 1)), (2, idx + 1)):
            fig.add_trace(go.Scatter(
                x=x, y=values[idx], mode="lines+markers" if idx.size <= 60 else "lines",
                name=m.name, legendgroup=m.name, showlegend=col == 1,
                line=dict(color=m.color, width=2.4, dash=m.dash), marker=dict(size=5),
                hovertemplate=m.name + ": %{x:.4g} → %{y:.4g}<extra></extra>"), row=1, col=col)
    fig.update_xaxes(title_text=t("reg_viz.epochs"), row=1, col=1, gridcolor="#E5E7EB")
    fig.update_xaxes(title_text=t("reg_viz.updates_axis"), type="log", row=1, col=2,
                     gridcolor="#E5E7EB")
    fig.update_yaxes(title_text=title, type="log" if best_loss is not None else "linear",
                     exponentformat="power", gridcolor="#E5E7EB")
    fig.update_layout(height=height, margin=dict(l=80, r=20, t=90, b=60))
    apply_fonts(fig, present)
    fig.update_layout(legend=dict(y=1.14))  # above the two subplot titles
    return fig


def data_figure(x: np.ndarray, y: np.ndarray, model: str,
                lines: Sequence[tuple[str, str, str, float, float]], *,
                present: bool = False, height: int = 400) -> go.Figure:
    """The data and each method's model: ŷ = w x + b (linear) or p = σ(w x + b)
    (logistic).  ``lines``: (name, colour, dash, w, b)."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=y, mode="markers", name=t("reg_viz.data"),
                             marker=dict(size=8, color="#555555", opacity=0.7),
                             hovertemplate="x = %{x:.3g}, y = %{y:.3g}<extra></extra>"))
    pad = 0.05 * max(float(np.ptp(x)), 1e-9)
    grid = np.linspace(float(np.min(x)) - pad, float(np.max(x)) + pad, 200)
    for name, color, dash, w, b in lines:
        z = w * grid + b
        curve = z if model == "linear" else 0.5 * (1.0 + np.tanh(0.5 * z))
        fig.add_trace(go.Scatter(x=grid, y=curve, mode="lines", name=name,
                                 line=dict(color=color, width=3, dash=dash),
                                 hovertemplate=name + ": %{y:.3g}<extra></extra>"))
    fig.update_xaxes(title_text="x", gridcolor="#E5E7EB")
    fig.update_yaxes(title_text="y" if model == "linear" else t("reg_viz.p_class1"),
                     gridcolor="#E5E7EB")
    fig.update_layout(height=height, margin=dict(l=70, r=20, t=40, b=60))
    apply_fonts(fig, present)
    return fig
