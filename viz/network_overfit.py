"""Figures of the "Overfitting and its cures" scenario (engine/overfitting.py): the loss
curves of each cure against the epoch, and histograms of the trained weights.

Arrays in, figures out; names and colours come from the caller (the page), so the figures
hold no language of their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from viz.encode import f32
from viz.network_style import INK, SMALL_FONT, base_layout, log_axis, log_safe, tick_label

__all__ = ["SPLIT_DASH", "cures_figure", "weight_histogram", "weight_histograms_figure"]

# the split of a line is told by its dash, the cure by its colour
SPLIT_DASH = {"train": "solid", "validation": "dot", "test": "dash"}


def cures_figure(epochs, lines: Sequence[Mapping], *, early: Mapping | None = None,
                 titles: tuple[str, str] = ("", ""), x_title: str = "",
                 height: int = 460) -> go.Figure:
    """Two panels against the epoch, one colour per cure: the training loss on a log axis
    (left: it falls by decades) and the validation and test losses on a linear axis from 0
    (right: the rise of the test loss reads as a rise).

    ``lines``: dicts with ``name`` (legend text), ``group`` (one legend entry per group),
    ``color``, ``split`` (a key of :data:`SPLIT_DASH`; train goes left, the others right)
    and ``y`` (K,) at ``epochs`` (K,). ``early``: the early-stopping marks, a dict with
    ``stopped_at`` (epoch training stops: a vertical line in both panels, labelled
    ``stop_label``), ``kept_epoch`` and ``kept_loss`` (the test loss of the weights it
    keeps: a star labelled ``kept_label``) and ``color``.
    """
    epochs = np.asarray(epochs, dtype=float)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.09, subplot_titles=titles)
    seen: set[str] = set()
    left, right = [], [0.0]
    for line in lines:
        col = 1 if line["split"] == "train" else 2
        y = np.asarray(line["y"], dtype=float)
        y = log_safe(y) if col == 1 else np.nan_to_num(y, nan=0.0, posinf=0.0)
        (left if col == 1 else right).append(y)
        first = line["group"] not in seen
        seen.add(line["group"])
        fig.add_trace(go.Scatter(
            x=f32(epochs), y=f32(y), mode="lines", name=line["name"],
            legendgroup=line["group"], showlegend=first,
            line=dict(color=line["color"], width=3.5 if line["split"] == "test" else 2.5,
                      dash=SPLIT_DASH[line["split"]]),
            hovertemplate=f"{line['name']}: %{{y:.4g}} (%{{x:.0f}})<extra></extra>"),
            row=1, col=col)
    if early is not None:
        fig.add_trace(go.Scatter(
            x=[float(early["kept_epoch"])], y=[float(early["kept_loss"])],
            mode="markers", name=early["kept_label"],
            marker=dict(symbol="star", size=22, color=early["color"],
                        line=dict(color=INK, width=1.5)),
            hovertemplate=f"{early['kept_label']}: %{{y:.4g}}<extra></extra>"), row=1, col=2)
        for col in (1, 2):
            fig.add_vline(x=float(early["stopped_at"]), row=1, col=col,
                          line=dict(color=early["color"], width=2.5, dash="dashdot"))
        fig.add_annotation(x=float(early["stopped_at"]), y=0.02, xref="x2", yref="y2 domain",
                           yanchor="bottom", xanchor="left", showarrow=False,
                           text=" " + early["stop_label"],
                           font=dict(size=15, color=early["color"]))
    top = max(float(np.max(y)) for y in right)
    fig.update_yaxes(**log_axis(left), row=1, col=1)
    fig.update_yaxes(range=[0, 1.05 * top], row=1, col=2)
    fig.update_xaxes(title=dict(text=x_title), range=[0, float(epochs.max())])
    base_layout(fig, None, height)
    fig.update_annotations(font=dict(size=16, color=INK), selector=dict(showarrow=None))
    fig.update_layout(legend=dict(font=SMALL_FONT, orientation="h", x=0.0, xanchor="left",
                                  y=-0.2, yanchor="top"),
                      margin=dict(t=40, r=20, b=40))
    return fig


def weight_histogram(weights, low: float = 1e-6, high: float = 10.0,
                     per_decade: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of the sizes |w| on a log scale: (bin centres (n,), counts (n,)) for
    ``per_decade`` equal bins per decade of |w| from ``low`` to ``high`` (bin centres at the
    geometric middle); a |w| outside the range (0 included) is counted in the outermost
    bin, so the counts add up to the number of weights."""
    edges = np.linspace(np.log10(low), np.log10(high),
                        int(round(np.log10(high / low) * per_decade)) + 1)
    size = np.abs(np.asarray(weights, dtype=float).ravel())
    logs = np.log10(np.maximum(size, np.finfo(float).tiny))
    index = np.clip(np.searchsorted(edges, logs, side="right") - 1, 0, edges.size - 2)
    counts = np.bincount(index, minlength=edges.size - 1).astype(float)
    return 10.0 ** ((edges[:-1] + edges[1:]) / 2), counts


def weight_histograms_figure(weights: Mapping[str, np.ndarray], colors: Mapping[str, str],
                             titles: Mapping[str, str], *, threshold: float,
                             threshold_label: str = "", x_title: str = "",
                             y_title: str = "", height: int = 330) -> go.Figure:
    """One histogram of |w| (log axis, :func:`weight_histogram`) per network
    (``weights``: key -> (n,)), side by side on the same axis, with a dashed line at
    ``threshold``: what lies left of it is "(nearly) zero". L1 piles its weights there; L2
    keeps them right of it but far left of the uncured network's."""
    keys = list(weights)
    fig = make_subplots(rows=1, cols=len(keys), horizontal_spacing=0.06,
                        subplot_titles=[titles[k] for k in keys])
    ticks = [1e-6, 1e-4, 1e-2, 1.0]  # every second decade: four labels fit a narrow panel
    x_axis = dict(type="log", range=[-6.2, 1.2], tickmode="array", tickvals=ticks,
                  ticktext=[tick_label(v, ticks) for v in ticks], tickangle=0)
    for i, key in enumerate(keys, start=1):
        centres, counts = weight_histogram(weights[key])
        fig.add_trace(go.Scatter(x=f32(centres), y=f32(counts), mode="lines",
                                 line=dict(color=colors[key], width=2, shape="hvh"),
                                 fill="tozeroy", name=titles[key], showlegend=False,
                                 hovertemplate="|w| ≈ %{x:.2g}: %{y:.0f}<extra></extra>"),
                      row=1, col=i)
        fig.add_vline(x=threshold, row=1, col=i, line=dict(color=INK, width=2, dash="dash"))
        fig.update_xaxes(**x_axis, title=dict(text=x_title), row=1, col=i)
    if threshold_label:
        fig.add_annotation(x=np.log10(threshold), y=1.0, xref="x", yref="y domain",
                           text=threshold_label, showarrow=False, xanchor="right",
                           yanchor="top", font=dict(size=14, color=INK))
    fig.update_yaxes(rangemode="tozero")
    fig.update_yaxes(title=dict(text=y_title), row=1, col=1)
    base_layout(fig, None, height)
    fig.update_annotations(font=dict(size=16, color=INK), selector=dict(showarrow=None))
    fig.update_layout(margin=dict(t=70))
    return fig
