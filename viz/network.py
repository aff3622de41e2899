"""Plotly figures for the Neural Network page: arrays in, ``go.Figure`` out (and, for live
training, the same pictures as PNG bytes: see "live frames" below).

Every builder is pure (it never modifies its inputs) and never puts a NaN or an inf into a
figure: a diverged run is cut at its last finite value and marked with a cross, a non-finite
probability map is drawn as "undecided" (0.5). Arrays go to Plotly as float32 (Plotly sends
NumPy arrays as compact typed arrays; ``.tolist()`` would send text).

Readable on a projector at 1280x720: fonts >= 14 px, thick lines, colour-blind-safe colours
(Okabe-Ito), and every label comes from ``assets/i18n/en.toml`` under ``[network_viz]``.

Colour convention, the same in every figure: class 0 / negative = orange, class 1 /
positive = blue (class 2 = bluish green), as in TensorFlow Playground.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from texts import t
from viz.race import OPTIMIZER_COLORS  # one colour per optimizer across the app

__all__ = [
    "CLASS_COLORS", "OPTIMIZER_COLORS", "boundary_figure", "regression_figure",
    "boundary_small_multiples", "curves_figure", "compare_loss_figure",
    "layer_grad_norm_figure", "network_diagram", "neuron_maps", "activation_figure",
    "seed_statistics_summary", "seed_statistics_figure", "weights_json", "history_csv",
    "contour_segments", "boundary_frame_png", "regression_frame_png", "curves_frame_png",
    "grad_norm_frame_png",
]

# Okabe-Ito: distinguishable under the common colour-vision deficiencies.
ORANGE = "#E69F00"
BLUE = "#0072B2"
GREEN = "#009E73"
CLASS_COLORS: tuple[str, ...] = (ORANGE, BLUE, GREEN)
POSITIVE_COLOR = BLUE   # weight > 0
NEGATIVE_COLOR = ORANGE  # weight < 0
INK = "#222222"
NEUTRAL = "#9A9A9A"


# Probability of class 1 -> colour: orange (class 0) - white (undecided) - blue (class 1).
# Tints, not full colours, so the data points on top stay the strongest marks.
PROBABILITY_SCALE = [[0.0, "#F2B84B"], [0.5, "#FFFFFF"], [1.0, "#5C9FD1"]]
# Signed value -> colour for weights, biases and hidden activations (same hues).
SIGNED_SCALE = [[0.0, ORANGE], [0.5, "#FFFFFF"], [1.0, BLUE]]
# With coloring="lines" a contour takes its line colour from its colour scale, not line.color.
INK_SCALE = [[0.0, INK], [1.0, INK]]
_CLASS_TINTS = ("#F2B84B", "#5C9FD1", "#5CC4A2")  # saturated end of each class's shading

FONT = dict(size=16, family="Source Sans Pro, Arial, sans-serif", color=INK)
TITLE_FONT = dict(size=19, color=INK)
SMALL_FONT = dict(size=14, color=INK)
LOG_FLOOR = 1e-12  # log axes cannot show 0; a loss or norm of exactly 0 is drawn here
MAX_GRID = 120  # heat maps are subsampled to at most this many cells per side
MAX_SMALL_GRID = 50  # ... and small multiples (about 150 px wide) to this many


# --------------------------------------------------------------------------- helpers


def _f32(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


def _finite_prefix(values) -> int:
    """Length of the leading run of finite values (a diverged run stops being drawn there)."""
    v = np.asarray(values, dtype=float).ravel()
    bad = np.flatnonzero(~np.isfinite(v))
    return int(bad[0]) if bad.size else int(v.size)


def _log_axis(arrays) -> dict:
    """Settings for a log axis showing ``arrays``: ticks at 1, 2, 5 x 10^k over a range of up
    to two decades (Plotly's default labels every digit 2..9 there, in tiny type), only the
    powers of ten beyond (1-2-5 on ten decades is a wall of labels)."""
    values = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays] or [[]])
    values = values[np.isfinite(values) & (values > 0)]
    decades = float(np.log10(values.max() / values.min())) if values.size else 0.0
    if decades <= 2.0:
        return dict(type="log", exponentformat="power", dtick="D2",
                    minorloglabels="complete")
    return dict(type="log", exponentformat="power", dtick=1 if decades <= 12 else 2,
                minorloglabels="none")


def _log_safe(values) -> np.ndarray:
    """Positive values for a log axis: anything <= 0 (a loss of exactly 0) is drawn a decade
    below the smallest positive value (LOG_FLOOR if there is none), not at 1e-300."""
    v = np.asarray(values, dtype=float)
    positive = v[np.isfinite(v) & (v > 0)]
    floor = float(positive.min()) / 10.0 if positive.size else LOG_FLOOR
    return np.maximum(v, floor)


def _labels(y, n_classes: int | None = None) -> np.ndarray:
    """Integer class labels from (n,), (n, 1) 0/1 or (n, k) one-hot targets."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1).astype(int)
    y = y.reshape(-1).astype(float)
    y = np.where(np.isfinite(y), y, 0.0)
    labels = np.rint(y).astype(int)
    if n_classes is not None:
        labels = np.clip(labels, 0, n_classes - 1)
    return labels


def _grid_steps(xs, ys, max_cells: int = MAX_GRID) -> tuple[int, int]:
    return (max(1, math.ceil(np.size(xs) / max_cells)),
            max(1, math.ceil(np.size(ys) / max_cells)))


def _subsample_grid(xs, ys, z, max_cells: int = MAX_GRID):
    """At most max_cells points per axis: a bigger heat map costs bandwidth, shows nothing more."""
    xs, ys, z = np.asarray(xs, float), np.asarray(ys, float), np.asarray(z, float)
    sx, sy = _grid_steps(xs, ys, max_cells)
    return xs[::sx], ys[::sy], z[::sy, ::sx]


def _base_layout_dict(title: str | None, height: int) -> dict:
    layout = dict(
        template="plotly_white",
        font=FONT,
        height=height,
        # pad 0: Streamlit's chart theme pads the plot area 8 px inside the axis lines,
        # which would float every frame away from its heat map
        margin=dict(l=70, r=30, t=70 if title else 40, b=60, pad=0),
        hoverlabel=dict(font=dict(size=15)),
        legend=dict(font=SMALL_FONT),
    )
    if title:
        layout["title"] = dict(text=title, font=TITLE_FONT, x=0.01, xanchor="left")
    return layout


def _base_layout(fig: go.Figure, title: str | None, height: int) -> go.Figure:
    fig.update_layout(_base_layout_dict(title, height))
    # Explicit on every axis: Streamlit's chart theme sets axis fonts in its template, which
    # would otherwise win over the layout-wide font (12 px ticks: unreadable when projected).
    fig.update_xaxes(tickfont=dict(size=14), title_font=dict(size=16))
    fig.update_yaxes(tickfont=dict(size=14), title_font=dict(size=16))
    return fig


def _grid_figure(traces: list, subplots: go.Figure, axes: dict, title: str | None,
                 height: int, title_size: int, **layout) -> go.Figure:
    """Assemble a many-subplot figure in ONE validation pass.

    ``subplots`` comes from make_subplots (axis domains, subplot titles); its layout is
    merged as plain dicts with ``axes`` (per-subplot axis settings) and the base layout.
    Updating a 32-subplot figure through Plotly's objects costs about a second — too slow
    for a chart redrawn during live training; this path costs about a quarter of that.
    """
    merged = subplots.layout.to_plotly_json()
    for key, value in axes.items():
        merged.setdefault(key, {}).update(value)
    for note in merged.get("annotations", []):
        note["font"] = dict(size=title_size, color=INK)
    merged.update(_base_layout_dict(title, height))
    for key, value in layout.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return go.Figure(data=traces, layout=merged)


def _equal_axes(xs, ys, index: int = 1, **extra) -> dict:
    """Layout entries for subplot ``index`` (1 = "xaxis"/"yaxis"): fixed ranges on the grid,
    one data unit the same length on both axes.

    Returned as a dict for ONE ``update_layout`` call: per-subplot ``update_xaxes(row=, col=)``
    calls cost milliseconds each, and live training rebuilds these figures every chunk.
    """
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    suffix = "" if index == 1 else str(index)
    return {
        f"xaxis{suffix}": dict(range=[float(xs.min()), float(xs.max())], fixedrange=True,
                               constrain="domain", showgrid=False, zeroline=False, **extra),
        f"yaxis{suffix}": dict(range=[float(ys.min()), float(ys.max())], fixedrange=True,
                               scaleanchor=f"x{suffix}", scaleratio=1, constrain="domain",
                               showgrid=False, zeroline=False, **extra),
    }


def _on_axes(traces, index: int) -> list:
    """Put traces on subplot ``index`` (the axes make_subplots names x, x2, x3, ...)."""
    suffix = "" if index == 1 else str(index)
    for trace in traces:
        trace.update(xaxis=f"x{suffix}", yaxis=f"y{suffix}")
    return traces


def _probability_traces(xs, ys, probs_grid, *, showscale: bool, max_cells: int = MAX_GRID
                        ) -> list[go.BaseTraceType]:
    """Heat map and decision boundary for a (ny, nx) map of P(class 1) or (ny, nx, k) probs."""
    probs = np.asarray(probs_grid, dtype=float)
    probs = np.where(np.isfinite(probs), probs, 0.5)  # a broken map reads as "undecided"
    if probs.ndim == 3 and probs.shape[2] == 1:
        probs = probs[:, :, 0]
    if probs.ndim == 2:
        gx, gy, p1 = _subsample_grid(xs, ys, np.clip(probs, 0.0, 1.0), max_cells)
        heat = go.Heatmap(
            x=_f32(gx), y=_f32(gy), z=_f32(p1), zmin=0.0, zmax=1.0,
            colorscale=PROBABILITY_SCALE, showscale=showscale, name=t("network_viz.p_class1"),
            colorbar=dict(title=dict(text=t("network_viz.p_class1"), font=SMALL_FONT),
                          tickfont=SMALL_FONT, len=0.8, thickness=16),
            hovertemplate=(f"x₁ %{{x:.2f}}<br>x₂ %{{y:.2f}}<br>"
                           f"{t('network_viz.p_class1')} %{{z:.2f}}<extra></extra>"),
        )
        boundary = go.Contour(
            x=_f32(gx), y=_f32(gy), z=_f32(p1), autocontour=False,
            contours=dict(start=0.5, end=0.5, size=1.0, coloring="lines"),
            colorscale=INK_SCALE, line=dict(color=INK, width=3), showscale=False,
            hoverinfo="skip",
            name=t("network_viz.decision_boundary"), showlegend=False,
        )
        return [heat, boundary]
    if probs.ndim != 3:
        raise ValueError(f"probs_grid must be (ny, nx) or (ny, nx, k); got {probs.shape}")
    k = probs.shape[2]
    gx, gy, _ = _subsample_grid(xs, ys, probs[:, :, 0], max_cells)
    sx, sy = _grid_steps(xs, ys, max_cells)
    probs = np.clip(probs[::sy, ::sx], 0.0, 1.0)
    winner = np.argmax(probs, axis=2)
    confidence = probs.max(axis=2)
    # z in [c, c + 1): the integer part picks the class hue, the fraction its confidence
    # (1/k = white: a coin toss; 1 = full tint).
    shade = np.clip((confidence - 1.0 / k) / (1.0 - 1.0 / k), 0.0, 0.999)
    z = winner + shade
    scale = []
    for c in range(k):
        tint = _CLASS_TINTS[c % len(_CLASS_TINTS)]
        scale += [[c / k, "#FFFFFF"], [(c + 0.999) / k, tint]]
    scale[-1][0] = 1.0
    heat = go.Heatmap(
        x=_f32(gx), y=_f32(gy), z=_f32(z), zmin=0.0, zmax=float(k), colorscale=scale,
        showscale=False, customdata=_f32(confidence),
        hovertemplate=(f"x₁ %{{x:.2f}}<br>x₂ %{{y:.2f}}<br>"
                       f"{t('network_viz.confidence')} %{{customdata:.2f}}<extra></extra>"),
    )
    traces: list[go.BaseTraceType] = [heat]
    for c in range(k):
        # Boundary of class c's region: where p_c equals the best other class.
        others = np.delete(probs, c, axis=2).max(axis=2)
        traces.append(go.Contour(
            x=_f32(gx), y=_f32(gy), z=_f32(probs[:, :, c] - others), autocontour=False,
            contours=dict(start=0.0, end=0.0, size=1.0, coloring="lines"),
            colorscale=INK_SCALE, line=dict(color=INK, width=3), showscale=False,
            hoverinfo="skip",
            showlegend=False, name=t("network_viz.decision_boundary")))
    return traces


def _point_traces(X, y, n_classes: int, split: str, *, size: int = 11,
                  showlegend: bool = True) -> list[go.Scatter]:
    """One marker trace per class present: train = filled circles, test = hollow diamonds."""
    X = np.asarray(X, dtype=float).reshape(-1, 2)
    labels = _labels(y, n_classes)
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
            x=_f32(pts[:, 0]), y=_f32(pts[:, 1]), mode="markers", marker=marker, name=name,
            showlegend=showlegend, legendgroup=name,
            hovertemplate=f"{name}<br>x₁ %{{x:.2f}}<br>x₂ %{{y:.2f}}<extra></extra>"))
    return traces


