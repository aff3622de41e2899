"""Figures of the Neural Network page (viz/network_*.py), checked trace by trace."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import datasets, mlp, optimizers
from texts import t
from viz import network_curves as ncurves
from viz import network_export as nexport
from viz import network_inside as ninside
from viz import network_map as nmap
from viz import network_stats as nstats
from viz import network_style as ns

# --------------------------------------------------------------------------- helpers


def numbers_in(obj, path="fig"):
    """Yield (path, value) for every number stored anywhere in a figure's JSON tree."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from numbers_in(value, f"{path}.{key}")
    elif isinstance(obj, list | tuple):
        for i, value in enumerate(obj):
            yield from numbers_in(value, f"{path}[{i}]")
    elif isinstance(obj, np.ndarray):
        if obj.dtype.kind in "fiu":
            yield path, obj
        elif obj.dtype == object:
            yield from numbers_in(list(obj.ravel()), path)
    elif isinstance(obj, float | np.floating):
        yield path, np.asarray(obj)


def assert_all_finite(fig: go.Figure):
    assert isinstance(fig, go.Figure)
    tree = {"data": [trace.to_plotly_json() for trace in fig.data],
            "layout": fig.layout.to_plotly_json()}
    for path, value in numbers_in(tree):
        assert np.all(np.isfinite(value)), f"non-finite number at {path}"
    # and what actually goes to the browser parses as strict JSON (no NaN/Infinity tokens)
    text = fig.to_json()
    assert "NaN" not in text and "Infinity" not in text


def is_key(trace) -> bool:
    """A legend key: a trace with one point at None, drawn only in the legend."""
    return isinstance(trace.x, tuple) and trace.x == (None,)


def frozen(a):
    """A read-only copy: a builder that writes into its input raises."""
    a = np.array(a, dtype=float)
    a.flags.writeable = False
    return a


def of_type(fig, kind):
    return [tr for tr in fig.data if tr.type == kind]


XS = np.linspace(-2.0, 2.0, 41)
YS = np.linspace(-1.5, 1.5, 31)
GX, GY = np.meshgrid(XS, YS)  # (ny, nx)
P1 = 1.0 / (1.0 + np.exp(-3.0 * GX * GY))  # saddle-shaped P(class 1): an XOR-like map
RNG = np.random.default_rng(0)
X_TRAIN = RNG.uniform(-1.5, 1.5, size=(30, 2))
Y_TRAIN = (X_TRAIN[:, 0] * X_TRAIN[:, 1] > 0).astype(int)
X_TEST = RNG.uniform(-1.5, 1.5, size=(10, 2))
Y_TEST = (X_TEST[:, 0] * X_TEST[:, 1] > 0).astype(int)


# --------------------------------------------------------------------------- boundary


