"""Figures of the Functions page: finite data, readable fonts, the right traces."""

from __future__ import annotations

import numpy as np
import pytest

from engine import functions as fn
from viz import functions as vf


def _finite(fig):
    for trace in fig.data:
        for axis in ("x", "y", "z"):
            values = getattr(trace, axis, None)
            if values is not None and np.asarray(values).dtype.kind in "fiu":
                assert np.all(np.isfinite(np.asarray(values, dtype=float))), trace.name


def _readable(fig):
    layout = fig.layout
    assert layout.font.size >= 14
    for axis in [a for a in dir(layout) if a.startswith(("xaxis", "yaxis"))]:
        assert getattr(layout, axis).tickfont.size >= 14


def figures():
    z = np.linspace(-8, 8, 101)
    sweep = fn.loss_vs_accuracy([-1.0, 0.0, 1.0], [0, 1, 1], 2.0)
    x = np.linspace(-2, 2, 9)
    dead = fn.dying_relu(x, x, 1.0, -5.0)
    grid = np.linspace(0.01, 0.99, 50)
    return [
        vf.activation_figure(z, fn.activation("relu", z), fn.derivative("relu", z),
                             name="ReLU", key="relu", max_derivative=1.0, point=(0.5, 0.5, 1)),
        vf.derivative_product_figure(5, {"relu": fn.derivative_product("relu", -1.0, 5),
                                         "sigmoid": fn.derivative_product("sigmoid", 0.0, 5)},
                                     {"relu": "ReLU", "sigmoid": "σ"}),
        vf.linear_stack_figure(x, 2 * x, np.tanh(x), linear_name="a", bent_name="b"),
        vf.dying_relu_figure(x, dead.z, dead.alive),
        vf.softmax_figure(np.array([2.0, 1.0, 0.1]), fn.softmax([2.0, 1.0, 0.1])),
        vf.loss_figure(grid, fn.LOSSES["bce"].value(grid, 1.0), fn.LOSSES["bce"].grad(grid, 1.0),
                       name="BCE", point=(0.5, 0.69, -2.0), x_title="ŷ"),
        vf.accuracy_loss_figure(sweep.b, sweep.loss, sweep.accuracy),
        vf.perceptron_figure(0.5, 0.5, -0.7, fn.GATES["xor"], fn.perceptron(0.5, 0.5, -0.7)),
    ]


@pytest.mark.parametrize("index", range(8))
def test_figures_are_finite_and_readable(index):
    fig = figures()[index]
    _finite(fig)
    _readable(fig)


def test_dead_relu_product_is_left_out_of_the_log_axis_and_labelled():
    fig = figures()[1]
    relu = fig.data[0]
    assert len(relu.x) == 0 and "0" in relu.name
    assert fig.layout.yaxis.type == "log"


def test_perceptron_marks_exactly_the_wrong_rows():
    fig = vf.perceptron_figure(0.5, 0.5, -0.7, fn.GATES["xor"], fn.perceptron(0.5, 0.5, -0.7))
    rings = fig.data[-1]
    assert len(rings.x) == 3   # AND's setting gets 3 of XOR's 4 rows wrong
    fig = vf.perceptron_figure(0.5, 0.5, -0.7, fn.GATES["and"], fn.perceptron(0.5, 0.5, -0.7))
    assert len(fig.data) == 4   # region, line, two classes: no ring trace