# --------------------------------------------------------------------------- data space


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
    fig.add_traces(_point_traces(X_train, y_train, n_classes, "train"))
    if X_test is not None and y_test is not None and len(X_test):
        fig.add_traces(_point_traces(X_test, y_test, n_classes, "test"))
    _base_layout(fig, title, height)
    fig.update_layout(_equal_axes(xs, ys))
    fig.update_xaxes(title=dict(text="x₁"))
    fig.update_yaxes(title=dict(text="x₂"))
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.14, x=0.0))
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
        fig.add_trace(go.Scatter(x=_f32(x[keep]), y=_f32(yy[keep]), mode="markers",
                                 marker=marker, name=t(f"network_viz.{split}_points")))
    fig.add_trace(go.Scatter(x=_f32(x_grid[ok]), y=_f32(y_pred[ok]), mode="lines",
                             line=dict(color=INK, width=4), name=t("network_viz.prediction")))
    _base_layout(fig, title, height)
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
        traces += _on_axes(_probability_traces(xs, ys, grid, showscale=False,
                                               max_cells=MAX_SMALL_GRID), i + 1)
        traces += _on_axes(_point_traces(X, y, n_classes, "train", size=7,
                                         showlegend=i == 0), i + 1)
        axes.update(_equal_axes(xs, ys, i + 1, showticklabels=False))
    return _grid_figure(traces, fig, axes, title, 40 + 300 * rows + (30 if title else 0), 16,
                        margin=dict(l=20, r=20, b=50),
                        legend=dict(orientation="h", yanchor="top", y=-0.02, x=0.0))


# --------------------------------------------------------------------------- training curves