def test_binary_boundary_has_heatmap_contour_at_half_and_styled_points():
    fig = nmap.boundary_figure(XS, YS, frozen(P1), frozen(X_TRAIN), Y_TRAIN, frozen(X_TEST),
                             Y_TEST, title="XOR")
    assert_all_finite(fig)
    # heat map + boundary + 2 train classes + 2 test classes + the legend's two keys
    assert [tr.type for tr in fig.data] == ["heatmap", "contour"] + ["scatter"] * 6
    keys = [tr for tr in fig.data if is_key(tr)]
    assert [tr.name for tr in fig.data if tr.showlegend is not False and tr.type == "scatter"
            ] == [k.name for k in keys] == [t("network_viz.train_points"),
                                             t("network_viz.test_points")]
    heat, contour = fig.data[0], fig.data[1]
    assert (heat.zmin, heat.zmax) == (0.0, 1.0)
    np.testing.assert_allclose(heat.z, P1, atol=1e-6)
    assert heat.z.dtype == np.float32
    assert contour.autocontour is False
    assert contour.contours.start == contour.contours.end == 0.5
    assert contour.contours.coloring == "lines"
    # with coloring="lines" the line takes its colour from the colour scale: all ink
    assert {color for _, color in contour.colorscale} == {ns.INK}
    # the colour scale is centred: 0.5 is white
    assert dict((p, c) for p, c in heat.colorscale)[0.5].upper() == "#FFFFFF"

    points = [tr for tr in fig.data[2:] if not is_key(tr)]
    train = [tr for tr in points if tr.marker.symbol == "circle"]
    test = [tr for tr in points if tr.marker.symbol == "diamond"]
    assert len(train) == len(test) == 2
    for c, trace in enumerate(train):
        assert trace.marker.color == ns.CLASS_COLORS[c]
        np.testing.assert_allclose(np.c_[trace.x, trace.y], X_TRAIN[Y_TRAIN == c], atol=1e-6)
    for c, trace in enumerate(test):
        # hollow: white fill, class colour on the outline
        assert trace.marker.color == "#FFFFFF"
        assert trace.marker.line.color == ns.CLASS_COLORS[c]
        np.testing.assert_allclose(np.c_[trace.x, trace.y], X_TEST[Y_TEST == c], atol=1e-6)
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio == 1
    assert tuple(fig.layout.xaxis.range) == (-2.0, 2.0)


def test_boundary_without_test_points_and_with_missing_class():
    y = np.zeros(len(X_TRAIN), dtype=int)  # only class 0 present
    fig = nmap.boundary_figure(XS, YS, P1, X_TRAIN, y)
    assert [tr.type for tr in fig.data] == ["heatmap", "contour", "scatter", "scatter"]
    assert fig.data[2].marker.color == ns.CLASS_COLORS[0]
    assert is_key(fig.data[3])  # the legend's key for training points


def test_boundary_of_a_blown_up_network_is_finite():
    probs = P1.copy()
    probs[3:9, 4:20] = np.nan
    probs[0, 0] = np.inf
    X = X_TRAIN.copy()
    X[0] = np.nan  # a broken point is left out, not drawn at NaN
    fig = nmap.boundary_figure(XS, YS, probs, X, Y_TRAIN)
    assert_all_finite(fig)
    assert fig.data[0].z[5, 10] == pytest.approx(0.5)  # unknown reads as undecided
    drawn = [tr for tr in of_type(fig, "scatter") if not is_key(tr)]
    assert sum(len(tr.x) for tr in drawn) == len(X) - 1


def test_boundary_accepts_column_probabilities_from_predict():
    fig = nmap.boundary_figure(XS, YS, P1[:, :, None], X_TRAIN, Y_TRAIN)
    np.testing.assert_allclose(fig.data[0].z, P1, atol=1e-6)


def test_big_grid_is_subsampled():
    xs, ys = np.linspace(0, 1, 301), np.linspace(0, 1, 250)
    fig = nmap.boundary_figure(xs, ys, np.full((250, 301), 0.3), X_TRAIN, Y_TRAIN)
    assert max(fig.data[0].z.shape) <= ns.MAX_GRID
    assert fig.data[0].z.shape == (len(fig.data[0].y), len(fig.data[0].x))


def test_multiclass_boundary_shows_argmax_and_one_border_per_class():
    k = 3
    centres = np.array([[-1.0, -1.0], [1.0, -1.0], [0.0, 1.0]])
    d2 = ((np.stack([GX, GY], -1)[:, :, None, :] - centres) ** 2).sum(-1)
    probs = np.exp(-d2) / np.exp(-d2).sum(-1, keepdims=True)  # (ny, nx, 3)
    labels = np.argmin(((X_TRAIN[:, None, :] - centres) ** 2).sum(-1), axis=1)
    one_hot = np.eye(k)[labels]
    fig = nmap.boundary_figure(XS, YS, probs, X_TRAIN, one_hot, task="multiclass")
    assert_all_finite(fig)
    heat = fig.data[0]
    assert heat.type == "heatmap"
    # integer part of z = the winning class, fraction = confidence above chance
    np.testing.assert_array_equal(np.floor(heat.z).astype(int), probs.argmax(-1))
    conf = probs.max(-1)
    expected_shade = np.clip((conf - 1 / k) / (1 - 1 / k), 0, 0.999)
    np.testing.assert_allclose(heat.z - np.floor(heat.z), expected_shade, atol=1e-5)
    contours = of_type(fig, "contour")
    assert len(contours) == k
    assert all(c.contours.start == c.contours.end == 0.0 for c in contours)
    points = of_type(fig, "scatter")
    assert len(points) == len(set(labels))
    assert {tr.marker.color for tr in points} == {ns.CLASS_COLORS[c] for c in set(labels)}


