"""engine.regression: losses and gradients against written-out formulas and finite
differences, the exact minimum against least squares, and mini-batch training against a
hand-written loop; the paths' end points and the notes' claims about GD, mini-batch, SGD."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import optimizers
from engine import regression as rg

MODELS = list(rg.MODELS)


def written_loss(model, x, y, w, b):
    z = w * x + b
    if model == "linear":
        return np.mean((z - y) ** 2)
    p = 1.0 / (1.0 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


@pytest.mark.parametrize("model", MODELS)
def test_loss_is_the_written_formula_and_gradient_its_derivative(model):
    x, y = rg.make_data(model, 40, 0.5, seed=3)
    points = np.array([[0.3, -0.2], [2.0, 1.0], [-1.5, 0.7]])
    expected = [written_loss(model, x, y, w, b) for w, b in points]
    np.testing.assert_allclose(rg.loss(model, x, y, points), expected, rtol=1e-12)
    grads = rg.gradient(model, x, y, points)
    h = 1e-6
    for k in range(2):
        e = np.zeros(2)
        e[k] = h
        fd = (rg.loss(model, x, y, points + e) - rg.loss(model, x, y, points - e)) / (2 * h)
        np.testing.assert_allclose(grads[:, k], fd, rtol=1e-6, atol=1e-8)


def test_loss_accepts_grids_of_any_shape():
    x, y = rg.make_data("logistic", 30, 0.2, seed=0)
    grid = np.random.default_rng(0).normal(size=(7, 5, 2))
    out = rg.loss("logistic", x, y, grid)
    assert out.shape == (7, 5)
    assert out[3, 2] == pytest.approx(written_loss("logistic", x, y, *grid[3, 2]))


def test_logistic_loss_is_finite_far_out():
    x, y = rg.make_data("logistic", 30, 0.2, seed=0)
    assert np.isfinite(rg.loss("logistic", x, y, np.array([1e5, -1e5])))
    assert np.isfinite(rg.gradient("logistic", x, y, np.array([1e5, -1e5]))).all()


def test_linear_minimum_is_least_squares():
    x, y = rg.make_data("linear", 50, 0.7, seed=1)
    best = rg.exact_minimum("linear", x, y)
    w, b = np.polyfit(x, y, 1)
    assert best.exists and best.method == "normal_equations"
    assert (best.w, best.b) == (pytest.approx(w, rel=1e-10), pytest.approx(b, rel=1e-10))
    assert best.loss == pytest.approx(written_loss("linear", x, y, w, b))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(4, 200), noise=st.floats(0.5, 3.0))
def test_logistic_minimum_is_where_the_gradient_vanishes(seed, n, noise):
    x, y = rg.make_data("logistic", n, noise, seed=seed)
    best = rg.exact_minimum("logistic", x, y)
    if not best.exists:
        assert best.reason in ("separable", "one_class")
        ones, zeros = x[y == 1], x[y == 0]
        assert (not ones.size or not zeros.size or ones.min() > zeros.max()
                or zeros.min() > ones.max())
        return
    theta = np.array([best.w, best.b])
    assert np.abs(rg.gradient("logistic", x, y, theta)).max() < 1e-8
    around = theta + 0.01 * np.array([[1, 0], [-1, 0], [0, 1], [0, -1]])
    assert (rg.loss("logistic", x, y, around) >= best.loss).all()


def test_no_minimum_is_said_so():
    assert rg.exact_minimum("linear", [1.0, 1.0, 1.0], [0.0, 1.0, 2.0]).reason == "constant_x"
    assert rg.exact_minimum("logistic", [0.0, 1.0, 2.0, 3.0], [0, 0, 1, 1]).reason == "separable"
    assert rg.exact_minimum("logistic", [0.0, 1.0, 2.0], [1, 1, 1]).reason == "one_class"


@pytest.mark.parametrize("kwargs,match", [
    (dict(batch_size=0), "batch_size"),
    (dict(epochs=0), "epochs"),
    (dict(batch_size=1, epochs=401), "too much work"),
    (dict(start=(np.nan, 0.0)), "start"),
    (dict(n_runs=65), "n_runs"),
])
def test_train_bounds(kwargs, match):
    x, y = rg.make_data("linear", 50, 0.5)
    args = dict(model="linear", x=x, y=y, optimizer_key="gd", hyper={"lr": 0.1}, batch_size=10,
                epochs=5, start=(0.0, 0.0)) | kwargs
    with pytest.raises(ValueError, match=match):
        rg.train(**args)


def test_bad_data_is_refused():
    with pytest.raises(ValueError, match="labels 0 or 1"):
        rg.check_data("logistic", [0.0, 1.0], [0.0, 2.0])
    with pytest.raises(ValueError, match="finite"):
        rg.check_data("linear", [0.0, np.inf], [0.0, 2.0])
    with pytest.raises(ValueError, match="2 to"):
        rg.check_data("linear", [0.0], [0.0])


# ----------------------------------------------------------------------------- training


def replay(model, x, y, key, hyper, training):
    """The same training written as a plain loop over the recorded batches."""
    runs = training.path.shape[1]
    opt = optimizers.make(key, **hyper)
    out = []
    for b in range(runs):
        theta = training.path[0, b:b + 1].copy()
        state = opt.init(theta)
        rows = [theta[0].copy()]
        for batch in training.batches[:, b]:
            idx = batch[batch >= 0]
            w, bias = theta[0]
            z = w * x[idx] + bias
            r = 2 * (z - y[idx]) if model == "linear" else 1 / (1 + np.exp(-z)) - y[idx]
            grad = np.array([[np.mean(r * x[idx]), np.mean(r)]])
            theta, state = opt.step(theta, grad, state)
            rows.append(theta[0].copy())
        out.append(rows)
    return np.array(out).transpose(1, 0, 2)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("key,hyper", [("gd", {"lr": 0.05}), ("momentum", {"lr": 0.02}),
                                       ("adam", {"lr": 0.05})])
@pytest.mark.parametrize("batch_size", [1, 7, 30])
def test_training_is_the_plain_loop_over_its_batches(model, key, hyper, batch_size):
    x, y = rg.make_data(model, 30, 0.5, seed=2)
    training = rg.train(model, x, y, key, hyper, batch_size, 4, (-1.0, 1.5), seed=5, n_runs=2)
    per_epoch = math.ceil(30 / batch_size)
    assert training.updates_per_epoch == per_epoch
    assert training.path.shape == (4 * per_epoch + 1, 2, 2)
    # every epoch uses every sample exactly once, in batches of batch_size (last smaller)
    for e in range(4):
        chunk = training.batches[e * per_epoch:(e + 1) * per_epoch, 0]
        used = chunk[chunk >= 0]
        assert sorted(used.tolist()) == list(range(30))
        assert (chunk[:-1] >= 0).all()
    assert not np.array_equal(training.batches[:, 0], training.batches[:, 1])  # own shuffles
    np.testing.assert_allclose(training.path, replay(model, x, y, key, hyper, training),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(training.full_loss,
                               rg.loss(model, x, y, training.path), rtol=1e-12)


def test_full_batch_is_gradient_descent_on_the_full_loss():
    x, y = rg.make_data("linear", 40, 0.5, seed=0)
    training = rg.train("linear", x, y, "gd", {"lr": 0.1}, 40, 20, (-2.0, 2.0))
    theta = np.array([-2.0, 2.0])
    for u in range(20):
        theta = theta - 0.1 * rg.gradient("linear", x, y, theta)
        np.testing.assert_allclose(training.path[u + 1, 0], theta, rtol=1e-12)
    np.testing.assert_allclose(training.batch_loss[:, 0], training.full_loss[:-1, 0],
                               rtol=1e-12)


@pytest.mark.parametrize("model,lr", [("linear", 0.05), ("logistic", 0.5)])
def test_every_path_approaches_the_exact_minimum(model, lr):
    """Full batch reaches it; mini-batch and SGD end in a small ball around it."""
    x, y = rg.make_data(model, 60, 0.5, seed=0)
    best = rg.exact_minimum(model, x, y)
    target = np.array([best.w, best.b])
    start = np.array([-2.0, 2.0])
    far = np.linalg.norm(start - target)
    ends = {}
    for batch_size, epochs, lr_used in [(60, 2000, lr), (10, 200, lr / 4), (1, 100, lr / 20)]:
        training = rg.train(model, x, y, "gd", {"lr": lr_used}, batch_size, epochs, start)
        ends[batch_size] = np.linalg.norm(training.path[-1, 0] - target)
        assert training.full_loss[-1, 0] >= best.loss - 1e-12  # nothing beats the minimum
    assert ends[60] < 1e-6 * far
    assert ends[10] < 0.05 * far
    assert ends[1] < 0.05 * far


def test_the_notes_claims_hold_on_the_linear_model():
    """Batch GD never goes uphill but is slow per epoch; SGD is noisy but fast per epoch."""
    x, y = rg.make_data("linear", 100, 0.5, seed=0)
    full = rg.train("linear", x, y, "gd", {"lr": 0.05}, 100, 10, (-2.0, 2.0))
    sgd = rg.train("linear", x, y, "gd", {"lr": 0.05}, 1, 10, (-2.0, 2.0), seed=0)
    assert full.uphill_fraction()[0] == 0.0
    assert np.all(np.diff(full.epoch_loss[:, 0]) < 0)
    assert sgd.uphill_fraction()[0] > 0.2
    assert sgd.epoch_loss[1, 0] < full.epoch_loss[1, 0] / 10


def test_a_diverging_run_is_frozen_finite_and_flagged():
    x, y = rg.make_data("linear", 50, 0.5, seed=0)
    training = rg.train("linear", x, y, "gd", {"lr": 3.0}, 50, 100, (0.0, 0.0), n_runs=2)
    assert training.diverged.all()
    u = int(training.diverged_at[0])
    assert 0 < u < 100
    assert np.isfinite(training.path).all() and np.isfinite(training.full_loss).all()
    assert (np.abs(training.path) <= rg.POSITION_BOUND).all()
    np.testing.assert_array_equal(training.path[u:, 0], np.repeat(training.path[u - 1:u, 0],
                                                                  101 - u, axis=0))


def test_same_seed_same_training():
    x, y = rg.make_data("logistic", 40, 0.5, seed=9)
    a = rg.train("logistic", x, y, "gd", {"lr": 0.3}, 4, 3, (0.0, 0.0), seed=11)
    b = rg.train("logistic", x, y, "gd", {"lr": 0.3}, 4, 3, (0.0, 0.0), seed=11)
    np.testing.assert_array_equal(a.path, b.path)
    np.testing.assert_array_equal(rg.make_data("linear", 20, 1.0, 4)[1],
                                  rg.make_data("linear", 20, 1.0, 4)[1])


def test_an_uploaded_two_column_csv_is_read_and_checked():
    """The lab's upload: datasets.read_numeric_csv with columns (x, y), then check_data."""
    from engine import datasets

    table = datasets.read_numeric_csv(b"x,y\n0.5,1\n-2,0\n3,0\n", ("x", "y"))
    x, y = rg.check_data("logistic", table[:, 0], table[:, 1])
    np.testing.assert_array_equal(x, [0.5, -2.0, 3.0])
    with pytest.raises(datasets.DatasetError, match=r"expected 2 columns \(x, y\), line 2"):
        datasets.read_numeric_csv("x,y\n1,2,3\n", ("x", "y"))
    with pytest.raises(datasets.DatasetError, match="line 3: 'abc' is not a number"):
        datasets.read_numeric_csv("1,2\n3,4\nabc,5\n", ("x", "y"))
    with pytest.raises(datasets.DatasetError, match="empty file"):
        datasets.read_numeric_csv("x,y\n", ("x", "y"))
    with pytest.raises(ValueError, match="labels 0 or 1"):
        rg.check_data("logistic", *datasets.read_numeric_csv("1,2\n3,4\n", ("x", "y")).T)
