"""Training curves of the Neural-network page: loss and accuracy against the epoch, the
loss of several optimizers compared, and the gradient norm of each layer.

Each figure is built once per training run; during live training the canvas appends only
the new points (:func:`curves_series`, :func:`grad_norm_series`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from texts import t
from viz.encode import f32
from viz.network_style import (
    BLUE,
    CLASS_COLORS,
    INK,
    LOG_FLOOR,
    ORANGE,
    base_layout,
    finite_prefix,
    log_axis,
    log_safe,
)

__all__ = ['compare_loss_figure', 'curves_axes', 'curves_figure', 'curves_series',
           'grad_norm_series', 'layer_grad_norm_figure']


def _curve_series(history: Mapping[str, object]) -> list[dict]:
    """The lines of :func:`curves_figure`, in trace order: per split (train, test) its loss
    (column 1) and, for classification, its accuracy in percent (column 2); each cut at its
    first non-finite value."""
    epoch = np.asarray(history["epoch"], dtype=float).ravel()
    has_acc = history.get("train_acc") is not None or history.get("test_acc") is not None
    out = []
    for split in ("train", "test"):
        loss = history.get(f"{split}_loss")
        if loss is not None:
            loss = np.asarray(loss, dtype=float).ravel()
            n = min(finite_prefix(loss), epoch.size)
            out.append(dict(split=split, col=1, x=epoch[:n], y=log_safe(loss[:n]),
                            showlegend=True))
        acc = history.get(f"{split}_acc") if has_acc else None
        if acc is not None:
            acc = np.asarray(acc, dtype=float).ravel()
            n = min(finite_prefix(acc), epoch.size)
            acc = acc[:n]
            percent = acc if acc.size and acc.max() > 1.0 else 100.0 * acc
            out.append(dict(split=split, col=2, x=epoch[:n], y=percent,
                            showlegend=loss is None))
    return out


def curves_series(history: Mapping[str, object]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """x and y of every line of :func:`curves_figure`, in its trace order (what the live
    canvas appends to)."""
    lines = _curve_series(history)
    return [line["x"] for line in lines], [line["y"] for line in lines]


def curves_axes(history: Mapping[str, object]) -> dict:
    """The loss axis settings for ``history`` (a relayout: the tick spacing of a log axis
    depends on how many decades the loss spans, which changes while training)."""
    loss_lines = [line["y"] for line in _curve_series(history) if line["col"] == 1]
    return {f"yaxis.{name}": value for name, value in log_axis(loss_lines).items()}


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
    for line in _curve_series(history):
        split = line["split"]
        fig.add_trace(go.Scatter(x=f32(line["x"]), y=f32(line["y"]), mode=mode,
                                 line=styles[split], name=t(f"network_viz.{split}"),
                                 legendgroup=split, showlegend=line["showlegend"]),
                      row=1, col=line["col"])
    fig.update_yaxes(**log_axis([tr.y for tr in fig.data if tr.yaxis in (None, "y")]),
                     row=1, col=1)
    fig.update_xaxes(title=dict(text=t("network_viz.epoch")))
    if has_acc:
        fig.update_yaxes(range=[0, 102], ticksuffix=" %", row=1, col=2)
    fig.update_annotations(font=dict(size=17, color=INK))
    base_layout(fig, title, height)
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
        n = min(finite_prefix(loss), epochs.size)
        stop = diverged_at.get(name)
        if stop is not None and stop >= 0:
            n = min(n, int(stop) + 1)
        diverged = (stop is not None and stop >= 0) or n < loss.size
        y = log_safe(loss[:n])
        fig.add_trace(go.Scatter(x=f32(epochs[:n]), y=f32(y), mode="lines",
                                 line=dict(color=color, width=3), name=name, legendgroup=name))
        if diverged and n > 0:
            fig.add_trace(go.Scatter(
                x=f32(epochs[n - 1:n]), y=f32(y[n - 1:n]), mode="markers+text",
                marker=dict(symbol="x", size=16, color=color, line=dict(color=INK, width=1)),
                text=[t("network_viz.diverged")], textposition="top center",
                textfont=dict(size=14, color=color), legendgroup=name, showlegend=False,
                hovertemplate=f"{name}: {t('network_viz.diverged')}<extra></extra>"))
    fig.update_yaxes(**log_axis([tr.y for tr in fig.data]),
                     title=dict(text=t("network_viz.train_loss")))
    fig.update_xaxes(title=dict(text=t("network_viz.epoch")))
    return base_layout(fig, title, height)


# layers told apart without colour too (their blues are close under any colour vision)
LAYER_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
# one colour per layer, input side (orange) to output side (dark blue): ordered like the
# layers, yet far enough apart that five lines at the same height stay told apart
LAYER_COLORS = ("#F0A30A", "#E0533A", "#B52F8C", "#6A1B9A", "#1F3A93")


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
    Colours run from orange (input side) to dark blue (output side), each one distinct.
    """
    epochs, norms, layer_names, floor = _grad_norm_series(epochs, norms, layer_names)
    n_layers = norms.shape[1]
    fig = go.Figure()
    for layer in range(n_layers):
        col = norms[:, layer]
        n = min(finite_prefix(col), epochs.size)
        # the last layer is always dark blue; fewer layers take the colours before it
        color = LAYER_COLORS[max(len(LAYER_COLORS) - n_layers, 0) + layer
                             if n_layers <= len(LAYER_COLORS) else layer % len(LAYER_COLORS)]
        fig.add_trace(go.Scatter(x=f32(epochs[:n]), y=f32(np.maximum(col[:n], floor)),
                                 mode="lines", name=str(layer_names[layer]),
                                 line=dict(color=color, width=3,
                                           dash=LAYER_DASHES[layer % len(LAYER_DASHES)])))
    fig.update_yaxes(**log_axis([tr.y for tr in fig.data]),
                     title=dict(text=t("network_viz.grad_norm")))
    fig.update_xaxes(title=dict(text=t("network_viz.epoch")))
    return base_layout(fig, title, height)


def grad_norm_series(epochs, norms) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """x and y of every line of :func:`layer_grad_norm_figure`, in its trace order."""
    epochs, norms, _, floor = _grad_norm_series(epochs, norms, [""] * np.shape(norms)[-1])
    xs, ys = [], []
    for layer in range(norms.shape[1]):
        n = min(finite_prefix(norms[:, layer]), epochs.size)
        xs.append(epochs[:n])
        ys.append(np.maximum(norms[:n, layer], floor))
    return xs, ys