def test_boundary_rejects_mismatched_grid_and_unknown_task():
    with pytest.raises(ValueError, match="expected"):
        nmap.boundary_figure(XS, YS, P1.T, X_TRAIN, Y_TRAIN)
    with pytest.raises(ValueError, match="task"):
        nmap.boundary_figure(XS, YS, P1, X_TRAIN, Y_TRAIN, task="regression")


def test_small_multiples_one_map_per_run_on_a_shared_scale():
    probs = {"GD": P1, "Adam": 1 - P1, "Momentum": np.full_like(P1, np.nan),
             "RMSProp": P1 ** 2}
    fig = nmap.boundary_small_multiples(XS, YS, probs, X_TRAIN, Y_TRAIN)
    assert_all_finite(fig)
    heats = of_type(fig, "heatmap")
    assert len(heats) == 4
    assert {(h.zmin, h.zmax) for h in heats} == {(0.0, 1.0)}
    assert len(of_type(fig, "contour")) == 4
    assert [a.text for a in fig.layout.annotations] == list(probs)
    # four maps in a 3-column grid: two rows, each map on its own axes
    assert {h.xaxis for h in heats} == {"x", "x2", "x3", "x4"}
    # class legend shown once, not once per map
    assert sum(1 for tr in of_type(fig, "scatter") if tr.showlegend is not False) == 2


def test_regression_figure():
    x = np.linspace(-3, 3, 50)
    fig = nmap.regression_figure(x, np.sin(x), X_TRAIN[:, 0], np.sin(X_TRAIN[:, 0]),
                               X_TEST[:, 0], np.sin(X_TEST[:, 0]))
    assert_all_finite(fig)
    modes = [tr.mode for tr in fig.data]
    assert modes == ["markers", "markers", "lines"]
    np.testing.assert_allclose(fig.data[2].y, np.sin(x), atol=1e-6)
    assert fig.data[1].marker.symbol == "diamond"


# --------------------------------------------------------------------------- curves


def history(epochs=50):
    e = np.arange(epochs, dtype=float)
    return {"epoch": e, "train_loss": np.exp(-e / 10), "test_loss": np.exp(-e / 12) + 0.01,
            "train_acc": np.minimum(0.5 + e / 60, 1.0), "test_acc": np.minimum(0.5 + e / 80, 1)}


def test_curves_loss_is_log_and_accuracy_is_percent():
    h = history()
    fig = ncurves.curves_figure(h)
    assert_all_finite(fig)
    assert len(fig.data) == 4
    assert fig.layout.yaxis.type == "log"
    # 1.0 down to exp(-4.9) = 0.0074: more than two decades, one label per power of ten
    assert list(fig.layout.yaxis.tickvals) == pytest.approx([0.01, 0.1, 1.0])
    assert tuple(fig.layout.yaxis2.range) == (0, 102)
    acc = [tr for tr in fig.data if tr.yaxis == "y2"]
    assert len(acc) == 2
    np.testing.assert_allclose(acc[0].y, 100 * h["train_acc"], rtol=1e-6)


