"""Inside the network: the graph of its weights, what each hidden neuron computes over the
input plane, and the activation function with its derivative.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from texts import t
from viz.encode import f32, figure_dict, template
from viz.network_style import (
    BLUE,
    INK,
    MAX_SMALL_GRID,
    NEGATIVE_COLOR,
    ORANGE,
    POSITIVE_COLOR,
    SIGNED_SCALE,
    base_layout,
    base_layout_dict,
    equal_axes,
    grid_figure,
    subsample_grid,
)

__all__ = ['activation_figure', 'network_diagram', 'network_diagram_dict',
           'network_diagram_spec', 'neuron_maps']


WIDTH_LEVELS = 12  # line widths of the diagram: |w| / max |w| in twelve steps


def network_diagram_spec(sizes: Sequence[int], weights, *,
                         layer_names: Sequence[str] | None = None,
                         activations_text: Sequence[str] | None = None,
                         title: str | None = None, height: int = 460) -> dict:
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
    # One trace per (sign, width level), its segments separated by gaps, not one trace per
    # weight: a 2-12-12-12-1 network has 324 weights, and the browser redraws the diagram
    # while training plays. Plain dicts: go.Scatter objects cost ~1 ms each to validate.
    groups: dict[tuple[bool, int], tuple[list, list]] = {}
    mid_x, mid_y, mid_text, mid_color = [], [], [], []
    for layer, W in enumerate(mats):
        for i in range(W.shape[0]):
            x0, y0 = position(layer, i)
            for j in range(W.shape[1]):
                x1, y1 = position(layer + 1, j)
                w = float(W[i, j])
                level = min(WIDTH_LEVELS - 1, int(abs(w) / w_max * WIDTH_LEVELS))
                color = POSITIVE_COLOR if w >= 0 else NEGATIVE_COLOR
                xs_, ys_ = groups.setdefault((w >= 0, level), ([], []))
                xs_ += [x0, x1, None]
                ys_ += [y0, y1, None]
                # hover target a third of the way along: middles of crossing lines collide
                mid_x.append(x0 + (x1 - x0) * 0.35)
                mid_y.append(y0 + (y1 - y0) * 0.35)
                mid_text.append(t("network_viz.weight_hover", layer=layer + 1, i=i + 1, j=j + 1,
                                  w=w))
                mid_color.append(color)
    data = []
    for (positive, level), (xs_, ys_) in sorted(groups.items(), key=lambda g: g[0][1]):
        share = (level + 1) / WIDTH_LEVELS  # the widest level holds the largest |w|
        data.append(dict(type="scatter", x=xs_, y=ys_, mode="lines", hoverinfo="skip",
                         showlegend=False, opacity=0.35 + 0.65 * share,
                         line=dict(color=POSITIVE_COLOR if positive else NEGATIVE_COLOR,
                                   width=0.6 + 8.4 * share)))
    data.append(dict(type="scatter", x=f32(mid_x), y=f32(mid_y), mode="markers",
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
    data.append(dict(
        type="scatter", x=f32(node_x), y=f32(node_y), mode="markers", hovertext=node_text,
        hoverinfo="text", showlegend=False, name=t("network_viz.neurons"),
        marker=dict(size=node_size, color=f32(node_val), colorscale=SIGNED_SCALE,
                    cmin=-b_max, cmax=b_max, line=dict(color=INK, width=2), showscale=False)))
    annotations = []
    if layer_names is None:
        layer_names = ([t("network_viz.input_layer")]
                       + [t("network_viz.hidden_layer", layer=i) for i in range(1, n_cols - 1)]
                       + [t("network_viz.output_layer")])
    top = (tallest - 1) / 2.0 + 0.9
    side = 0.08 + node_size / 400.0  # clear of the circle
    for unit in range(sizes[0]):
        annotations.append(dict(x=-side, y=position(0, unit)[1], text=f"x<sub>{unit + 1}</sub>",
                                showarrow=False, xanchor="right",
                                font=dict(size=18, color=INK)))
    for unit in range(sizes[-1]):
        label = "ŷ" if sizes[-1] == 1 else f"ŷ<sub>{unit + 1}</sub>"
        annotations.append(dict(x=n_cols - 1 + side, y=position(n_cols - 1, unit)[1],
                                text=label, showarrow=False, xanchor="left",
                                font=dict(size=18, color=INK)))
    for layer in range(n_cols):
        label = str(layer_names[layer])
        if activations_text is not None and layer > 0 and layer - 1 < len(activations_text):
            label += f"<br><span style='font-size:14px'>{activations_text[layer - 1]}</span>"
        annotations.append(dict(x=layer, y=top, text=label, showarrow=False,
                                yanchor="bottom", font=dict(size=16, color=INK)))
    layout = base_layout_dict(title, height)
    layout.update(
        template=template("plotly_white"), annotations=annotations, hovermode="closest",
        margin=dict(l=10, r=10, t=60 if title else 10, b=10),
        xaxis=dict(visible=False, range=[-0.4, n_cols - 0.6], fixedrange=True),
        yaxis=dict(visible=False, range=[-(tallest - 1) / 2.0 - 0.7, top + 1.0],
                   fixedrange=True))
    return dict(data=data, layout=layout)


def network_diagram(sizes: Sequence[int], weights, **kwargs) -> go.Figure:
    """:func:`network_diagram_spec` as a ``go.Figure`` (validated by Plotly)."""
    return go.Figure(network_diagram_spec(sizes, weights, **kwargs))


def network_diagram_dict(sizes: Sequence[int], weights, **kwargs) -> dict:
    """:func:`network_diagram_spec` as a JSON-ready dict, without building Plotly objects
    (about 30 times cheaper: live training redraws it while it plays)."""
    return figure_dict(network_diagram_spec(sizes, weights, **kwargs))


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
            gx, gy, z = subsample_grid(xs, ys, h[:, :, j], MAX_SMALL_GRID)
            traces.append(dict(
                type="heatmap", x=f32(gx), y=f32(gy), z=f32(z), zmin=-bound, zmax=bound,
                colorscale=SIGNED_SCALE, showscale=False, zsmooth="best", xaxis=f"x{suffix}",
                yaxis=f"y{suffix}",
                hovertemplate=(t("network_viz.neuron_title", layer=li + 1, neuron=j + 1)
                               + "<br>x₁ %{x:.2f}<br>x₂ %{y:.2f}<br>a %{z:.3f}<extra></extra>")))
            axes.update(equal_axes(xs, ys, index, **frame))
    return grid_figure(traces, fig, axes, title, 40 + 175 * rows + (40 if title else 0), 14,
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
    fig.add_trace(go.Scatter(x=f32(z), y=f32(f), mode="lines", line=dict(color=BLUE, width=4),
                             name=t("network_viz.activation_f")))
    fig.add_trace(go.Scatter(x=f32(z), y=f32(df), mode="lines",
                             line=dict(color=ORANGE, width=4, dash="dash"),
                             name=t("network_viz.activation_df")))
    top = int(np.argmax(df))
    fig.add_trace(go.Scatter(
        x=f32(z[top:top + 1]), y=f32(df[top:top + 1]), mode="markers+text",
        marker=dict(size=12, color=ORANGE, line=dict(color=INK, width=1.5)),
        text=[t("network_viz.max_derivative", v=float(df[top]))], textposition="top right",
        textfont=dict(size=15, color=INK), showlegend=False, hoverinfo="skip"))
    fig.update_xaxes(title=dict(text="z"), zeroline=True, zerolinecolor="#BBBBBB")
    fig.update_yaxes(zeroline=True, zerolinecolor="#BBBBBB")
    base_layout(fig, act.title, height)
    fig.update_layout(legend=dict(orientation="h", yanchor="bottom", y=1.0, x=1.0,
                                  xanchor="right"))
    return fig