def curves_figure(history: Mapping[str, object], *, title: str | None = None,
                  height: int = 400) -> go.Figure:
    """Loss (log axis) and, for classification, accuracy (0-100 %) against the epoch.

    ``history``: ``epoch`` (E,), ``train_loss`` (E,), and optionally ``test_loss``,
    ``train_acc``, ``test_acc`` (E,) or None. Accuracy is a fraction in [0, 1] (an array whose
    values exceed 1 is taken as already in percent). Values after the first non-finite one
    (a diverged run) are not drawn.
    """
    epoch = np.asarray(history["epoch"], dtype=float).ravel()
    has_acc = history.get("train_acc") is not None or history.get("test_acc") is not None
    if has_acc:
        fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                            subplot_titles=(t("network_viz.loss"), t("network_viz.accuracy")))
    else:
        fig = make_subplots(rows=1, cols=1, subplot_titles=(t("network_viz.loss"),))
    styles = {"train": dict(color=BLUE, width=3), "test": dict(color=ORANGE, width=3,
                                                               dash="dash")}
    # before the first epoch there is one point, which a line alone would not show
    mode = "lines+markers" if epoch.size == 1 else "lines"
    for split in ("train", "test"):
        loss = history.get(f"{split}_loss")
        if loss is not None:
            loss = np.asarray(loss, dtype=float).ravel()
            n = min(_finite_prefix(loss), epoch.size)
            fig.add_trace(go.Scatter(x=_f32(epoch[:n]), y=_f32(_log_safe(loss[:n])),
                                     mode=mode, line=styles[split],
                                     name=t(f"network_viz.{split}"), legendgroup=split),
                          row=1, col=1)
        acc = history.get(f"{split}_acc") if has_acc else None
        if acc is not None:
            acc = np.asarray(acc, dtype=float).ravel()
            n = min(_finite_prefix(acc), epoch.size)
            acc = acc[:n]
            percent = acc if acc.size and acc.max() > 1.0 else 100.0 * acc
            fig.add_trace(go.Scatter(x=_f32(epoch[:n]), y=_f32(percent), mode=mode,
                                     line=styles[split], name=t(f"network_viz.{split}"),
                                     legendgroup=split, showlegend=loss is None),
                          row=1, col=2)
    fig.update_yaxes(**_log_axis([tr.y for tr in fig.data if tr.yaxis in (None, "y")]),
                     row=1, col=1)
    fig.update_xaxes(title=dict(text=t("network_viz.epoch")))
    if has_acc:
        fig.update_yaxes(range=[0, 102], ticksuffix=" %", row=1, col=2)
    fig.update_annotations(font=dict(size=17, color=INK))
    _base_layout(fig, title, height)
    fig.update_layout(legend=dict(orientation="h", yanchor="bottom", y=1.08, x=1.0,
                                  xanchor="right"))
    return fig


def compare_loss_figure(epochs, losses: Mapping[str, np.ndarray], colors: Mapping[str, str],
                        diverged_at: Mapping[str, int | None] | None = None, *,
                        title: str | None = None, height: int = 420) -> go.Figure:
    """Training loss of several runs overlaid on a log axis; ✕ where a run diverged.

    ``diverged_at``: name -> epoch index at which the run left the finite range (or None).
    A run is drawn up to its last finite value; the cross sits on that last point.
    """
    epochs = np.asarray(epochs, dtype=float).ravel()
    diverged_at = diverged_at or {}
    fig = go.Figure()
    for i, (name, loss) in enumerate(losses.items()):
        loss = np.asarray(loss, dtype=float).ravel()
        color = colors.get(name, CLASS_COLORS[i % len(CLASS_COLORS)])
        n = min(_finite_prefix(loss), epochs.size)
        stop = diverged_at.get(name)
        if stop is not None and stop >= 0:
            n = min(n, int(stop) + 1)
        diverged = (stop is not None and stop >= 0) or n < loss.size
        y = _log_safe(loss[:n])
        fig.add_trace(go.Scatter(x=_f32(epochs[:n]), y=_f32(y), mode="lines",
                                 line=dict(color=color, width=3), name=name, legendgroup=name))
        if diverged and n > 0:
            fig.add_trace(go.Scatter(
                x=_f32(epochs[n - 1:n]), y=_f32(y[n - 1:n]), mode="markers+text",
                marker=dict(symbol="x", size=16, color=color, line=dict(color=INK, width=1)),
                text=[t("network_viz.diverged")], textposition="top center",
                textfont=dict(size=14, color=color), legendgroup=name, showlegend=False,
                hovertemplate=f"{name}: {t('network_viz.diverged')}<extra></extra>"))
    fig.update_yaxes(**_log_axis([tr.y for tr in fig.data]),
                     title=dict(text=t("network_viz.train_loss")))
    fig.update_xaxes(title=dict(text=t("network_viz.epoch")))
    return _base_layout(fig, title, height)


def _grad_norm_series(epochs, norms, layer_names):
    """Per-layer gradient norms as (epochs (E,), norms (E, L), names, log-axis floor): the
    floor sits a decade below the smallest positive norm, where a zero norm is drawn."""
    epochs = np.asarray(epochs, dtype=float).ravel()
    norms = np.asarray(norms, dtype=float)
    if norms.ndim == 1:
        norms = norms[:, None]
    if layer_names is None:
        layer_names = [t("network_viz.layer_n", layer=i + 1) for i in range(norms.shape[1])]
    positive = norms[np.isfinite(norms) & (norms > 0)]
    floor = float(positive.min()) / 10.0 if positive.size else LOG_FLOOR
    return epochs, norms, layer_names, floor


def layer_grad_norm_figure(epochs, norms, layer_names: Sequence[str] | None = None, *,
                           title: str | None = None, height: int = 420) -> go.Figure:
    """Gradient norm ||dJ/dW_l|| of each layer over training, log axis.

    ``norms`` (E, L), layer 1 = the input side. When the first layers' lines sit decades
    below the last one, the gradient vanishes on its way back (sigmoid in deep nets).
    Colours run light (input side) to dark (output side).
    """
    epochs, norms, layer_names, floor = _grad_norm_series(epochs, norms, layer_names)
    n_layers = norms.shape[1]
    fig = go.Figure()
    for layer in range(n_layers):
        col = norms[:, layer]
        n = min(_finite_prefix(col), epochs.size)
        share = layer / max(n_layers - 1, 1)
        color = _blend("#9ECAE1", "#08306B", share)
        fig.add_trace(go.Scatter(x=_f32(epochs[:n]), y=_f32(np.maximum(col[:n], floor)),
                                 mode="lines", line=dict(color=color, width=3),
                                 name=str(layer_names[layer])))
    fig.update_yaxes(**_log_axis([tr.y for tr in fig.data]),
                     title=dict(text=t("network_viz.grad_norm")))
    fig.update_xaxes(title=dict(text=t("network_viz.epoch")))
    return _base_layout(fig, title, height)