def test_curves_of_a_diverged_run_stop_at_the_last_finite_loss():
    h = history(20)
    h["train_loss"] = h["train_loss"].copy()
    h["train_loss"][12:] = np.inf
    h["train_loss"][5] = 0.0  # exactly zero cannot sit on a log axis
    fig = ncurves.curves_figure(h)
    assert_all_finite(fig)
    assert len(fig.data[0].x) == 12
    # the zero is drawn a decade below the smallest positive loss, not at 1e-300
    smallest = h["train_loss"][:12][h["train_loss"][:12] > 0].min()
    assert min(fig.data[0].y) == pytest.approx(smallest / 10, rel=1e-6)
    # 1 down to ~0.03 (and the floor): under two decades, labelled 1-2-5
    ticks = np.array(fig.layout.yaxis.tickvals)
    mantissas = np.round(ticks / 10.0 ** np.floor(np.log10(ticks) + 1e-9), 9)
    assert len(ticks) >= 3 and set(mantissas) <= {1.0, 2.0, 5.0}


def test_curves_for_regression_have_one_panel():
    h = history()
    h["train_acc"] = h["test_acc"] = None
    fig = ncurves.curves_figure(h)
    assert len(fig.data) == 2
    assert all(tr.yaxis == "y" for tr in fig.data)
    assert "yaxis2" not in fig.layout.to_plotly_json()


def test_compare_loss_marks_divergence_with_a_cross():
    epochs = np.arange(10)
    good = np.exp(-epochs / 3.0)
    bad = np.array([1.0, 3.0, 30.0, 1e4, np.inf, np.nan, np.nan, np.nan, np.nan, np.nan])
    fig = ncurves.compare_loss_figure(epochs, {"Adam": good, "GD lr=10": bad},
                                 {"Adam": "#0072B2", "GD lr=10": "#000000"},
                                 diverged_at={"Adam": None, "GD lr=10": 4})
    assert_all_finite(fig)
    lines = [tr for tr in fig.data if tr.mode == "lines"]
    crosses = [tr for tr in fig.data if tr.marker.symbol == "x"]
    assert [tr.name for tr in lines] == ["Adam", "GD lr=10"]
    assert len(crosses) == 1
    # the cross sits on the last finite value, in the run's colour
    assert crosses[0].x[0] == 3 and crosses[0].y[0] == pytest.approx(1e4)
    assert crosses[0].marker.color == "#000000"
    assert len(lines[1].x) == 4
    assert fig.layout.yaxis.type == "log"


def test_grad_norm_figure_log_axis_one_line_per_layer():
    epochs = np.arange(30)
    norms = np.stack([1e-6 * np.ones(30), 1e-3 * np.ones(30), np.ones(30)], axis=1)
    norms[10, 0] = 0.0  # dead ReLU layer: exactly zero
    norms[20:, 2] = np.nan
    fig = ncurves.layer_grad_norm_figure(epochs, frozen(norms), ["layer 1", "layer 2", "output"])
    assert_all_finite(fig)
    assert fig.layout.yaxis.type == "log"
    # seven decades: one label per power of ten, no 2-5 in between
    # (the zero is drawn at 10⁻⁷, a decade below the smallest norm)
    assert list(fig.layout.yaxis.ticktext) == ["10⁻⁷", "10⁻⁶", "10⁻⁵", "10⁻⁴", "0.001",
                                               "0.01", "0.1", "1"]
    assert [tr.name for tr in fig.data] == ["layer 1", "layer 2", "output"]
    assert min(fig.data[0].y) > 0
    assert len(fig.data[2].x) == 20
    assert len({tr.line.color for tr in fig.data}) == 3


def visible_ticks(axis: dict, values) -> list[float]:
    """Tick values that Plotly labels: inside the axis range, and the range covers the data."""
    a, b = axis["range"]
    data = np.asarray(values, dtype=float)
    assert 10 ** a <= data.min() and data.max() <= 10 ** b
    assert len(axis["ticktext"]) == len(axis["tickvals"])
    return [v for v in axis["tickvals"] if 10 ** a <= v <= 10 ** b]


