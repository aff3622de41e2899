"""The decision map of a small network: what it predicts over the input plane, with the data.

:func:`boundary_figure` (classification: the probability shading and the decision
boundary) and :func:`regression_figure` (1-D fit) build the figure once; during live
training :func:`map_update` gives only what changes, the new heat-map values, which the
canvas applies in place.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from texts import t
from viz.encode import f32
from viz.network_style import (
    BLUE,
    CLASS_COLORS,
    CLASS_TINTS,
    INK,
    INK_SCALE,
    MAX_GRID,
    MAX_SMALL_GRID,
    NEUTRAL,
    ORANGE,
    PROBABILITY_SCALE,
    SMALL_FONT,
    base_layout,
    class_labels,
    equal_axes,
    grid_figure,
    grid_steps,
    on_axes,
    subsample_grid,
)

__all__ = ['boundary_figure', 'boundary_small_multiples', 'map_update',
           'regression_figure']


def _binary_grid(xs, ys, probs: np.ndarray, max_cells: int = MAX_GRID):
    """The drawn grid of a (ny, nx) map of P(class 1): x, y and z subsampled, z in [0, 1]
    ("undecided", 0.5, where it has no value)."""
    probs = np.where(np.isfinite(probs), probs, 0.5)
    return subsample_grid(xs, ys, np.clip(probs, 0.0, 1.0), max_cells)


def _probability_traces(xs, ys, probs_grid, *, showscale: bool, max_cells: int = MAX_GRID
                        ) -> list[dict]:
    """Heat map and decision boundary for a (ny, nx) map of P(class 1) or (ny, nx, k) probs,
    as trace dicts (cheap to build: live training makes a few a second)."""
    probs = np.asarray(probs_grid, dtype=float)
    probs = np.where(np.isfinite(probs), probs, 0.5)  # a broken map reads as "undecided"
    if probs.ndim == 3 and probs.shape[2] == 1:
        probs = probs[:, :, 0]
    if probs.ndim == 2:
        gx, gy, p1 = _binary_grid(xs, ys, probs, max_cells)
        heat = dict(type="heatmap",
            x=f32(gx), y=f32(gy), z=f32(p1), zmin=0.0, zmax=1.0,
            colorscale=PROBABILITY_SCALE, showscale=showscale, name=t("network_viz.p_class1"),
            colorbar=dict(title=dict(text=t("network_viz.p_class1"), font=SMALL_FONT),
                          tickfont=SMALL_FONT, len=0.8, thickness=16),
            hovertemplate=(f"x₁ %{{x:.2f}}<br>x₂ %{{y:.2f}}<br>"
                           f"{t('network_viz.p_class1')} %{{z:.2f}}<extra></extra>"),
        )
        boundary = dict(type="contour",
            x=f32(gx), y=f32(gy), z=f32(p1), autocontour=False,
            contours=dict(start=0.5, end=0.5, size=1.0, coloring="lines"),
            colorscale=INK_SCALE, line=dict(color=INK, width=3), showscale=False,
            hoverinfo="skip",
            name=t("network_viz.decision_boundary"), showlegend=False,
        )
        return [heat, boundary]
    if probs.ndim != 3:
        raise ValueError(f"probs_grid must be (ny, nx) or (ny, nx, k); got {probs.shape}")
    k = probs.shape[2]
    gx, gy, _ = subsample_grid(xs, ys, probs[:, :, 0], max_cells)
    sx, sy = grid_steps(xs, ys, max_cells)
    probs = np.clip(probs[::sy, ::sx], 0.0, 1.0)
    winner = np.argmax(probs, axis=2)
    confidence = probs.max(axis=2)
    # z in [c, c + 1): the integer part picks the class hue, the fraction its confidence
    # (1/k = white: a coin toss; 1 = full tint).
    shade = np.clip((confidence - 1.0 / k) / (1.0 - 1.0 / k), 0.0, 0.999)
    z = winner + shade
    scale = []
    for c in range(k):
        tint = CLASS_TINTS[c % len(CLASS_TINTS)]
        scale += [[c / k, "#FFFFFF"], [(c + 0.999) / k, tint]]
    scale[-1][0] = 1.0
    heat = dict(type="heatmap",
        x=f32(gx), y=f32(gy), z=f32(z), zmin=0.0, zmax=float(k), colorscale=scale,
        showscale=False, customdata=f32(confidence),
        hovertemplate=(f"x₁ %{{x:.2f}}<br>x₂ %{{y:.2f}}<br>"
                       f"{t('network_viz.confidence')} %{{customdata:.2f}}<extra></extra>"),
    )
    traces: list[dict] = [heat]
    for c in range(k):
        # Boundary of class c's region: where p_c equals the best other class.
        others = np.delete(probs, c, axis=2).max(axis=2)
        traces.append(dict(type="contour",
            x=f32(gx), y=f32(gy), z=f32(probs[:, :, c] - others), autocontour=False,
            contours=dict(start=0.0, end=0.0, size=1.0, coloring="lines"),
            colorscale=INK_SCALE, line=dict(color=INK, width=3), showscale=False,
            hoverinfo="skip",
            showlegend=False, name=t("network_viz.decision_boundary")))
    return traces


def _point_traces(X, y, n_classes: int, split: str, *, size: int = 11,
                  showlegend: bool = True) -> list[go.Scatter]:
    """One marker trace per class present: train = filled circles, test = hollow diamonds."""
    X = np.asarray(X, dtype=float).reshape(-1, 2)
    labels = class_labels(y, n_classes)
    keep = np.all(np.isfinite(X), axis=1)
    X, labels = X[keep], labels[keep]
    traces = []
    for c in range(n_classes):
        pts = X[labels == c]
        if not len(pts):
            continue
        color = CLASS_COLORS[c % len(CLASS_COLORS)]
        if split == "train":
            marker = dict(symbol="circle", size=size, color=color,
                          line=dict(color=INK, width=1.5))
        else:
            marker = dict(symbol="diamond", size=size + 1, color="#FFFFFF",
                          line=dict(color=color, width=2.5))
        name = t(f"network_viz.class_{split}", k=c)
        traces.append(go.Scatter(
            x=f32(pts[:, 0]), y=f32(pts[:, 1]), mode="markers", marker=marker, name=name,
            showlegend=showlegend, legendgroup=name,
            hovertemplate=f"{name}<br>x₁ %{{x:.2f}}<br>x₂ %{{y:.2f}}<extra></extra>"))
    return traces


def boundary_figure(xs, ys, probs_grid, X_train, y_train, X_test=None, y_test=None, *,
                    task: str = "binary", title: str | None = None,
                    height: int = 520) -> go.Figure:
    """Decision map of a classifier over the input plane, with the data on top.

    ``probs_grid``: (ny, nx) P(class 1) for ``task="binary"`` — a diverging map centred at
    0.5 with the 0.5 contour as the decision boundary — or (ny, nx, k) class probabilities
    for ``task="multiclass"`` — the argmax class, shaded by its confidence, with each
    region's border. Train points are filled circles, test points hollow diamonds, both
    coloured by label (``CLASS_COLORS``). Axes fixed to the grid, equal aspect.
    """
    probs = np.asarray(probs_grid, dtype=float)
    if task == "binary":
        if probs.ndim == 3:
            probs = probs[:, :, -1]  # (ny, nx, 1) -> P(class 1); (ny, nx, 2) -> column 1
        n_classes = 2
    elif task == "multiclass":
        if probs.ndim != 3:
            raise ValueError("multiclass needs probs_grid of shape (ny, nx, k)")
        n_classes = probs.shape[2]
    else:
        raise ValueError(f"task must be 'binary' or 'multiclass', got {task!r}")
    if probs.shape[:2] != (np.size(ys), np.size(xs)):
        raise ValueError(f"probs_grid has shape {probs.shape}; expected "
                         f"({np.size(ys)}, {np.size(xs)}, ...) for the given xs, ys")
    fig = go.Figure(_probability_traces(xs, ys, probs, showscale=task == "binary"))
    has_test = X_test is not None and y_test is not None and len(X_test)
    # The legend says which marks are training and which test points; the colour of the
    # class is the colour bar's (two classes) or a legend entry per class (more)
    fig.add_traces(_point_traces(X_train, y_train, n_classes, "train",
                                 showlegend=task == "multiclass"))
    if has_test:
        fig.add_traces(_point_traces(X_test, y_test, n_classes, "test", showlegend=False))
    for split in ("train", "test") if has_test else ("train",):
        if split == "train" and task == "multiclass":
            continue
        marker = (dict(symbol="circle", size=11, color=NEUTRAL,
                       line=dict(color=INK, width=1.5)) if split == "train" else
                  dict(symbol="diamond", size=12, color="#FFFFFF",
                       line=dict(color=NEUTRAL, width=2.5)))
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", marker=marker,
                                 name=t(f"network_viz.{split}_points"), hoverinfo="skip"))
    base_layout(fig, title, height)
    fig.update_layout(equal_axes(xs, ys))
    fig.update_xaxes(title=dict(text="x₁"))
    fig.update_yaxes(title=dict(text="x₂"))
    # one row above the map: below it, the legend covered the x₁ title
    fig.update_layout(legend=dict(orientation="h", x=0.0, y=1.01, yanchor="bottom",
                                  font=dict(size=14)),
                      margin=dict(l=56, r=20, t=30, b=50))
    return fig


def regression_figure(x_grid, y_pred, X_train, y_train, X_test=None, y_test=None, *,
                      title: str | None = None, height: int = 460) -> go.Figure:
    """1-D regression: training (circles) and test (hollow diamonds) points, fitted curve."""
    x_grid = np.asarray(x_grid, dtype=float).ravel()
    y_pred = np.asarray(y_pred, dtype=float).ravel()
    ok = np.isfinite(x_grid) & np.isfinite(y_pred)
    fig = go.Figure()
    for X, y, split in ((X_train, y_train, "train"), (X_test, y_test, "test")):
        if X is None or y is None:
            continue
        x = np.asarray(X, dtype=float).ravel()
        yy = np.asarray(y, dtype=float).ravel()
        keep = np.isfinite(x) & np.isfinite(yy)
        if split == "train":
            marker = dict(symbol="circle", size=9, color=BLUE, line=dict(color=INK, width=1))
        else:
            marker = dict(symbol="diamond", size=12, color="#FFFFFF",
                          line=dict(color=ORANGE, width=2.5))
        fig.add_trace(go.Scatter(x=f32(x[keep]), y=f32(yy[keep]), mode="markers",
                                 marker=marker, name=t(f"network_viz.{split}_points")))
    fig.add_trace(go.Scatter(x=f32(x_grid[ok]), y=f32(y_pred[ok]), mode="lines",
                             line=dict(color=INK, width=4), name=t("network_viz.prediction")))
    base_layout(fig, title, height)
    fig.update_xaxes(title=dict(text="x"))
    fig.update_yaxes(title=dict(text="y"))
    return fig


def boundary_small_multiples(xs, ys, probs: Mapping[str, np.ndarray], X, y, *,
                             columns: int = 3, title: str | None = None) -> go.Figure:
    """One small decision map per run (e.g. optimizer), all on the same colour scale.

    ``probs``: display name -> (ny, nx) P(class 1) (or (ny, nx, k) class probabilities).
    The training points ``X, y`` are drawn on every map.
    """
    names = list(probs)
    if not names:
        raise ValueError("probs is empty: nothing to draw")
    cols = max(1, min(columns, len(names)))
    rows = math.ceil(len(names) / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=names,
                        horizontal_spacing=0.04, vertical_spacing=0.12 / max(rows - 1, 1))
    traces, axes = [], {}
    for i, name in enumerate(names):
        grid = np.asarray(probs[name], dtype=float)
        n_classes = grid.shape[2] if grid.ndim == 3 and grid.shape[2] > 1 else 2
        traces += on_axes(_probability_traces(xs, ys, grid, showscale=False,
                                               max_cells=MAX_SMALL_GRID), i + 1)
        traces += on_axes(_point_traces(X, y, n_classes, "train", size=7,
                                         showlegend=i == 0), i + 1)
        axes.update(equal_axes(xs, ys, i + 1, showticklabels=False))
    return grid_figure(traces, fig, axes, title, 40 + 300 * rows + (30 if title else 0), 16,
                        margin=dict(l=20, r=20, b=50),
                        legend=dict(orientation="h", yanchor="top", y=-0.02, x=0.0))


def map_update(xs, ys, values, task: str) -> dict:
    """What changes on the decision map after more training: a restyle for the canvas,
    ``{"traces": [i, ...], "update": {"z": [...], ...}}``, with the same values as the
    traces :func:`boundary_figure` / :func:`regression_figure` would draw for ``values``
    (P(class 1) (ny, nx), class probabilities (ny, nx, k), or the regression curve (nx,)).
    The heat map and boundary traces come first in those figures; for a regression the
    prediction is the last trace (index -1 in Plotly terms, sent as ``"last": true``). For
    two classes the boundary's values are the heat map's: ``"copy": {"1": 0}`` tells the
    canvas to reuse trace 0's z for trace 1 instead of sending it twice."""
    if task == "regression":
        y = np.asarray(values, dtype=float).ravel()
        ok = np.isfinite(y)
        return {"last": True, "update": {"x": [f32(np.asarray(xs, float)[ok])], "y": [f32(y[ok])]}}
    probs = np.asarray(values, dtype=float)
    if task == "binary" and probs.ndim == 3:
        probs = probs[:, :, -1]
    if task == "binary":  # the boundary is the 0.5 line of the same map: sent once
        return {"traces": [0, 1], "update": {"z": [f32(_binary_grid(xs, ys, probs)[2])]},
                "copy": {"1": 0}}
    traces = _probability_traces(xs, ys, probs, showscale=False)
    update: dict[str, list] = {"z": [tr["z"] for tr in traces]}
    if "customdata" in traces[0]:
        update["customdata"] = [tr.get("customdata") for tr in traces]
    return {"traces": list(range(len(traces))), "update": update}