def _blend(a: str, b: str, share: float) -> str:
    ca = np.array([int(a[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)
    cb = np.array([int(b[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)
    r, g, bl = np.rint(ca + (cb - ca) * share).astype(int)
    return f"#{r:02X}{g:02X}{bl:02X}"


# --------------------------------------------------------------------------- inside the network


def network_diagram(sizes: Sequence[int], weights, *, layer_names: Sequence[str] | None = None,
                    activations_text: Sequence[str] | None = None, title: str | None = None,
                    height: int = 460) -> go.Figure:
    """The network as a graph: neurons in columns, one line per weight.

    ``weights``: [(W (in, out), b (out,)), ...] of ONE network. A line's width grows with |w|
    (linearly, the largest weight drawn 9 px wide) and its colour gives the sign (blue +,
    orange -); hover a line's middle for its value, a neuron for its bias. Neurons are
    filled by their bias on the same orange-white-blue scale.
    """
    sizes = [int(s) for s in sizes]
    if len(weights) != len(sizes) - 1:
        raise ValueError(f"{len(sizes) - 1} weight layers expected for sizes {sizes}, "
                         f"got {len(weights)}")
    mats, biases = [], []
    for layer, (W, b) in enumerate(weights):
        W = np.asarray(W, dtype=float)
        b = np.asarray(b, dtype=float).ravel()
        if W.shape != (sizes[layer], sizes[layer + 1]) or b.shape != (sizes[layer + 1],):
            raise ValueError(f"layer {layer + 1}: W {W.shape}, b {b.shape} do not match "
                             f"sizes {sizes}")
        mats.append(np.where(np.isfinite(W), W, 0.0))
        biases.append(np.where(np.isfinite(b), b, 0.0))
    n_cols = len(sizes)
    tallest = max(sizes)

    def position(layer: int, unit: int) -> tuple[float, float]:
        # columns 0..L, neurons centred vertically, the first neuron on top
        return float(layer), (sizes[layer] - 1) / 2.0 - unit

    w_max = max((float(np.abs(W).max()) for W in mats if W.size), default=0.0) or 1.0
    b_max = max((float(np.abs(b).max()) for b in biases if b.size), default=0.0) or 1.0
    # Plain dicts, validated once by go.Figure: building a go.Scatter per weight costs ~1 ms
    # each, too slow for a diagram redrawn during live training.
    lines: list[dict] = []
    mid_x, mid_y, mid_text, mid_color = [], [], [], []
    for layer, W in enumerate(mats):
        for i in range(W.shape[0]):
            x0, y0 = position(layer, i)
            for j in range(W.shape[1]):
                x1, y1 = position(layer + 1, j)
                w = float(W[i, j])
                share = abs(w) / w_max
                color = POSITIVE_COLOR if w >= 0 else NEGATIVE_COLOR
                lines.append(dict(
                    type="scatter", x=[x0, x1], y=[y0, y1], mode="lines", hoverinfo="skip",
                    showlegend=False, opacity=0.35 + 0.65 * share,
                    line=dict(color=color, width=0.6 + 8.4 * share)))
                # hover target a third of the way along: middles of crossing lines collide
                mid_x.append(x0 + (x1 - x0) * 0.35)
                mid_y.append(y0 + (y1 - y0) * 0.35)
                mid_text.append(t("network_viz.weight_hover", layer=layer + 1, i=i + 1, j=j + 1,
                                  w=w))
                mid_color.append(color)
    fig = go.Figure(lines)
    fig.add_trace(go.Scatter(x=_f32(mid_x), y=_f32(mid_y), mode="markers",
                             marker=dict(size=9, color=mid_color, opacity=0.0),
                             hovertext=mid_text, hoverinfo="text", showlegend=False,
                             name=t("network_viz.weights")))
    node_x, node_y, node_val, node_text = [], [], [], []
    for layer, width in enumerate(sizes):
        for unit in range(width):
            x, y = position(layer, unit)
            node_x.append(x)
            node_y.append(y)
            if layer == 0:
                node_val.append(0.0)
                node_text.append(t("network_viz.input_hover", i=unit + 1))
            else:
                b = float(biases[layer - 1][unit])
                node_val.append(b)
                node_text.append(t("network_viz.neuron_hover", layer=layer, i=unit + 1, b=b))
    node_size = max(18, min(44, int(300 / tallest)))
    fig.add_trace(go.Scatter(
        x=_f32(node_x), y=_f32(node_y), mode="markers", hovertext=node_text, hoverinfo="text",
        marker=dict(size=node_size, color=_f32(node_val), colorscale=SIGNED_SCALE,
                    cmin=-b_max, cmax=b_max, line=dict(color=INK, width=2), showscale=False),
        showlegend=False, name=t("network_viz.neurons")))
    if layer_names is None:
        layer_names = ([t("network_viz.input_layer")]
                       + [t("network_viz.hidden_layer", layer=i) for i in range(1, n_cols - 1)]
                       + [t("network_viz.output_layer")])
    top = (tallest - 1) / 2.0 + 0.9
    side = 0.08 + node_size / 400.0  # clear of the circle
    for unit in range(sizes[0]):
        fig.add_annotation(x=-side, y=position(0, unit)[1], text=f"x<sub>{unit + 1}</sub>",
                           showarrow=False, xanchor="right", font=dict(size=18, color=INK))
    for unit in range(sizes[-1]):
        label = "ŷ" if sizes[-1] == 1 else f"ŷ<sub>{unit + 1}</sub>"
        fig.add_annotation(x=n_cols - 1 + side, y=position(n_cols - 1, unit)[1], text=label,
                           showarrow=False, xanchor="left", font=dict(size=18, color=INK))
    for layer in range(n_cols):
        label = str(layer_names[layer])
        if activations_text is not None and layer > 0 and layer - 1 < len(activations_text):
            label += f"<br><span style='font-size:14px'>{activations_text[layer - 1]}</span>"
        fig.add_annotation(x=layer, y=top, text=label, showarrow=False, yanchor="bottom",
                           font=dict(size=16, color=INK))
    _base_layout(fig, title, height)
    fig.update_xaxes(visible=False, range=[-0.4, n_cols - 0.6], fixedrange=True)
    fig.update_yaxes(visible=False, range=[-(tallest - 1) / 2.0 - 0.7, top + 1.0],
                     fixedrange=True)
    fig.update_layout(margin=dict(l=10, r=10, t=60 if title else 10, b=10),
                      hovermode="closest")
    return fig


def neuron_maps(xs, ys, hidden: Sequence[np.ndarray], *, title: str | None = None,
                max_columns: int = 8) -> go.Figure:
    """What each hidden neuron computes: its activation over the input plane.

    ``hidden``: one (ny, nx, width) array per hidden layer. One subplot per neuron, one row
    per layer (a layer wider than ``max_columns`` wraps onto more rows), titled
    "layer l, neuron j". Colours: orange-white-blue, symmetric around 0 with one scale per
    layer, so neurons of a layer compare directly.
    """
    layers = [np.asarray(h, dtype=float) for h in hidden]
    if not layers:
        raise ValueError("no hidden layer: a network without hidden layers has no neuron maps")
    layers = [h[:, :, None] if h.ndim == 2 else h for h in layers]
    cols = max(1, min(max_columns, max(h.shape[2] for h in layers)))
    layout_rows = []  # (layer index, first neuron) per subplot row
    for li, h in enumerate(layers):
        for start in range(0, h.shape[2], cols):
            layout_rows.append((li, start))
    titles = []
    for li, start in layout_rows:
        width = layers[li].shape[2]
        for c in range(cols):
            j = start + c
            titles.append(t("network_viz.neuron_title", layer=li + 1, neuron=j + 1)
                          if j < width else "")
    rows = len(layout_rows)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles,
                        horizontal_spacing=0.02, vertical_spacing=0.16 / max(rows, 1))
    # a frame per map: a dead neuron (all zero = all white) still shows as a square
    frame = dict(showticklabels=False, showline=True, mirror=True, linecolor="#BBBBBB")
    traces, axes = [], {}
    for r, (li, start) in enumerate(layout_rows, start=1):
        h = np.where(np.isfinite(layers[li]), layers[li], 0.0)
        bound = float(np.abs(h).max()) or 1.0
        for c in range(cols):
            j = start + c
            index = (r - 1) * cols + c + 1
            suffix = "" if index == 1 else str(index)
            if j >= h.shape[2]:
                axes.update({f"xaxis{suffix}": dict(visible=False),
                             f"yaxis{suffix}": dict(visible=False)})
                continue
            gx, gy, z = _subsample_grid(xs, ys, h[:, :, j], MAX_SMALL_GRID)
            traces.append(dict(
                type="heatmap", x=_f32(gx), y=_f32(gy), z=_f32(z), zmin=-bound, zmax=bound,
                colorscale=SIGNED_SCALE, showscale=False, zsmooth="best", xaxis=f"x{suffix}",
                yaxis=f"y{suffix}",
                hovertemplate=(t("network_viz.neuron_title", layer=li + 1, neuron=j + 1)
                               + "<br>x₁ %{x:.2f}<br>x₂ %{y:.2f}<br>a %{z:.3f}<extra></extra>")))
            axes.update(_equal_axes(xs, ys, index, **frame))
    return _grid_figure(traces, fig, axes, title, 40 + 175 * rows + (40 if title else 0), 14,
                        margin=dict(l=10, r=10, t=70 if title else 40, b=10))


def activation_figure(name: str, *, z_range: tuple[float, float] = (-5.0, 5.0),
                      height: int = 380) -> go.Figure:
    """An activation f(z) and its derivative f'(z), with the derivative's maximum marked.

    For sigmoid the mark reads 0.25: each sigmoid layer multiplies the backpropagated
    gradient by at most 1/4 — the vanishing gradient.
    """
    from engine.mlp import ACTIVATIONS  # viz -> engine is an allowed arrow

    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    act = ACTIVATIONS[name]
    z = np.linspace(z_range[0], z_range[1], 401)
    f = act.f(z)
    df = act.derivative(z)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=_f32(z), y=_f32(f), mode="lines", line=dict(color=BLUE, width=4),
                             name=t("network_viz.activation_f")))
    fig.add_trace(go.Scatter(x=_f32(z), y=_f32(df), mode="lines",
                             line=dict(color=ORANGE, width=4, dash="dash"),
                             name=t("network_viz.activation_df")))
    top = int(np.argmax(df))
    fig.add_trace(go.Scatter(
        x=_f32(z[top:top + 1]), y=_f32(df[top:top + 1]), mode="markers+text",
        marker=dict(size=12, color=ORANGE, line=dict(color=INK, width=1.5)),
        text=[t("network_viz.max_derivative", v=float(df[top]))], textposition="top right",
        textfont=dict(size=15, color=INK), showlegend=False, hoverinfo="skip"))
    fig.update_xaxes(title=dict(text="z"), zeroline=True, zerolinecolor="#BBBBBB")
    fig.update_yaxes(zeroline=True, zerolinecolor="#BBBBBB")
    _base_layout(fig, act.title, height)
    fig.update_layout(legend=dict(orientation="h", yanchor="bottom", y=1.0, x=1.0,
                                  xanchor="right"))
    return fig


# --------------------------------------------------------------------------- seed statistics


def seed_statistics_summary(epochs_to_solve) -> dict:
    """How reliably a setting trains, over many seeds.

    ``epochs_to_solve`` (N,) ints: the first epoch at which each seed's network solved the
    task, -1 if it never did. Returns ``success_rate`` (solved / N, in [0, 1]), ``median`` and
    ``p90`` — the median and 90th percentile (linear interpolation, numpy's default) of the
    epochs-to-solve of the SOLVED seeds, None when no seed solved — plus ``n_solved`` and ``n``.
    """
    e = np.asarray(epochs_to_solve).ravel()
    solved = e[e >= 0].astype(float)
    n = int(e.size)
    return {
        "n": n,
        "n_solved": int(solved.size),
        "success_rate": solved.size / n if n else 0.0,
        "median": float(np.median(solved)) if solved.size else None,
        "p90": float(np.percentile(solved, 90)) if solved.size else None,
    }


def seed_statistics_figure(epochs_to_solve, max_epochs: int, *, bins: int = 20,
                           title: str | None = None, height: int = 420) -> go.Figure:
    """Histogram of epochs-to-solve over seeds, a grey bar for the seeds that never solved,
    the median as a dashed line and "solved 87 / 100" written on the chart.

    Bins are computed here (numpy), so the figure holds the counts it shows.
    """
    e = np.asarray(epochs_to_solve).ravel()
    summary = seed_statistics_summary(e)
    solved = e[e >= 0].astype(float)
    max_epochs = max(int(max_epochs), 1)
    edges = np.linspace(0.0, float(max_epochs), bins + 1)
    counts, _ = np.histogram(np.clip(solved, 0, max_epochs), bins=edges)
    width = edges[1] - edges[0]
    fig = go.Figure()
    fig.add_trace(go.Bar(
        x=_f32((edges[:-1] + edges[1:]) / 2), y=counts.astype(np.int32), width=width * 0.95,
        marker=dict(color=BLUE), name=t("network_viz.solved_bar"),
        customdata=np.stack([edges[:-1], edges[1:]], axis=1).astype(np.float32),
        hovertemplate=(t("network_viz.bin_hover")
                       + "<extra></extra>")))
    never = summary["n"] - summary["n_solved"]
    never_x = max_epochs + 1.5 * width
    fig.add_trace(go.Bar(x=_f32([never_x]), y=np.array([never], dtype=np.int32),
                         width=width * 1.5, marker=dict(color=NEUTRAL),
                         name=t("network_viz.never_solved"),
                         hovertemplate=f"{t('network_viz.never_solved')}: %{{y}}<extra></extra>"))
    if summary["median"] is not None:
        fig.add_vline(x=summary["median"], line=dict(color=INK, width=2, dash="dash"),
                      annotation=dict(text=t("network_viz.median", v=summary["median"]),
                                      font=SMALL_FONT), annotation_position="top right")
    fig.add_annotation(
        xref="paper", yref="paper", x=0.0, y=1.02, xanchor="left", yanchor="bottom",
        showarrow=False, font=dict(size=18, color=INK),
        text=t("network_viz.solved_of", solved=summary["n_solved"], total=summary["n"]))
    fig.update_xaxes(title=dict(text=t("network_viz.epochs_to_solve")),
                     range=[0, never_x + width], tickvals=None)
    tallest = max(int(counts.max()) if counts.size else 0, never, 1)
    # headroom: the median's label sits above the tallest bar, not on it
    fig.update_yaxes(title=dict(text=t("network_viz.seed_count")), range=[0, tallest * 1.18])
    _base_layout(fig, title, height)
    fig.update_layout(bargap=0.0, margin=dict(t=90 if title else 60),
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=1.0,
                                  xanchor="right"))
    return fig


# --------------------------------------------------------------------------- downloads


def _finite_or_none(a: np.ndarray):
    """Nested lists with every non-finite entry as None: JSON has no NaN."""
    a = np.asarray(a, dtype=float)
    out = a.astype(object)
    out[~np.isfinite(a)] = None
    return out.tolist()


def weights_json(net, theta_row, config: Mapping[str, object] | None = None) -> str:
    """One trained network as JSON: architecture, the given config, every W and b.

    ``{"format": "descent-lab/mlp", "sizes": [...], "activation", "output", "loss",
    "batch_norm", "config": {...}, "layers": [{"W": in x out, "b": out}, ...],
    "batch_norm_params": [{"gamma", "beta"}, ...]}`` with ``y = x @ W + b`` (row vectors,
    as Keras: ``W`` is ``layer.kernel``). Non-finite values are written as null.
    """
    theta = np.asarray(theta_row, dtype=float).reshape(1, -1)
    layers = [{"W": _finite_or_none(W[0]), "b": _finite_or_none(b[0])}
              for W, b in net.unpack(theta)]
    doc = {
        "format": "descent-lab/mlp",
        "convention": "y = x @ W + b",
        "sizes": [int(s) for s in net.sizes],
        "activation": net.activation,
        "output": net.output,
        "loss": net.loss,
        "batch_norm": bool(net.batch_norm),
        "config": _jsonable(dict(config or {})),
        "layers": layers,
    }
    if net.batch_norm:
        doc["batch_norm_params"] = [{"gamma": _finite_or_none(g[0]), "beta": _finite_or_none(b[0])}
                                    for g, b in net.unpack_bn(theta)]
    return json.dumps(doc, indent=1, allow_nan=False)


def _jsonable(value):
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _finite_or_none(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


HISTORY_COLUMNS = ("epoch", "train_loss", "test_loss", "train_acc", "test_acc")


def history_csv(history: Mapping[str, object]) -> str:
    """Training history as CSV text: epoch, train_loss, test_loss, train_acc, test_acc first
    (the ones present and not None), then any other per-epoch series in the given order; a
    2-D series (E, L) such as per-layer gradient norms becomes columns name_1 .. name_L.
    Non-finite values (after a divergence) are written as empty cells.
    """
    import pandas as pd

    epoch = np.asarray(history["epoch"]).ravel()
    n = epoch.size
    columns: dict[str, np.ndarray] = {}
    order = [k for k in HISTORY_COLUMNS if k in history] + [
        k for k in history if k not in HISTORY_COLUMNS]
    for key in order:
        value = history[key]
        if value is None or isinstance(value, str | bytes | Mapping):
            continue
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf" or arr.ndim == 0 or arr.shape[0] != n or arr.ndim > 2:
            continue
        if arr.ndim == 1:
            columns[key] = arr
        else:
            for j in range(arr.shape[1]):
                columns[f"{key}_{j + 1}"] = arr[:, j]
    frame = pd.DataFrame(columns)
    frame = frame.where(np.isfinite(frame.astype(float)), None)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


# --------------------------------------------------------------------------- live frames
#
# While training plays, the page redraws a few times a second. Streamlit gives a Plotly chart
# a new element ID whenever its figure changes, so every redraw would remount the chart and
# plotly.js would draw it from scratch (blank for a moment). A picture updates in place: the
# browser keeps showing the previous frame until the next one has loaded. These builders draw
# the decision map and the curves as PNG bytes (Pillow, which Streamlit itself depends on);
# the interactive figures above are shown again once training pauses.


def contour_segments(xs, ys, z, level: float = 0.5) -> np.ndarray:
    """The ``z = level`` line of a grid as straight segments (marching squares).

    ``z[i, j]`` is the value at ``(xs[j], ys[i])``. In each grid cell an edge whose two
    corners lie on different sides of the level (``z >= level`` or not) is crossed at the
    linearly interpolated point ``a + (level - z_a) / (z_b - z_a) * (b - a)``; a cell with
    two crossed edges gives one segment joining them. A cell with four (a saddle: diagonal
    corners alike) is resolved by its centre value, the mean of its corners: the two corners
    that differ from the centre are the ones cut off. Returns (S, 2, 2) float64:
    segment s runs from ``(x, y) = out[s, 0]`` to ``out[s, 1]``. Non-finite values count as
    below the level.
    """
    xs, ys = np.asarray(xs, dtype=float).ravel(), np.asarray(ys, dtype=float).ravel()
    z = np.asarray(z, dtype=float)
    if z.shape != (ys.size, xs.size):
        raise ValueError(f"z has shape {z.shape}; expected ({ys.size}, {xs.size})")
    if xs.size < 2 or ys.size < 2:
        return np.zeros((0, 2, 2))
    z = np.where(np.isfinite(z), z, -np.inf)
    z00, z01, z10, z11 = z[:-1, :-1], z[:-1, 1:], z[1:, :-1], z[1:, 1:]  # [row=y, col=x]
    x0, x1 = np.broadcast_to(xs[None, :-1], z00.shape), np.broadcast_to(xs[None, 1:], z00.shape)
    y0, y1 = np.broadcast_to(ys[:-1, None], z00.shape), np.broadcast_to(ys[1:, None], z00.shape)

    def crossing(za, zb, xa, ya, xb, yb):
        crossed = (za >= level) != (zb >= level)
        with np.errstate(all="ignore"):
            share = np.clip(np.nan_to_num((level - za) / (zb - za)), 0.0, 1.0)
        return crossed, np.stack([xa + share * (xb - xa), ya + share * (yb - ya)], axis=-1)

    # edges in order bottom, right, top, left (corners 00-01, 01-11, 10-11, 00-10)
    bottom = crossing(z00, z01, x0, y0, x1, y0)
    right = crossing(z01, z11, x1, y0, x1, y1)
    top = crossing(z10, z11, x0, y1, x1, y1)
    left = crossing(z00, z10, x0, y0, x0, y1)
    edges = (bottom, right, top, left)
    hit = np.stack([e[0] for e in edges], axis=-1)                 # (cells..., 4)
    point = np.stack([e[1] for e in edges], axis=-2)               # (cells..., 4, 2)
    count = hit.sum(axis=-1)
    two = count == 2
    # the two crossed edges of a simple cell, in edge order
    order = np.argsort(~hit, axis=-1, kind="stable")[..., :2]
    simple = np.take_along_axis(point, order[..., None], axis=-2)[two]
    saddle = count == 4
    with np.errstate(invalid="ignore"):
        centre_above = (z00 + z01 + z10 + z11) / 4.0 >= level
    cut_01_10 = ((z00 >= level) == centre_above)[saddle]  # pairs bottom-right, top-left
    p = point[saddle]
    first = np.where(cut_01_10[:, None, None], p[:, [0, 1]], p[:, [0, 3]])
    second = np.where(cut_01_10[:, None, None], p[:, [2, 3]], p[:, [1, 2]])
    return np.concatenate([simple, first, second]).reshape(-1, 2, 2)


def _rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))


def _scale_rgb(u: np.ndarray, scale) -> np.ndarray:
    """Colours of a Plotly-style ``[[stop, "#RRGGBB"], ...]`` scale at u -> uint8 (..., 3)."""
    stops = np.array([s for s, _ in scale], dtype=float)
    rgb = np.array([_rgb(c) for _, c in scale], dtype=float)
    out = np.stack([np.interp(u, stops, rgb[:, ch]) for ch in range(3)], axis=-1)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _nice_ticks(lo: float, hi: float, target: int = 5) -> np.ndarray:
    """Round tick values (1, 2, 5 x 10^k steps) inside [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return np.array([lo]) if math.isfinite(lo) else np.zeros(0)
    raw = (hi - lo) / max(target, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = np.arange(first, hi + step * 1e-9, step)
    return np.where(np.abs(ticks) < step * 1e-9, 0.0, ticks)


def _tick_text(v: float) -> str:
    return f"{v:g}"


class _Raster:
    """A Pillow canvas with one or more plot panels; coordinates in CSS pixels × scale."""

    def __init__(self, width: int, height: int, scale: float):
        from PIL import Image, ImageDraw  # Pillow comes with Streamlit; only needed here

        self.s = float(scale)
        self.image = Image.new("RGB", (round(width * scale), round(height * scale)), "white")
        self.draw = ImageDraw.Draw(self.image)

    def font(self, size: float):
        return _font(max(6, round(size * self.s)))

    def text(self, xy, text: str, size: float = 14, color: str = INK, anchor: str = "la"):
        self.draw.text((xy[0] * self.s, xy[1] * self.s), text, fill=color,
                       font=self.font(size), anchor=anchor)

    def png(self) -> bytes:
        from PIL import Image

        buffer = io.BytesIO()
        # A 256-colour palette: a sixth of the bytes of full colour (100 -> 16 kB for the
        # map, a few times a second to every student's browser) in the same encoding time.
        palette = self.image.quantize(256, method=Image.Quantize.FASTOCTREE,
                                      dither=Image.Dither.NONE)
        palette.save(buffer, format="PNG", compress_level=6)
        return buffer.getvalue()


class _Panel:
    """One plot area: data ranges (log or linear) mapped into a box of the canvas."""

    def __init__(self, canvas: _Raster, box, x_range, y_range, *, log_y: bool = False):
        self.c, self.box, self.log_y = canvas, box, log_y
        self.x_range = tuple(float(v) for v in x_range)
        self.y_range = tuple(float(v) for v in y_range)

    def px(self, x, y) -> np.ndarray:
        """Data -> canvas pixels, (n, 2)."""
        left, top, right, bottom = self.box
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        if self.log_y:
            y = np.log10(np.maximum(y, 1e-300))
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        fx = (x - x0) / ((x1 - x0) or 1.0)
        fy = (y - y0) / ((y1 - y0) or 1.0)
        s = self.c.s
        return np.stack([(left + fx * (right - left)) * s, (bottom - fy * (bottom - top)) * s],
                        axis=-1)

    def clip(self):
        left, top, right, bottom = (round(v * self.c.s) for v in self.box)
        return left, top, right, bottom

    def frame(self, x_ticks, y_ticks, y_labels=None, grid: bool = False):
        left, top, right, bottom = self.clip()
        draw, s = self.c.draw, self.c.s
        for v, label in zip(y_ticks, y_labels or [_tick_text(v) for v in y_ticks], strict=True):
            yv = 10.0 ** v if self.log_y else v
            _, py = self.px(self.x_range[0], yv)
            if grid:
                draw.line([(left, py), (right, py)], fill="#EBEBEB", width=max(1, round(s)))
            self.c.text((left / s - 6, py / s), label, 13, anchor="rm")
        for v in x_ticks:
            px, _ = self.px(v, self.y_range[0] if not self.log_y else 10.0 ** self.y_range[0])
            draw.line([(px, bottom), (px, bottom + 5 * s)], fill="#888888", width=max(1, round(s)))
            self.c.text((px / s, bottom / s + 7), _tick_text(v), 13, anchor="ma")
        draw.rectangle([left, top, right, bottom], outline="#888888", width=max(1, round(s)))

    def polyline(self, x, y, color: str, width: float = 3.0, dash: bool = False):
        pts = self.px(x, y)
        if len(pts) < 2:
            return
        w = max(1, round(width * self.c.s))
        if not dash:
            self.c.draw.line([tuple(p) for p in pts], fill=color, width=w, joint="curve")
            return
        # dashes: every other stretch of ~8 px along the path
        seg = np.diff(pts, axis=0)
        along = np.concatenate([[0.0], np.cumsum(np.hypot(seg[:, 0], seg[:, 1]))])
        on = (along // (8 * self.c.s)) % 2 == 0
        for i in range(len(pts) - 1):
            if on[i]:
                self.c.draw.line([tuple(pts[i]), tuple(pts[i + 1])], fill=color, width=w)


_FONTS: dict[int, object] = {}


def _font(size: int):
    if size not in _FONTS:
        from PIL import ImageFont

        _FONTS[size] = ImageFont.load_default(size=size)
    return _FONTS[size]


def _class_map_rgb(probs: np.ndarray, task: str) -> np.ndarray:
    """(ny, nx) P(class 1) or (ny, nx, k) probabilities -> (ny, nx, 3) uint8 colours, the same
    colours as the Plotly decision map (:func:`_probability_traces`)."""
    probs = np.where(np.isfinite(probs), probs, 0.5)
    if task == "binary":
        return _scale_rgb(np.clip(probs, 0.0, 1.0), PROBABILITY_SCALE)
    k = probs.shape[2]
    probs = np.clip(probs, 0.0, 1.0)
    winner = np.argmax(probs, axis=2)
    shade = np.clip((probs.max(axis=2) - 1.0 / k) / (1.0 - 1.0 / k), 0.0, 1.0)
    tints = np.array([_rgb(_CLASS_TINTS[c % len(_CLASS_TINTS)]) for c in range(k)], float)
    rgb = 255.0 + (tints[winner] - 255.0) * shade[..., None]
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def boundary_frame_png(xs, ys, probs_grid, X_train, y_train, X_test=None, y_test=None, *,
                       task: str = "binary", width: int = 420, height: int = 420,
                       scale: float = 2.0) -> bytes:
    """The decision map of :func:`boundary_figure` as a PNG picture (for live training).

    Same colours and marks: the probability shading, the decision boundary (the 0.5 line of
    P(class 1), or where each class's probability meets the best other one) from
    :func:`contour_segments`, train points as filled circles, test points as hollow diamonds,
    equal axes over the grid. ``width`` x ``height`` CSS pixels, drawn at ``scale`` pixels
    per CSS pixel (2 = sharp on a projector or a high-density screen).
    """
    xs, ys = np.asarray(xs, dtype=float).ravel(), np.asarray(ys, dtype=float).ravel()
    probs = np.asarray(probs_grid, dtype=float)
    if task == "binary":
        if probs.ndim == 3:
            probs = probs[:, :, -1]
        n_classes = 2
        levels = [(probs, 0.5)]
    elif task == "multiclass":
        if probs.ndim != 3:
            raise ValueError("multiclass needs probs_grid of shape (ny, nx, k)")
        n_classes = probs.shape[2]
        clean = np.where(np.isfinite(probs), probs, 0.0)
        levels = [(clean[:, :, c] - np.delete(clean, c, axis=2).max(axis=2), 0.0)
                  for c in range(n_classes)]
    else:
        raise ValueError(f"task must be 'binary' or 'multiclass', got {task!r}")
    if probs.shape[:2] != (ys.size, xs.size):
        raise ValueError(f"probs_grid has shape {probs.shape}; expected "
                         f"({ys.size}, {xs.size}, ...) for the given xs, ys")
    canvas = _Raster(width, height, scale)
    # an equal-aspect plot area, as large as the margins allow, a colour bar on the right
    bar = 62 if task == "binary" else 12
    span_x, span_y = xs.max() - xs.min() or 1.0, ys.max() - ys.min() or 1.0
    room_w, room_h = width - 52 - bar, height - 14 - 44
    unit = min(room_w / span_x, room_h / span_y)
    left, top = 52 + (room_w - unit * span_x) / 2, 14 + (room_h - unit * span_y) / 2
    box = (left, top, left + unit * span_x, top + unit * span_y)
    panel = _Panel(canvas, box, (xs.min(), xs.max()), (ys.min(), ys.max()))

    from PIL import Image

    cells = _class_map_rgb(probs, task)[::-1]  # picture rows run top to bottom
    l_px, t_px, r_px, b_px = panel.clip()
    shading = Image.fromarray(np.ascontiguousarray(cells), "RGB").resize(
        (r_px - l_px, b_px - t_px), Image.BILINEAR)
    canvas.image.paste(shading, (l_px, t_px))
    for z, level in levels:
        for (ax, ay), (bx, by) in contour_segments(xs, ys, z, level):
            (p, q) = panel.px([ax, bx], [ay, by])
            canvas.draw.line([tuple(p), tuple(q)], fill=INK, width=round(3 * scale))
    _raster_points(panel, X_train, y_train, n_classes, "train")
    if X_test is not None and y_test is not None and len(X_test):
        _raster_points(panel, X_test, y_test, n_classes, "test")
    panel.frame(_nice_ticks(xs.min(), xs.max()), _nice_ticks(ys.min(), ys.max()))
    canvas.text(((box[0] + box[2]) / 2, box[3] + 26), "x1", 15, anchor="ma")
    canvas.text((box[0] - 40, (box[1] + box[3]) / 2), "x2", 15, anchor="mm")
    if task == "binary":
        _raster_colorbar(canvas, (box[2] + 14, box[1] + 0.1 * (box[3] - box[1]),
                                  box[2] + 28, box[3] - 0.1 * (box[3] - box[1])))
    return canvas.png()


def _raster_colorbar(canvas: _Raster, box) -> None:
    from PIL import Image

    left, top, right, bottom = (round(v * canvas.s) for v in box)
    u = np.linspace(1.0, 0.0, max(bottom - top, 2))
    strip = np.repeat(_scale_rgb(u, PROBABILITY_SCALE)[:, None, :], max(right - left, 1), axis=1)
    canvas.image.paste(Image.fromarray(np.ascontiguousarray(strip), "RGB"), (left, top))
    canvas.draw.rectangle([left, top, right, bottom], outline="#888888")
    for v in (0.0, 0.5, 1.0):
        y = (bottom - v * (bottom - top)) / canvas.s
        canvas.text((box[2] + 4, y), f"{v:g}", 13, anchor="lm")
    canvas.text(((box[0] + box[2]) / 2, box[1] - 4), "P", 13, anchor="mb")


def _raster_points(panel: _Panel, X, y, n_classes: int, split: str) -> None:
    X = np.asarray(X, dtype=float).reshape(-1, 2)
    labels = _labels(y, n_classes)
    keep = np.all(np.isfinite(X), axis=1)
    pts, labels = panel.px(X[keep, 0], X[keep, 1]), labels[keep]
    draw, s = panel.c.draw, panel.c.s
    # a big data set draws smaller dots, as a scatter of hundreds of 11-px circles is a blot
    radius = (5.5 if len(pts) <= 60 else 4.0 if len(pts) <= 400 else 3.0) * s
    for (px, py), c in zip(pts, labels, strict=True):
        color = CLASS_COLORS[c % len(CLASS_COLORS)]
        if split == "train":
            draw.ellipse([px - radius, py - radius, px + radius, py + radius], fill=color,
                         outline=INK, width=max(1, round(1.5 * s)))
        else:
            r = radius * 1.2
            draw.polygon([(px, py - r), (px + r, py), (px, py + r), (px - r, py)],
                         fill="#FFFFFF", outline=color, width=max(1, round(2.5 * s)))


def curves_frame_png(history: Mapping[str, object], *, width: int = 500, height: int = 420,
                     scale: float = 2.0) -> bytes:
    """The curves of :func:`curves_figure` as a PNG picture (for live training): loss on a
    log axis and, for classification, accuracy in percent, train solid blue, test dashed
    orange, each cut at its first non-finite value."""
    epoch = np.asarray(history["epoch"], dtype=float).ravel()
    has_acc = history.get("train_acc") is not None or history.get("test_acc") is not None
    canvas = _Raster(width, height, scale)
    styles = {"train": (BLUE, False), "test": (ORANGE, True)}
    x_hi = max(float(epoch.max()) if epoch.size else 1.0, 1.0)
    x_ticks = _nice_ticks(0.0, x_hi, 3 if has_acc else 5)
    gap, plot_top, plot_bottom = 70, 60, height - 52
    if has_acc:
        loss_box = (62, plot_top, (width - gap) / 2 + 10, plot_bottom)
        acc_box = (loss_box[2] + gap, plot_top, width - 20, plot_bottom)
    else:
        loss_box, acc_box = (62, plot_top, width - 20, plot_bottom), None
    series = {}
    for split in styles:
        loss = history.get(f"{split}_loss")
        if loss is not None:
            loss = np.asarray(loss, dtype=float).ravel()
            n = min(_finite_prefix(loss), epoch.size)
            series[split] = _log_safe(loss[:n])
    _log_lines(canvas, loss_box, epoch, x_hi, x_ticks,
               [(y, *styles[split]) for split, y in series.items()])
    canvas.text(((loss_box[0] + loss_box[2]) / 2, loss_box[1] - 8), t("network_viz.loss"), 17,
                anchor="mb")
    canvas.text(((loss_box[0] + loss_box[2]) / 2, loss_box[3] + 26), t("network_viz.epoch"),
                15, anchor="ma")
    if acc_box is not None:
        acc_panel = _Panel(canvas, acc_box, (0.0, x_hi), (0.0, 102.0))
        acc_panel.frame(x_ticks, [0, 20, 40, 60, 80, 100],
                        [f"{v} %" for v in (0, 20, 40, 60, 80, 100)], grid=True)
        for split in styles:
            acc = history.get(f"{split}_acc")
            if acc is None:
                continue
            acc = np.asarray(acc, dtype=float).ravel()
            n = min(_finite_prefix(acc), epoch.size)
            acc = acc[:n]
            percent = acc if acc.size and acc.max() > 1.0 else 100.0 * acc
            color, dash = styles[split]
            acc_panel.polyline(epoch[:n], percent, color, dash=dash)
        canvas.text(((acc_box[0] + acc_box[2]) / 2, acc_box[1] - 8),
                    t("network_viz.accuracy"), 17, anchor="mb")
        canvas.text(((acc_box[0] + acc_box[2]) / 2, acc_box[3] + 26), t("network_viz.epoch"),
                    15, anchor="ma")
    # legend, top right, as in the Plotly figure
    x = width - 20
    for split in reversed([s for s in styles if s in series
                           or history.get(f"{s}_acc") is not None]):
        color, dash = styles[split]
        label = t(f"network_viz.{split}")
        text_w = canvas.draw.textlength(label, font=canvas.font(14)) / canvas.s
        canvas.text((x, 16), label, 14, anchor="rm")
        x -= text_w + 6
        pts = [((x - 26) * canvas.s, 16 * canvas.s), (x * canvas.s, 16 * canvas.s)]
        canvas.draw.line(pts, fill=color, width=round(3 * canvas.s))
        x -= 40
    return canvas.png()


def _log_lines(canvas: _Raster, box, x, x_hi: float, x_ticks, lines) -> _Panel:
    """A log-y panel over whole decades with ``lines`` = [(y, colour, dashed), ...] drawn
    against ``x[:len(y)]`` (values must be positive: see :func:`_log_safe`)."""
    values = np.concatenate([y for y, _, _ in lines] or [np.ones(1)])
    values = values[np.isfinite(values) & (values > 0)]
    lo = math.floor(math.log10(values.min())) if values.size else -1
    hi = math.ceil(math.log10(values.max())) if values.size else 0
    hi = max(hi, lo + 1)
    panel = _Panel(canvas, box, (0.0, x_hi), (lo, hi), log_y=True)
    step = max(1, math.ceil((hi - lo) / 6))
    powers = list(range(lo, hi + 1, step))
    panel.frame(x_ticks, powers, [f"{10.0 ** p:g}" for p in powers], grid=True)
    for y, color, dash in lines:
        panel.polyline(x[:y.size], y, color, dash=dash)
    return panel


def grad_norm_frame_png(epochs, norms, layer_names: Sequence[str] | None = None, *,
                        width: int = 420, height: int = 380, scale: float = 2.0) -> bytes:
    """The chart of :func:`layer_grad_norm_figure` as a PNG picture (for live training):
    one line per layer on a log axis, light (input side) to dark (output side), each cut at
    its first non-finite value; the layer names as a legend on top."""
    epochs, norms, layer_names, floor = _grad_norm_series(epochs, norms, layer_names)
    n_layers = norms.shape[1]
    colors = [_blend("#9ECAE1", "#08306B", layer / max(n_layers - 1, 1))
              for layer in range(n_layers)]
    lines = []
    for layer in range(n_layers):
        n = min(_finite_prefix(norms[:, layer]), epochs.size)
        lines.append((np.maximum(norms[:n, layer], floor), colors[layer], False))
    canvas = _Raster(width, height, scale)
    box = (62, 40, width - 20, height - 52)
    x_hi = max(float(epochs.max()) if epochs.size else 1.0, 1.0)
    _log_lines(canvas, box, epochs, x_hi, _nice_ticks(0.0, x_hi), lines)
    canvas.text(((box[0] + box[2]) / 2, box[3] + 26), t("network_viz.epoch"), 15, anchor="ma")
    x = box[0]
    for name, color in zip(layer_names, colors, strict=False):
        canvas.draw.line([(x * canvas.s, 16 * canvas.s), ((x + 22) * canvas.s, 16 * canvas.s)],
                         fill=color, width=round(3 * canvas.s))
        canvas.text((x + 27, 16), str(name), 14, anchor="lm")
        x += 40 + canvas.draw.textlength(str(name), font=canvas.font(14)) / canvas.s
    return canvas.png()


def regression_frame_png(x_grid, y_pred, X_train, y_train, X_test=None, y_test=None, *,
                         width: int = 420, height: int = 420, scale: float = 2.0) -> bytes:
    """The 1-D fit of :func:`regression_figure` as a PNG picture (for live training):
    training points (blue circles), test points (hollow orange diamonds), the prediction as
    a thick dark line; non-finite values are left out."""
    x_grid = np.asarray(x_grid, dtype=float).ravel()
    y_pred = np.asarray(y_pred, dtype=float).ravel()
    ok = np.isfinite(x_grid) & np.isfinite(y_pred)
    clouds = []
    for X, y in ((X_train, y_train), (X_test, y_test)):
        if X is None or y is None:
            clouds.append(None)
            continue
        x, yy = np.asarray(X, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
        keep = np.isfinite(x) & np.isfinite(yy)
        clouds.append((x[keep], yy[keep]))
    all_x = np.concatenate([x_grid[ok]] + [c[0] for c in clouds if c is not None] + [[0.0]])
    all_y = np.concatenate([y_pred[ok]] + [c[1] for c in clouds if c is not None] + [[0.0]])
    pad_x = 0.03 * ((all_x.max() - all_x.min()) or 1.0)
    pad_y = 0.06 * ((all_y.max() - all_y.min()) or 1.0)
    canvas = _Raster(width, height, scale)
    panel = _Panel(canvas, (62, 14, width - 20, height - 52),
                   (all_x.min() - pad_x, all_x.max() + pad_x),
                   (all_y.min() - pad_y, all_y.max() + pad_y))
    panel.frame(_nice_ticks(*panel.x_range), list(_nice_ticks(*panel.y_range)), grid=True)
    draw, s = canvas.draw, canvas.s
    for cloud, split in zip(clouds, ("train", "test"), strict=True):
        if cloud is None:
            continue
        r = (4.5 if split == "train" else 6.0) * s
        for px, py in panel.px(*cloud):
            if split == "train":
                draw.ellipse([px - r, py - r, px + r, py + r], fill=BLUE, outline=INK,
                             width=max(1, round(s)))
            else:
                draw.polygon([(px, py - r), (px + r, py), (px, py + r), (px - r, py)],
                             fill="#FFFFFF", outline=ORANGE, width=max(1, round(2.5 * s)))
    panel.polyline(x_grid[ok], y_pred[ok], INK, width=4.0)
    canvas.text(((panel.box[0] + panel.box[2]) / 2, panel.box[3] + 26), "x", 15, anchor="ma")
    canvas.text((panel.box[0] - 48, (panel.box[1] + panel.box[3]) / 2), "y", 15, anchor="mm")
    return canvas.png()