@pytest.mark.parametrize("values", [
    [0.69315, 0.69313],             # XOR after one Step: the loss moved by 0.003 %
    [0.7, 0.7],                     # one point (epoch 0)
    [0.52, 0.71],                   # less than a factor of two: no 1-2-5 value inside
    [0.21, 0.29], [3.0, 7.0], [1500.0, 1600.0], [2e-5, 3e-5],
    [0.03, 1.0], [0.0074, 1.0],     # one or two decades
    [1e-6, 1.0], [1e-30, 1e3],      # many decades
])
def test_log_axis_labels_at_least_two_ticks_at_every_range(values):
    axis = ns.log_axis([np.array(values)])
    ticks = visible_ticks(axis, values)
    assert len(ticks) >= 2, axis
    assert len(set(axis["ticktext"])) == len(axis["ticktext"])  # no two labels alike
    # each label names its value
    for value, text in zip(axis["tickvals"], axis["ticktext"], strict=True):
        if "10" not in text or "·" not in text and not text.startswith("10"):
            assert float(text) == pytest.approx(value, rel=1e-9)


def test_log_axis_narrow_range_uses_round_evenly_spaced_values():
    axis = ns.log_axis([np.array([0.6931, 0.6930])])
    assert axis["ticktext"] == ["0.68", "0.69", "0.70", "0.71"]
    axis = ns.log_axis([np.array([0.21, 0.29])])
    assert axis["ticktext"] == ["0.225", "0.250", "0.275"]  # step 0.025: three decimals


@settings(max_examples=300, deadline=None)
@given(st.floats(-30, 30), st.floats(0, 40))
def test_log_axis_any_range_has_two_visible_labels(low, decades):
    values = np.array([10.0 ** low, 10.0 ** (low + decades)])
    assert len(visible_ticks(ns.log_axis([values]), values)) >= 2


def test_live_relayout_carries_the_loss_axis_ticks():
    h = history(2)
    h["train_loss"] = np.array([0.69315, 0.69313])
    h["test_loss"] = np.array([0.69316, 0.69315])
    relayout = ncurves.curves_axes(h)
    assert relayout["yaxis.tickmode"] == "array"
    assert len(relayout["yaxis.tickvals"]) >= 2
    json.dumps(relayout)  # plain numbers for the canvas


# --------------------------------------------------------------------------- inside the net


def test_network_diagram_one_segment_per_weight_width_by_magnitude_colour_by_sign():
    sizes = (2, 4, 3, 1)
    rng = np.random.default_rng(3)
    pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
    weights = [(rng.normal(size=(a, b)), rng.normal(size=b)) for a, b in pairs]
    fig = ninside.network_diagram(sizes, weights)
    assert_all_finite(fig)
    flat = np.concatenate([W.ravel() for W, _ in weights])  # order: layer, from, to
    # each weight is one segment (x0, x1, gap) of the line trace of its sign and width
    segments = {}
    for tr in (tr for tr in fig.data if tr.mode == "lines"):
        for k in range(0, len(tr.x), 3):
            key = (tr.x[k], tr.y[k], tr.x[k + 1], tr.y[k + 1])
            assert key not in segments and tr.x[k + 1] - tr.x[k] == 1 and tr.x[k + 2] is None
            segments[key] = (tr.line.width, tr.line.color)
    assert len(segments) == len(flat) == sum(a * b for a, b in pairs)  # 8 + 12 + 3
    position = {}
    for layer, (a, b) in enumerate(pairs):
        for i in range(a):
            for j in range(b):
                position[len(position)] = (layer, (a - 1) / 2 - i, layer + 1, (b - 1) / 2 - j)
    widths = np.array([segments[position[k]][0] for k in range(len(flat))])
    colors = [segments[position[k]][1] for k in range(len(flat))]
    # wider for larger |w| (in twelve levels), the largest at 9 px; colour by sign
    order = np.argsort(np.abs(flat))
    assert np.all(np.diff(widths[order]) >= 0) and widths[order[-1]] > widths[order[0]]
    assert widths[np.argmax(np.abs(flat))] == pytest.approx(9.0)
    for w, color in zip(flat, colors, strict=True):
        assert color == (ns.POSITIVE_COLOR if w > 0 else ns.NEGATIVE_COLOR)
    # hover: each weight's value, each neuron's bias
    hover = next(tr for tr in fig.data if tr.name == t("network_viz.weights"))
    assert len(hover.hovertext) == len(flat)
    assert f"{flat[5]:+.3f}" in hover.hovertext[5]
    nodes = next(tr for tr in fig.data if tr.name == t("network_viz.neurons"))
    assert len(nodes.x) == sum(sizes)
    assert f"{weights[1][1][2]:+.3f}" in nodes.hovertext[2 + 4 + 2]


