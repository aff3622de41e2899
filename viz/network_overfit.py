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
from viz.network_style import INK, SMALL_FONT, base_layout, log_axis, log_safe

__all__ = ["SPLIT_DASH", "cures_figure", "weight_histogram", "weight_histograms_figure"]

# the split of a line is told by its dash, the cure by its colour
SPLIT_DASH = {"train": "solid", "validation": "dot", "test": "dash"}


def cures_figure(epochs, lines: Sequence[Mapping], *, early: Mapping | None = None,
                 y_title: str = "", x_title: str = "", height: int = 460) -> go.Figure:
    """Loss against the epoch on a log axis, one colour per cure, one dash per split.

    ``lines``: dicts with ``name`` (legend text), ``color``, ``split`` (a key of
    :data:`SPLIT_DASH`) and ``y`` (K,) at ``epochs`` (K,). ``early``: the early-stopping
    marks, a dict with ``stopped_at`` (epoch training stops: a vertical line labelled
    ``stop_label``), ``kept_epoch`` and ``kept_loss`` (the test loss of the weights it
    keeps: a star labelled ``kept_label``) and ``color``.
    """
    epochs = np.asarray(epochs, dtype=float)
    fig = go.Figure()
    for line in lines:
        y = log_safe(np.asarray(line["y"], dtype=float))
        fig.add_trace(go.Scatter(
            x=f32(epochs), y=f32(y), mode="lines", name=line["name"],
            line=dict(color=line["color"], width=3.5 if line["split"] == "test" else 2.5,
                      dash=SPLIT_DASH[line["split"]]),
            hovertemplate=f"{line['name']}: %{{y:.4g}} (%{{x:.0f}})<extra></extra>"))
    ys = [tr.y for tr in fig.data]
    if early is not None:
        fig.add_trace(go.Scatter(
            x=[float(early["kept_epoch"])], y=[float(early["kept_loss"])],
            mode="markers", name=early["kept_label"],
            marker=dict(symbol="star", size=20, color=early["color"],
                        line=dict(color=INK, width=1.5)),
            hovertemplate=f"{early['kept_label']}: %{{y:.4g}}<extra></extra>"))
        fig.add_vline(x=float(early["stopped_at"]), line=dict(color=early["color"], width=2.5,
                                                              dash="dashdot"))
        fig.add_annotation(x=float(early["stopped_at"]), y=1.0, yref="paper", yanchor="bottom",
                           text=early["stop_label"], showarrow=False, xanchor="left",
                           font=dict(size=15, color=early["color"]))
        ys.append([float(early["kept_loss"])])
    fig.update_yaxes(**log_axis(ys), title=dict(text=y_title))
    fig.update_xaxes(title=dict(text=x_title), range=[0, float(epochs.max())])
    base_layout(fig, None, height)
    fig.update_layout(legend=dict(font=SMALL_FONT, orientation="v", x=1.01, xanchor="left",
                                  y=1.0, yanchor="top"),
                      margin=dict(t=40, r=10))
    return fig


def weight_histogram(weights, half_width: float, bins: int = 121) -> tuple[np.ndarray,
                                                                            np.ndarray]:
    """(bin centres (bins,), counts (bins,)): ``bins`` equal bins over
    [-half_width, half_width], one of them centred on 0 (the near-zero weights), values
    beyond the range counted in the outermost bins."""
    width = 2 * half_width / bins
    centres = (np.arange(bins) - bins // 2) * width
    index = np.clip(np.rint(np.asarray(weights, dtype=float).ravel() / width) + bins // 2,
                    0, bins - 1).astype(int)
    return centres, np.bincount(index, minlength=bins).astype(float)


def weights_extent(weights: Mapping[str, np.ndarray]) -> float:
    """Half width of the histograms: the largest |w| of any network, rounded up to 0.5."""
    largest = max(float(np.max(np.abs(w))) for w in weights.values())
    return max(0.5, float(np.ceil(largest * 2) / 2))


def weight_histograms_figure(weights: Mapping[str, np.ndarray], colors: Mapping[str, str],
                             titles: Mapping[str, str], *, x_title: str = "",
                             y_title: str = "", height: int = 330) -> go.Figure:
    """One histogram of weight values per network (``weights``: key -> (n,)), side by side
    on the same x range, each with its own count axis (L1's spike at 0 would flatten the
    others): ``titles[key]`` above each panel."""
    keys = list(weights)
    half = weights_extent(weights)
    fig = make_subplots(rows=1, cols=len(keys), horizontal_spacing=0.06,
                        subplot_titles=[titles[k] for k in keys])
    for i, key in enumerate(keys, start=1):
        centres, counts = weight_histogram(weights[key], half)
        fig.add_trace(go.Bar(x=f32(centres), y=f32(counts), marker=dict(color=colors[key]),
                             name=titles[key], showlegend=False,
                             hovertemplate="w ≈ %{x:.2f}: %{y:.0f}<extra></extra>"),
                      row=1, col=i)
        fig.update_xaxes(range=[-half, half], title=dict(text=x_title), row=1, col=i)
    fig.update_yaxes(title=dict(text=y_title), row=1, col=1)
    fig.update_layout(bargap=0.0)
    fig.update_annotations(font=dict(size=16, color=INK))
    base_layout(fig, None, height)
    fig.update_layout(margin=dict(t=50))
    return fig
