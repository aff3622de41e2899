"""Activations, softmax, losses, vanishing products, dying ReLU, the perceptron: each number
against a written-out formula, finite differences or the networks' own engine."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import datasets, mlp
from engine import functions as fn

Z = np.linspace(-8, 8, 16001)


def central(f, z, h=1e-6):
    return (f(z + h) - f(z - h)) / (2 * h)


@pytest.mark.parametrize("key", ["sigmoid", "tanh", "relu", "leaky_relu", "linear"])
def test_network_activations_are_the_engines_own(key):
    np.testing.assert_array_equal(fn.activation(key, Z), mlp.ACTIVATIONS[key].f(Z))
    np.testing.assert_array_equal(fn.derivative(key, Z), mlp.ACTIVATIONS[key].derivative(Z))


@pytest.mark.parametrize("key", fn.ACTIVATION_KEYS)
@pytest.mark.parametrize("slope", [0.01, 0.2, 0.5])
def test_derivatives_match_finite_differences_away_from_kinks(key, slope):
    z = Z[np.abs(Z) > 1e-3]
    numeric = central(lambda u: fn.activation(key, u, slope), z)
    np.testing.assert_allclose(fn.derivative(key, z, slope), numeric, atol=1e-6)


def test_written_out_formulas():
    z = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    np.testing.assert_allclose(fn.activation("sigmoid", z), 1 / (1 + np.exp(-z)), rtol=1e-15)
    np.testing.assert_array_equal(fn.activation("step", z), [0, 0, 0, 1, 1])
    np.testing.assert_allclose(fn.activation("leaky_relu", z, 0.2), [-0.4, -0.1, 0, 0.5, 3])
    np.testing.assert_allclose(fn.derivative("leaky_relu", z, 0.2), [0.2, 0.2, 0.2, 1, 1])
    with pytest.raises(ValueError, match="slope"):
        fn.activation("leaky_relu", z, 1.5)
    with pytest.raises(ValueError, match="unknown activation"):
        fn.activation("swish", z)


@pytest.mark.parametrize("key", fn.ACTIVATION_KEYS)
def test_stated_derivative_range_is_what_the_functions_do(key):
    low, high = fn.derivative_range(key, 0.1)
    d = fn.derivative(key, np.linspace(-40, 40, 80001), 0.1)
    assert d.max() == pytest.approx(high, abs=1e-9)
    assert d.min() >= low - 1e-15 and d.min() == pytest.approx(low, abs=1e-9)


def test_sigmoid_derivative_is_at_most_a_quarter_and_tanh_at_most_one():
    assert fn.derivative("sigmoid", Z).max() == 0.25
    assert Z[np.argmax(fn.derivative("sigmoid", Z))] == 0.0
    assert fn.derivative("tanh", Z).max() == 1.0


def test_notes_worked_example_sigmoid_of_minus_six():
    z, a = fn.neuron([-1.0, 2.0], [3.0, -2.0], 1.0)
    assert z == -6.0   # 1 + 3·(−1) + (−2)·2 = 1 − 3 − 4
    assert a == pytest.approx(1 / (1 + math.exp(6)), rel=1e-14)
    assert round(a, 4) == 0.0025


def test_stacked_linear_layers_collapse_to_one():
    weights, biases = [2.0, 3.0, 5.0], [1.0, -1.0, 0.5]
    a, c = fn.collapse_linear(weights, biases)
    assert a == 30.0   # the notes: weights 2, 3, 5 act like one weight 30
    x = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(fn.scalar_stack(x, weights, biases, "linear"), a * x + c)
    bent = fn.scalar_stack(x, weights, biases, "tanh")
    assert np.abs(np.diff(bent, 2)).max() > 0.1   # not a line


def test_derivative_products_vanish_for_sigmoid_not_relu():
    n = 20
    s = fn.derivative_product("sigmoid", 0.0, n)
    np.testing.assert_allclose(s, 0.25 ** np.arange(1, n + 1))
    assert fn.derivative_product("relu", 0.5, n)[-1] == 1.0
    assert fn.derivative_product("relu", -0.5, n)[0] == 0.0   # a dead unit stops everything
    t = fn.derivative_product("tanh", 0.5, n)
    assert t[-1] == pytest.approx((1 - math.tanh(0.5) ** 2) ** n)
    with pytest.raises(ValueError):
        fn.derivative_product("sigmoid", 0.0, 0)


def test_softmax_is_the_engines_and_sums_to_one():
    p = fn.softmax([2.0, 1.0, 0.1])
    np.testing.assert_allclose(p, np.exp([2, 1, 0.1]) / np.exp([2, 1, 0.1]).sum(), rtol=1e-15)
    np.testing.assert_allclose(p.round(3), [0.659, 0.242, 0.099])
    big = fn.softmax([1000.0, 999.0])
    assert np.all(np.isfinite(big)) and big.sum() == pytest.approx(1.0)
    for bad in ([], [1.0] * 13, [np.inf]):
        with pytest.raises(ValueError):
            fn.softmax(bad)


@settings(max_examples=100, deadline=None)
@given(p=st.floats(0.01, 0.99), y=st.sampled_from([0.0, 1.0]))
def test_bce_and_mse_equal_the_networks_training_loss(p, y):
    logit = math.log(p / (1 - p))
    for key, output in (("bce", "sigmoid"), ("mse", "sigmoid")):
        net = mlp.Network(sizes=(1, 1), output=output, loss=key)
        J = net.objective(np.array([[0.0, logit]]), np.array([[0.0]]), np.array([[y]]))[0]
        assert fn.LOSSES[key].value(p, y) == pytest.approx(J, rel=1e-9)


@settings(max_examples=100, deadline=None)
@given(p=st.floats(0.01, 0.99))
def test_cce_equals_the_networks_softmax_loss(p):
    net = mlp.Network(sizes=(1, 2), output="softmax", loss="cce")
    theta = np.array([[0.0, 0.0, math.log(p), math.log(1 - p)]])   # W (1×2), then b
    J = net.objective(theta, np.array([[0.0]]), np.array([[1.0, 0.0]]))[0]
    assert fn.LOSSES["cce"].value(p, 1.0) == pytest.approx(J, rel=1e-9)


@pytest.mark.parametrize("key", list(fn.LOSSES))
@pytest.mark.parametrize("y", [0.0, 0.3, 1.0])
def test_loss_gradients_match_finite_differences(key, y):
    loss = fn.LOSSES[key]
    p = np.linspace(0.05, 0.95, 19)
    numeric = central(lambda u: loss.value(u, y), p)
    np.testing.assert_allclose(loss.grad(p, y), numeric, rtol=1e-6, atol=1e-6)


def test_losses_stay_finite_at_the_ends():
    for key in ("bce", "cce"):
        values = fn.LOSSES[key].value(np.array([0.0, 1.0]), 1.0)
        assert np.all(np.isfinite(values))


def test_accuracy_is_flat_almost_everywhere_while_the_loss_is_not():
    x = np.array([-2.0, -1.0, -0.5, 0.3, 1.0, 2.0])
    y = np.array([0, 0, 1, 0, 1, 1])
    sweep = fn.loss_vs_accuracy(x, y, w=2.0)
    assert sweep.flat > 0.97   # accuracy changes only where −b/w crosses a point
    assert len(np.unique(sweep.accuracy)) >= 3
    assert np.all(np.diff(sweep.loss) != 0)   # the loss always tells which way is down
    net = mlp.Network(sizes=(1, 1), output="sigmoid", loss="bce")
    theta = np.array([[2.0, sweep.b[100]]])
    assert sweep.loss[100] == pytest.approx(net.objective(theta, x[:, None], y[:, None])[0])


def test_dying_relu_gets_exactly_zero_gradient_and_leaky_does_not():
    x = np.linspace(-2, 2, 9)
    y = 0.5 * x + 1
    dead = fn.dying_relu(x, y, w=1.0, b=-5.0)
    assert not dead.alive.any() and dead.grad_w == 0.0 and dead.grad_b == 0.0
    alive = fn.dying_relu(x, y, w=1.0, b=0.5)
    assert alive.alive.any() and alive.grad_w != 0.0
    leaky = fn.dying_relu(x, y, w=1.0, b=-5.0, key="leaky_relu")
    assert leaky.grad_w != 0.0 and leaky.grad_b != 0.0
    # the engine's gradient equals the written-out one for the alive units
    z = x * 1.0 + 0.5
    resid = np.maximum(z, 0) - y
    assert alive.grad_b == pytest.approx(np.mean(2 * resid * (z > 0)))
    assert alive.grad_w == pytest.approx(np.mean(2 * resid * (z > 0) * x))


@pytest.mark.parametrize("gate", ["and", "or", "xor"])
def test_gate_tables_are_the_datasets(gate):
    X, y = datasets.make(gate)
    np.testing.assert_array_equal(X, fn.GATE_INPUTS)
    np.testing.assert_array_equal(y, fn.GATES[gate])


def test_perceptron_solves_and_or_nand_but_never_xor():
    for gate in ("and", "or", "nand"):
        count, tried, example = fn.perceptron_solutions(gate)
        assert tried == 41**3 and count > 0
        np.testing.assert_array_equal(fn.perceptron(*example), fn.GATES[gate])
    count, tried, example = fn.perceptron_solutions("xor")
    assert count == 0 and example is None
    # and not just on the grid: random real settings never give XOR either
    w = np.random.default_rng(0).uniform(-10, 10, size=(20000, 3))
    out = ((fn.GATE_INPUTS @ w[:, :2].T) + w[:, 2] > 0).T.astype(int)
    assert not (out == np.array(fn.GATES["xor"])).all(axis=1).any()


def test_perceptron_classic_and_setting():
    np.testing.assert_array_equal(fn.perceptron(0.5, 0.5, -0.7), [0, 0, 0, 1])