def test_network_diagram_checks_shapes_and_survives_nan():
    with pytest.raises(ValueError, match="layer 1"):
        ninside.network_diagram((2, 3, 1), [(np.ones((3, 2)), np.ones(3)), (np.ones((3, 1)),
                                                                         np.ones(1))])
    W = np.array([[np.nan, 1.0], [2.0, np.inf]])
    fig = ninside.network_diagram((2, 2), [(W, np.array([np.nan, 0.0]))])
    assert_all_finite(fig)


def test_neuron_maps_one_subplot_per_hidden_neuron():
    hidden = [np.tanh(GX[:, :, None] * np.arange(1, 5)), np.tanh(GY[:, :, None] * [1.0, -2.0])]
    fig = ninside.neuron_maps(XS, YS, hidden)
    assert_all_finite(fig)
    heats = of_type(fig, "heatmap")
    assert len(heats) == 4 + 2
    titles = [a.text for a in fig.layout.annotations if a.text]
    assert titles == [f"layer 1, neuron {j}" for j in range(1, 5)] + [
        "layer 2, neuron 1", "layer 2, neuron 2"]
    np.testing.assert_allclose(heats[5].z, np.tanh(-2.0 * GY), atol=1e-6)
    # one symmetric scale per layer
    assert {(h.zmin, h.zmax) for h in heats[:4]} == {(-heats[0].zmax, heats[0].zmax)}
    assert heats[0].zmax == pytest.approx(np.abs(hidden[0]).max())


def test_neuron_maps_wrap_wide_layers():
    hidden = [np.ones((5, 6, 12))]
    fig = ninside.neuron_maps(np.arange(6.0), np.arange(5.0), hidden, max_columns=8)
    assert len(of_type(fig, "heatmap")) == 12


def test_activation_figure_marks_the_derivative_maximum():
    fig = ninside.activation_figure("sigmoid")
    assert_all_finite(fig)
    f, df, mark = fig.data
    z = np.asarray(f.x, dtype=float)
    np.testing.assert_allclose(f.y, 1 / (1 + np.exp(-z)), atol=1e-6)
    np.testing.assert_allclose(df.y, np.exp(-z) / (1 + np.exp(-z)) ** 2, atol=1e-6)
    assert mark.x[0] == pytest.approx(0.0) and mark.y[0] == pytest.approx(0.25)
    assert "0.25" in mark.text[0]
    for name in mlp.ACTIVATIONS:
        assert_all_finite(ninside.activation_figure(name))
    with pytest.raises(ValueError, match="unknown activation"):
        ninside.activation_figure("swish")


# --------------------------------------------------------------------------- seed statistics


def test_seed_summary_against_hand_computation():
    s = nstats.seed_statistics_summary([40, -1, 10, 30, 20, -1])
    # solved: 10, 20, 30, 40 -> median 25; p90 at rank 0.9 * 3 = 2.7 -> 30 + 0.7 * 10 = 37
    assert s == {"n": 6, "n_solved": 4, "success_rate": pytest.approx(4 / 6),
                 "median": pytest.approx(25.0), "p90": pytest.approx(37.0)}
    assert nstats.seed_statistics_summary([7]) == {"n": 1, "n_solved": 1, "success_rate": 1.0,
                                               "median": 7.0, "p90": 7.0}


def test_seed_summary_when_no_seed_solves():
    s = nstats.seed_statistics_summary(np.full(5, -1))
    assert s == {"n": 5, "n_solved": 0, "success_rate": 0.0, "median": None, "p90": None}


def test_seed_figure_counts_and_annotation():
    e = np.array([5, 15, 15, 95, -1, -1, -1])
    fig = nstats.seed_statistics_figure(e, max_epochs=100, bins=10)
    assert_all_finite(fig)
    solved, never = of_type(fig, "bar")
    np.testing.assert_array_equal(solved.y, [1, 2, 0, 0, 0, 0, 0, 0, 0, 1])
    assert list(never.y) == [3]
    assert never.x[0] > 100  # beyond the last epoch
    texts_on_chart = [a.text for a in fig.layout.annotations]
    assert "solved 4 / 7" in texts_on_chart
    assert any("median 15" in text for text in texts_on_chart)


def test_seed_figure_when_no_seed_solves():
    fig = nstats.seed_statistics_figure(np.full(4, -1), max_epochs=50)
    assert_all_finite(fig)
    solved, never = of_type(fig, "bar")
    assert solved.y.sum() == 0 and list(never.y) == [4]
    assert "solved 0 / 4" in [a.text for a in fig.layout.annotations]


# --------------------------------------------------------------------------- downloads


@pytest.mark.parametrize("batch_norm", [False, True])
def test_weights_json_round_trips(batch_norm):
    net = mlp.Network(sizes=(2, 5, 3, 1), activation="relu", batch_norm=batch_norm)
    theta = net.init(n_networks=3, scheme="he", seed=4)
    config = {"optimizer": "adam", "lr": np.float64(0.01), "epochs": np.int64(300),
              "betas": (0.9, 0.999), "bad": float("nan")}
    doc = json.loads(nexport.weights_json(net, theta[1], config))
    assert doc["sizes"] == [2, 5, 3, 1]
    assert (doc["activation"], doc["output"], doc["loss"]) == ("relu", "sigmoid", "bce")
    assert doc["config"] == {"optimizer": "adam", "lr": 0.01, "epochs": 300,
                             "betas": [0.9, 0.999], "bad": None}
    assert len(doc["layers"]) == 3
    for (W, b), layer in zip(net.unpack(theta), doc["layers"], strict=True):
        assert np.array(layer["W"]).shape == W.shape[1:]
        np.testing.assert_array_equal(np.array(layer["W"]), W[1])
        np.testing.assert_array_equal(np.array(layer["b"]), b[1])
    if batch_norm:
        assert [len(p["gamma"]) for p in doc["batch_norm_params"]] == [5, 3]
    else:
        assert "batch_norm_params" not in doc
    # rebuilding theta from the file gives the same network
    rebuilt = net.pack([(np.array(L["W"])[None], np.array(L["b"])[None]) for L in doc["layers"]],
                       [(np.array(p["gamma"])[None], np.array(p["beta"])[None])
                        for p in doc.get("batch_norm_params", [])] or None)
    np.testing.assert_array_equal(rebuilt[0], theta[1])


def test_weights_json_writes_non_finite_as_null():
    net = mlp.Network(sizes=(2, 1))
    theta = np.array([np.nan, 1.0, np.inf])
    doc = json.loads(nexport.weights_json(net, theta, {}))
    assert doc["layers"][0]["W"] == [[None], [1.0]]
    assert doc["layers"][0]["b"] == [None]


def test_history_csv_columns_and_values():
    h = history(5)
    h["train_loss"] = h["train_loss"].copy()
    h["train_loss"][4] = np.nan
    h["grad_norm"] = np.arange(15.0).reshape(5, 3)
    h["note"] = "not a series"
    text = nexport.history_csv(h)
    frame = pd.read_csv(io.StringIO(text))
    assert list(frame.columns) == ["epoch", "train_loss", "test_loss", "train_acc", "test_acc",
                                   "grad_norm_1", "grad_norm_2", "grad_norm_3"]
    assert len(frame) == 5
    np.testing.assert_allclose(frame["train_loss"][:4], h["train_loss"][:4])
    assert np.isnan(frame["train_loss"][4])  # written as an empty cell
    np.testing.assert_allclose(frame["grad_norm_2"], [1, 4, 7, 10, 13])
    assert "nan" not in text.lower()


def test_history_csv_skips_missing_series():
    h = history(3)
    h["test_loss"] = h["test_acc"] = None
    frame = pd.read_csv(io.StringIO(nexport.history_csv(h)))
    assert list(frame.columns) == ["epoch", "train_loss", "train_acc"]


# --------------------------------------------------------------------------- real engine


@pytest.fixture(scope="module")
def trained_xor():
    """A 2-4-1 tanh network trained on the XOR truth table with Adam."""
    X, y = datasets.make("xor")
    net = mlp.Network(sizes=(2, 4, 1), activation="tanh", output="sigmoid", loss="bce")
    theta = net.init(n_networks=1, scheme="xavier", seed=1)
    result = mlp.train(net, theta, X, y, optimizers.make("adam", lr=0.05), epochs=600)
    assert not result.diverged.any()
    return net, result, X, y


def test_real_xor_network_boundary_separates_the_four_points(trained_xor):
    net, result, X, y = trained_xor
    xs = np.linspace(-0.5, 1.5, 81)
    ys = np.linspace(-0.5, 1.5, 81)
    grid = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
    out, hidden = net.forward(result.theta, grid)
    probs = out[0, :, 0].reshape(81, 81)
    fig = nmap.boundary_figure(xs, ys, probs, X, y)
    assert_all_finite(fig)
    heat = fig.data[0]
    for (x1, x2), label in zip(X, y, strict=True):
        i, j = np.argmin(np.abs(ys - x2)), np.argmin(np.abs(xs - x1))
        assert (heat.z[i, j] > 0.5) == bool(label)
    maps = ninside.neuron_maps(xs, ys, [h[0].reshape(81, 81, -1) for h in hidden])
    assert len(of_type(maps, "heatmap")) == 4
    diagram = ninside.network_diagram(net.sizes, [(W[0], b[0]) for W, b in
                                             net.unpack(result.theta)])
    segments = sum(len(tr.x) // 3 for tr in diagram.data if tr.mode == "lines")
    assert segments == 2 * 4 + 4 * 1  # one per weight


def test_real_training_history_figures(trained_xor):
    net, result, X, y = trained_xor
    epochs = np.arange(result.grad_norms.shape[0])
    fig = ncurves.layer_grad_norm_figure(epochs, result.grad_norms[:, 0, :])
    assert_all_finite(fig)
    assert len(fig.data) == net.n_layers
    curves = ncurves.curves_figure({"epoch": np.arange(result.loss.shape[0]),
                               "train_loss": result.loss[:, 0], "test_loss": None,
                               "train_acc": None, "test_acc": None})
    assert_all_finite(curves)
    np.testing.assert_allclose(curves.data[0].y, result.loss[:, 0], rtol=1e-6)


def test_curves_before_the_first_epoch_show_their_single_point():
    one = {"epoch": np.array([0.0]), "train_loss": np.array([0.7]),
           "train_acc": np.array([0.5])}
    fig = ncurves.curves_figure(one)
    assert fig.data and all("markers" in trace.mode for trace in fig.data)
    two = {"epoch": np.array([0.0, 1.0]), "train_loss": np.array([0.7, 0.6]),
           "train_acc": np.array([0.5, 0.75])}
    assert all(trace.mode == "lines" for trace in ncurves.curves_figure(two).data)
