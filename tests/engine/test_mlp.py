"""engine.mlp: backprop against central finite differences, forward/loss against written-out
formulas, init statistics, batched training on XOR."""

import warnings

import numpy as np
import pytest

from engine import mlp, optimizers

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0, 1, 1, 0])


# ----------------------------------------------------------------- independent references


def numeric_grad(net, theta, X, Y, h=1e-6, **kw):
    """Central finite differences of the loss; a fresh rng per evaluation keeps the
    dropout masks identical to the ones the analytic gradient used."""
    seed = kw.pop("mask_seed", None)

    def loss_at(th):
        rng = None if seed is None else np.random.default_rng(seed)
        return net.loss_and_grads(th, X, Y, rng=rng, **kw)[0]

    grad = np.zeros_like(theta)
    for j in range(theta.shape[1]):
        step = np.zeros_like(theta)
        step[:, j] = h
        grad[:, j] = (loss_at(theta + step) - loss_at(theta - step)) / (2 * h)
    return grad


ACT_F = {
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "linear": lambda z: z,
}


def reference_forward(net, theta_row, X):
    """One network, plain loops over layers, formulas written out (no engine code)."""
    sizes = net.sizes
    pos = 0
    a = X
    n_layers = len(sizes) - 1
    for layer in range(n_layers):
        n_in, n_out = sizes[layer], sizes[layer + 1]
        W = theta_row[pos:pos + n_in * n_out].reshape(n_in, n_out)
        pos += n_in * n_out
        b = theta_row[pos:pos + n_out]
        pos += n_out
        z = a @ W + b
        if layer == n_layers - 1:
            if net.output == "sigmoid":
                return 1 / (1 + np.exp(-z))
            if net.output == "softmax":
                e = np.exp(z)
                return e / e.sum(axis=1, keepdims=True)
            return z
        if net.batch_norm:
            gamma = theta_row[pos:pos + n_out]
            beta = theta_row[pos + n_out:pos + 2 * n_out]
            pos += 2 * n_out
            z = gamma * (z - z.mean(axis=0)) / np.sqrt(z.var(axis=0) + 1e-5) + beta
        a = ACT_F[net.activation](z)
    raise AssertionError


def reference_loss(net, theta_row, X, Y, l1=0.0, l2=0.0):
    p = reference_forward(net, theta_row, X)
    if net.loss == "bce":
        data = -np.mean(Y * np.log(p) + (1 - Y) * np.log(1 - p))
    elif net.loss == "cce":
        data = -np.mean(np.sum(Y * np.log(p), axis=1))
    else:
        data = np.mean((p - Y) ** 2)
    weights = theta_row[net.weight_mask()]
    return data + l1 * np.abs(weights).sum() + l2 * (weights ** 2).sum()


def make_problem(net, B, n, rng, per_network=False):
    K = net.sizes[-1]
    shape = (B, n) if per_network else (n,)
    X = rng.standard_normal(shape + (net.sizes[0],))
    if net.loss == "cce":
        Y = np.eye(K)[rng.integers(0, K, shape)]
    elif net.loss == "bce":
        Y = (rng.random(shape + (K,)) > 0.5).astype(float)
    else:
        Y = rng.standard_normal(shape + (K,))
    theta = net.init(B, seed=int(rng.integers(1000)))
    theta = theta + 0.3 * rng.standard_normal(theta.shape)  # biases/BN params off defaults
    return theta, X, Y


def out_units(loss):
    return 3 if loss == "cce" else 2


# ----------------------------------------------------------------- gradients


@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("pair", mlp.SENSIBLE_PAIRS)
@pytest.mark.parametrize("activation", list(mlp.ACTIVATIONS))
def test_backprop_matches_finite_differences(activation, pair, batch_norm):
    output, loss = pair
    net = mlp.Network((3, 5, 4, out_units(loss)), activation, output, loss, batch_norm)
    theta, X, Y = make_problem(net, B=3, n=6, rng=np.random.default_rng(0))
    value, grads = net.loss_and_grads(theta, X, Y, l1=0.01, l2=0.02)
    expected = numeric_grad(net, theta, X, Y, l1=0.01, l2=0.02)
    np.testing.assert_allclose(grads, expected, rtol=1e-5, atol=1e-7)
    for b in range(3):
        assert value[b] == pytest.approx(reference_loss(net, theta[b], X, Y, 0.01, 0.02),
                                         rel=1e-10)


@pytest.mark.parametrize("output,loss", [("softmax", "bce"), ("sigmoid", "cce"),
                                         ("sigmoid", "mse"), ("softmax", "mse")])
@pytest.mark.parametrize("batch_norm", [False, True])
def test_backprop_other_output_loss_pairs(output, loss, batch_norm):
    net = mlp.Network((2, 4, 3), "tanh", output, loss, batch_norm)
    theta, X, Y = make_problem(net, B=2, n=5, rng=np.random.default_rng(1))
    value, grads = net.loss_and_grads(theta, X, Y)
    np.testing.assert_allclose(grads, numeric_grad(net, theta, X, Y), rtol=1e-5, atol=1e-7)
    assert value[1] == pytest.approx(reference_loss(net, theta[1], X, Y), rel=1e-10)


@pytest.mark.parametrize("sizes", [(2, 1), (2, 3), (2, 3, 4, 3, 2), (1, 6, 1)])
@pytest.mark.parametrize("per_network", [False, True])
@pytest.mark.parametrize("batch_norm", [False, True])
def test_backprop_shapes(sizes, per_network, batch_norm):
    loss = "bce" if sizes[-1] == 1 else "cce"
    output = "sigmoid" if loss == "bce" else "softmax"
    if sizes[-1] >= 2 and sizes[0] == 2 and len(sizes) == 2:
        output, loss = "linear", "mse"
    net = mlp.Network(sizes, "sigmoid", output, loss, batch_norm)
    rng = np.random.default_rng(2)
    theta, X, Y = make_problem(net, B=4, n=7, rng=rng, per_network=per_network)
    _, grads = net.loss_and_grads(theta, X, Y, l2=0.05)
    np.testing.assert_allclose(grads, numeric_grad(net, theta, X, Y, l2=0.05),
                               rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_dropout_gradient_matches_finite_differences_with_same_mask(batch_norm):
    net = mlp.Network((2, 6, 5, 1), "tanh", batch_norm=batch_norm)
    theta, X, Y = make_problem(net, B=2, n=8, rng=np.random.default_rng(3))
    loss, grads = net.loss_and_grads(theta, X, Y, dropout=0.4, rng=np.random.default_rng(7))
    expected = numeric_grad(net, theta, X, Y, dropout=0.4, mask_seed=7)
    np.testing.assert_allclose(grads, expected, rtol=1e-5, atol=1e-7)
    # The mask really changes the loss (otherwise this test could not fail).
    plain = net.loss_and_grads(theta, X, Y)[0]
    assert not np.allclose(loss, plain)


def test_dropout_is_inverted_so_expected_activation_is_unchanged():
    net = mlp.Network((1, 1, 1), "linear", "linear", "mse")
    # W1 = 1, b1 = 0, W2 = 1, b2 = 0: output = dropped hidden = x * m / (1 - p).
    theta = np.array([[1.0, 0.0, 1.0, 0.0]])
    X = np.ones((20000, 1))
    Y = np.zeros((20000, 1))
    # mse = mean(out^2); E[(m/(1-p))^2] = 1/(1-p) for inverted dropout.
    loss, _ = net.loss_and_grads(theta, X, Y, dropout=0.5, rng=np.random.default_rng(0))
    assert loss[0] == pytest.approx(2.0, rel=0.05)


def test_batched_equals_one_network_at_a_time():
    net = mlp.Network((2, 5, 3), "relu", "softmax", "cce", batch_norm=True)
    theta, X, Y = make_problem(net, B=5, n=9, rng=np.random.default_rng(4))
    loss, grads = net.loss_and_grads(theta, X, Y, l1=np.arange(5)[:, None] * 0.01)
    for b in range(5):
        lb, gb = net.loss_and_grads(theta[b:b + 1], X, Y, l1=b * 0.01)
        np.testing.assert_allclose(loss[b], lb[0], rtol=1e-12)
        np.testing.assert_allclose(grads[b], gb[0], rtol=1e-12, atol=1e-15)


def test_inputs_are_not_modified():
    net = mlp.Network((2, 4, 1), batch_norm=True)
    theta, X, Y = make_problem(net, B=2, n=4, rng=np.random.default_rng(5))
    copies = theta.copy(), X.copy(), Y.copy()
    net.loss_and_grads(theta, X, Y, l1=0.1, l2=0.1, dropout=0.2, rng=np.random.default_rng())
    net.predict(theta, X)
    for before, after in zip(copies, (theta, X, Y), strict=True):
        np.testing.assert_array_equal(before, after)


# ----------------------------------------------------------------- forward, registries


def test_predict_matches_written_out_forward_pass():
    for net in [mlp.Network((2, 3, 1)), mlp.Network((2, 4, 4, 3), "relu", "softmax", "cce",
                                                    batch_norm=True)]:
        theta, X, _ = make_problem(net, B=3, n=6, rng=np.random.default_rng(6))
        out = net.predict(theta, X)
        assert out.shape == (3, 6, net.sizes[-1])
        for b in range(3):
            np.testing.assert_allclose(out[b], reference_forward(net, theta[b], X), rtol=1e-12)


def test_forward_returns_hidden_activations():
    net = mlp.Network((2, 4, 3, 1))
    theta = net.init(2, seed=1)
    grid = np.random.default_rng(0).random((10, 2))
    out, hidden = net.forward(theta, grid)
    assert [h.shape for h in hidden] == [(2, 10, 4), (2, 10, 3)]
    W1, b1 = net.unpack(theta)[0]
    np.testing.assert_allclose(hidden[0][1], np.tanh(grid @ W1[1] + b1[1]))
    np.testing.assert_allclose(out, net.predict(theta, grid))


def test_activation_derivatives_match_finite_differences():
    z = np.array([-3.0, -0.7, 0.3, 2.5])
    for act in mlp.ACTIVATIONS.values():
        numeric = (act.f(z + 1e-6) - act.f(z - 1e-6)) / 2e-6
        np.testing.assert_allclose(act.derivative(z), numeric, rtol=1e-6)
        np.testing.assert_allclose(act.f(z), ACT_F[act.key](z), rtol=1e-12)
        assert act.latex and act.derivative_latex
    assert mlp.ACTIVATIONS["leaky_relu"].f(np.array(-2.0)) == pytest.approx(-0.02)


def test_losses_stay_finite_for_saturated_logits():
    net = mlp.Network((1, 1), "tanh", "sigmoid", "bce")
    theta = np.array([[1000.0, 0.0]])       # logit = 1000 x
    X = np.array([[1.0], [-1.0]])
    loss, grads = net.loss_and_grads(theta, X, np.array([0.0, 1.0]))
    # Both samples are wrong by a logit of 1000: loss = 1000 exactly, gradient finite.
    assert loss[0] == pytest.approx(1000.0)
    assert np.all(np.isfinite(grads))
    cce = mlp.Network((1, 2), output="softmax", loss="cce")
    loss, grads = cce.loss_and_grads(np.array([[800.0, -800.0, 0.0, 0.0]]), X,
                                     np.array([[0.0, 1.0], [1.0, 0.0]]))
    assert loss[0] == pytest.approx(1600.0) and np.all(np.isfinite(grads))


def test_registries():
    assert set(mlp.ACTIVATIONS) == {"sigmoid", "tanh", "relu", "leaky_relu", "linear"}
    assert set(mlp.OUTPUTS) == {"sigmoid", "softmax", "linear"}
    assert set(mlp.LOSSES) == {"bce", "cce", "mse"}
    assert mlp.SENSIBLE_PAIRS == [("sigmoid", "bce"), ("softmax", "cce"), ("linear", "mse")]
    for spec in [*mlp.OUTPUTS.values(), *mlp.LOSSES.values()]:
        assert spec.latex


@pytest.mark.parametrize("kwargs,message", [
    (dict(sizes=(2,)), "sizes"),
    (dict(activation="swish"), "activation"),
    (dict(output="linear", loss="bce"), "probabilities"),
    (dict(sizes=(2, 1), output="softmax", loss="cce"), "softmax"),
])
def test_invalid_networks_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mlp.Network(**kwargs)


def test_bad_shapes_raise_clear_errors():
    net = mlp.Network((2, 4, 1))
    theta = net.init(3)
    with pytest.raises(ValueError, match="theta"):
        net.loss_and_grads(theta[:, :-1], XOR_X, XOR_Y)
    with pytest.raises(ValueError, match="X must"):
        net.loss_and_grads(theta, np.ones((4, 3)), XOR_Y)
    with pytest.raises(ValueError, match="Y must"):
        net.loss_and_grads(theta, XOR_X, np.ones(5))
    with pytest.raises(ValueError, match="rng"):
        net.loss_and_grads(theta, XOR_X, XOR_Y, dropout=0.5)
    with pytest.raises(ValueError, match="dropout"):
        net.loss_and_grads(theta, XOR_X, XOR_Y, dropout=1.0, rng=np.random.default_rng())
    with pytest.raises(ValueError, match="l1 and l2"):
        net.loss_and_grads(theta, XOR_X, XOR_Y, l2=-0.1)
    with pytest.raises(ValueError, match="l1"):
        net.loss_and_grads(theta, XOR_X, XOR_Y, l1=np.ones((2, 1)))


# ----------------------------------------------------------------- parameters and init


def test_unpack_pack_round_trip_and_layout():
    net = mlp.Network((2, 3, 2, 1), batch_norm=True)
    theta = np.arange(net.n_params, dtype=float)[None, :].repeat(2, axis=0)
    assert net.n_params == (2 * 3 + 3 + 3 + 3) + (3 * 2 + 2 + 2 + 2) + (2 * 1 + 1)
    (W1, b1), (W2, b2), (W3, b3) = net.unpack(theta)
    assert W1.shape == (2, 2, 3) and b1.shape == (2, 3) and W3.shape == (2, 2, 1)
    np.testing.assert_array_equal(W1[0], [[0, 1, 2], [3, 4, 5]])  # row-major W (in, out)
    np.testing.assert_array_equal(b1[0], [6, 7, 8])
    (g1, be1), (g2, be2) = net.unpack_bn(theta)
    np.testing.assert_array_equal(g1[0], [9, 10, 11])
    np.testing.assert_array_equal(be1[0], [12, 13, 14])
    np.testing.assert_array_equal(net.pack(net.unpack(theta), net.unpack_bn(theta)), theta)
    assert len(net.param_names()) == net.n_params and net.param_names()[9] == "gamma1[0]"
    assert net.weight_mask().sum() == 6 + 6 + 2


# the standard deviation of each scheme, written out (fan_in, fan_out of a layer)
INIT_STD = {
    "xavier": lambda fan_in, fan_out: np.sqrt(2.0 / (fan_in + fan_out)),  # Glorot: Keras, torch
    "lecun": lambda fan_in, fan_out: np.sqrt(1.0 / fan_in),  # the notes' "Xavier"
    "he": lambda fan_in, fan_out: np.sqrt(2.0 / fan_in),
}


@pytest.mark.parametrize("scheme", list(INIT_STD))
def test_init_std_follows_the_definition(scheme):
    net = mlp.Network((8, 50, 1), batch_norm=True)
    theta = net.init(400, scheme=scheme, seed=3)
    (W1, b1), (W2, b2) = net.unpack(theta)
    assert W1.std() == pytest.approx(INIT_STD[scheme](8, 50), rel=0.02)
    assert W2.std() == pytest.approx(INIT_STD[scheme](50, 1), rel=0.02)
    assert abs(W1.mean()) < 0.01
    assert np.all(b1 == 0) and np.all(b2 == 0)
    (gamma, beta), = net.unpack_bn(theta)
    assert np.all(gamma == 1) and np.all(beta == 0)


def test_init_normal_zeros_and_seeds():
    net = mlp.Network((2, 30, 1))
    theta = net.init(300, scheme="normal", std=0.5, seed=0)
    assert net.unpack(theta)[0][0].std() == pytest.approx(0.5, rel=0.03)
    assert np.all(net.init(2, scheme="zeros") == 0)
    np.testing.assert_array_equal(net.init(5, seed=4), net.init(5, seed=4))
    assert not np.array_equal(net.init(5, seed=4), net.init(5, seed=5))
    # Network i does not depend on how many networks are drawn.
    np.testing.assert_array_equal(net.init(10, seed=4), net.init(100, seed=4)[:10])
    with pytest.raises(ValueError, match="scheme"):
        net.init(1, scheme="glorot_uniform")


def test_layer_grad_norms():
    net = mlp.Network((2, 4, 3, 1))
    theta, X, Y = make_problem(net, B=2, n=5, rng=np.random.default_rng(8))
    _, grads = net.loss_and_grads(theta, X, Y)
    norms = net.layer_grad_norms(grads)
    assert norms.shape == (2, 3)
    W2_grad = grads[:, 2 * 4 + 4: 2 * 4 + 4 + 4 * 3]
    np.testing.assert_allclose(norms[:, 1], np.sqrt((W2_grad ** 2).sum(axis=1)))


# ----------------------------------------------------------------- training


XOR_EPOCHS = 300


def test_xor_is_solved_by_95_of_100_seeds():
    """2-4-1 tanh + Adam(lr 0.05), full batch, 100 seeds trained in ONE batched call."""
    net = mlp.Network((2, 4, 1), "tanh", "sigmoid", "bce")
    theta = net.init(100, scheme="xavier", seed=0)
    result = mlp.train(net, theta, XOR_X, XOR_Y, optimizers.make("adam", lr=0.05),
                       epochs=XOR_EPOCHS)
    probs = net.predict(result.theta, XOR_X)[..., 0]
    solved = np.all((probs >= 0.5) == XOR_Y.astype(bool), axis=1)
    assert solved.sum() >= 95
    np.testing.assert_array_equal(mlp.accuracy(net, result.theta, XOR_X, XOR_Y) == 1, solved)
    assert result.loss.shape == (XOR_EPOCHS + 1, 100)
    assert np.median(result.loss[-1]) < 0.1 < np.median(result.loss[0])


def test_perceptron_never_beats_75_percent_on_xor():
    net = mlp.Network((2, 1), output="sigmoid", loss="bce")
    theta = net.init(100, scheme="normal", std=2.0, seed=1)
    result = mlp.train(net, theta, XOR_X, XOR_Y, optimizers.make("adam", lr=0.1), epochs=500)
    acc = mlp.accuracy(net, result.theta, XOR_X, XOR_Y)
    assert acc.max() <= 0.75
    # ... but it does solve AND, which is linearly separable.
    and_y = np.array([0, 0, 0, 1])
    result = mlp.train(net, theta, XOR_X, and_y, optimizers.make("adam", lr=0.1), epochs=500)
    assert np.all(mlp.accuracy(net, result.theta, XOR_X, and_y) == 1.0)


def test_full_batch_gd_training_equals_manual_loop():
    net = mlp.Network((2, 3, 1), "sigmoid", batch_norm=True)
    theta = net.init(4, seed=2)
    lr = np.array([[0.1], [0.5], [1.0], [2.0]])
    result = mlp.train(net, theta, XOR_X, XOR_Y, optimizers.make("gd", lr=lr), epochs=25,
                       l2=0.01)
    manual = theta.copy()
    losses = []
    for _ in range(25):
        loss, grads = net.loss_and_grads(manual, XOR_X, XOR_Y, l2=0.01)
        losses.append(loss)
        manual = manual - lr * grads
    losses.append(net.objective(manual, XOR_X, XOR_Y, l2=0.01))
    np.testing.assert_allclose(result.theta, manual, rtol=1e-12)
    np.testing.assert_allclose(result.loss, np.array(losses), rtol=1e-12)
    assert result.grad_norms.shape == (25, 4, 2)
    assert not result.diverged.any() and np.all(result.diverged_at == -1)


def test_minibatch_training_is_seeded_and_takes_one_step_per_batch():
    net = mlp.Network((2, 4, 1))
    X = np.random.default_rng(0).standard_normal((10, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    theta = net.init(2, seed=0)
    steps = []
    opt = optimizers.make("gd", lr=0.1)

    class Counting:
        def init(self, params):
            return opt.init(params)

        def step(self, params, grads, state, lr_scale=1.0):
            steps.append(1)
            return opt.step(params, grads, state, lr_scale=lr_scale)

    a = mlp.train(net, theta, X, y, Counting(), epochs=3, batch_size=3, seed=1)
    assert len(steps) == 3 * 4  # ceil(10 / 3) mini-batches per epoch
    b = mlp.train(net, theta, X, y, opt, epochs=3, batch_size=3, seed=1)
    c = mlp.train(net, theta, X, y, opt, epochs=3, batch_size=3, seed=2)
    full = mlp.train(net, theta, X, y, opt, epochs=3)
    np.testing.assert_array_equal(a.theta, b.theta)
    assert not np.allclose(b.theta, c.theta) and not np.allclose(b.theta, full.theta)
    np.testing.assert_allclose(b.loss[-1], net.objective(b.theta, X, y))


def test_divergent_networks_stop_and_are_flagged_without_warnings():
    net = mlp.Network((1, 8, 1), "linear", "linear", "mse")
    X = np.linspace(-3, 3, 20)[:, None]
    y = np.sin(X[:, 0])
    theta = net.init(3, seed=0)
    lr = np.array([[0.01], [50.0], [0.02]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = mlp.train(net, theta, X, y, optimizers.make("gd", lr=lr), epochs=200)
    np.testing.assert_array_equal(result.diverged, [False, True, False])
    assert 0 <= result.diverged_at[1] < 200 and result.diverged_at[0] == -1
    assert np.all(np.isfinite(result.theta)) and np.all(np.isfinite(result.loss))
    # The healthy networks trained exactly as if alone.
    alone = mlp.train(net, theta[[0]], X, y, optimizers.make("gd", lr=0.01), epochs=200)
    np.testing.assert_allclose(result.theta[0], alone.theta[0], rtol=1e-12)
    assert result.loss[-1, 0] < result.loss[0, 0]


def test_schedule_callback_and_continuation():
    net = mlp.Network((2, 4, 1))
    theta = net.init(2, seed=0)
    opt = optimizers.make("gd", lr=0.5)
    frozen = mlp.train(net, theta, XOR_X, XOR_Y, opt, epochs=5, schedule=lambda t: 0.0)
    np.testing.assert_array_equal(frozen.theta, theta)
    seen = []

    def stop_after_three(epoch, th, loss):
        seen.append((epoch, loss.copy()))
        return epoch < 3

    short = mlp.train(net, theta, XOR_X, XOR_Y, opt, epochs=10, callback=stop_after_three)
    assert [e for e, _ in seen] == [1, 2, 3] and short.loss.shape == (4, 2)
    np.testing.assert_allclose(seen[-1][1], short.loss[-1])
    # Two chunks of 3 epochs == one run of 6 (live training resumes this way).
    whole = mlp.train(net, theta, XOR_X, XOR_Y, opt, epochs=6)
    first = mlp.train(net, theta, XOR_X, XOR_Y, opt, epochs=3)
    second = mlp.train(net, first.theta, XOR_X, XOR_Y, opt, epochs=3,
                       opt_state=first.opt_state, start_epoch=3)
    np.testing.assert_allclose(second.theta, whole.theta, rtol=1e-12)


def test_dropout_training_records_clean_loss():
    net = mlp.Network((2, 8, 1))
    theta = net.init(3, seed=0)
    result = mlp.train(net, theta, XOR_X, XOR_Y, optimizers.make("adam", lr=0.05), epochs=20,
                       dropout=0.3, seed=4)
    np.testing.assert_allclose(result.loss[0], net.objective(theta, XOR_X, XOR_Y))
    np.testing.assert_allclose(result.loss[-1], net.objective(result.theta, XOR_X, XOR_Y))
    again = mlp.train(net, theta, XOR_X, XOR_Y, optimizers.make("adam", lr=0.05), epochs=20,
                      dropout=0.3, seed=4)
    np.testing.assert_array_equal(result.theta, again.theta)


@pytest.mark.parametrize("per_network", [False, True])
@pytest.mark.parametrize("batch_norm", [False, True])
def test_large_layer_code_path_matches_small_layer_path(monkeypatch, per_network, batch_norm):
    """Big layers use batched matmul instead of einsum / the one-gemm first layer; force
    that path on a small problem and check it against finite differences and the other."""
    net = mlp.Network((2, 5, 3, 1), "leaky_relu", batch_norm=batch_norm)
    theta, X, Y = make_problem(net, B=3, n=6, rng=np.random.default_rng(9),
                               per_network=per_network)
    small = net.loss_and_grads(theta, X, Y, l1=0.01)
    monkeypatch.setattr(mlp, "_SMALL_LAYER", 0)
    monkeypatch.setattr(mlp, "_KRON_MAX", 0)
    large = net.loss_and_grads(theta, X, Y, l1=0.01)
    np.testing.assert_allclose(large[0], small[0], rtol=1e-12)
    np.testing.assert_allclose(large[1], small[1], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(large[1], numeric_grad(net, theta, X, Y, l1=0.01),
                               rtol=1e-5, atol=1e-7)


def test_realistic_size_network_gradient():
    """n = 300 samples and 20-unit layers take the large-layer paths without patching."""
    net = mlp.Network((2, 20, 20, 3), "relu", "softmax", "cce", batch_norm=True)
    rng = np.random.default_rng(10)
    theta, X, Y = make_problem(net, B=1, n=300, rng=rng)
    _, grads = net.loss_and_grads(theta, X, Y, l2=0.001)
    cols = rng.choice(net.n_params, 40, replace=False)
    expected = numeric_grad(net, theta, X, Y, l2=0.001)
    np.testing.assert_allclose(grads[:, cols], expected[:, cols], rtol=1e-4, atol=1e-7)
    out = net.predict(theta, X)
    np.testing.assert_allclose(out[0], reference_forward(net, theta[0], X), rtol=1e-10)


def test_predict_on_grid_with_reference_uses_training_statistics():
    net = mlp.Network((2, 5, 4, 1), "tanh", batch_norm=True)
    theta, X, _ = make_problem(net, B=2, n=8, rng=np.random.default_rng(11))
    grid = np.concatenate([X, np.random.default_rng(12).uniform(-3, 3, (50, 2))])
    on_train = net.predict(theta, X)
    np.testing.assert_allclose(net.predict(theta, X, reference=X), on_train, rtol=1e-12)
    np.testing.assert_allclose(net.predict(theta, grid, reference=X)[:, :8], on_train,
                               rtol=1e-12)
    # Without a reference the grid is normalized with its own statistics: different.
    assert not np.allclose(net.predict(theta, grid)[:, :8], on_train)
    out, hidden = net.forward(theta, grid, reference=X)
    assert hidden[0].shape == (2, 58, 5)


try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover
    given = None

if given is not None:
    @settings(max_examples=25, deadline=None)
    @given(activation=st.sampled_from(list(mlp.ACTIVATIONS)),
           pair=st.sampled_from(mlp.SENSIBLE_PAIRS),
           hidden=st.lists(st.integers(1, 6), max_size=3),
           batch_norm=st.booleans(),
           log_lr=st.floats(-4, 1),
           dropout=st.sampled_from([0.0, 0.5]),
           l2=st.sampled_from([0.0, 0.1]),
           scheme=st.sampled_from(mlp.INIT_SCHEMES))
    def test_training_over_slider_ranges_stays_finite(activation, pair, hidden, batch_norm,
                                                      log_lr, dropout, l2, scheme):
        output, loss = pair
        k = out_units(loss)
        net = mlp.Network((2, *hidden, k), activation, output, loss, batch_norm)
        _, X, Y = make_problem(net, B=2, n=6, rng=np.random.default_rng(0))
        theta = net.init(2, scheme=scheme, std=3.0, seed=1)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = mlp.train(net, theta, X, Y, optimizers.make("gd", lr=10.0 ** log_lr),
                               epochs=30, dropout=dropout, l2=l2, seed=0)
        assert np.all(np.isfinite(result.theta)) and np.all(np.isfinite(result.loss))
        assert np.all(np.isfinite(result.grad_norms[:, ~result.diverged]))


def test_schedule_multiplier_is_applied_per_epoch():
    net = mlp.Network((2, 3, 1))
    theta = net.init(2, seed=5)

    def halve_every_5(t):
        return 0.5 ** (t // 5)

    result = mlp.train(net, theta, XOR_X, XOR_Y, optimizers.make("gd", lr=0.8), epochs=12,
                       schedule=halve_every_5, start_epoch=3)
    manual = theta.copy()
    for epoch in range(3, 15):
        manual = manual - 0.8 * halve_every_5(epoch) * net.loss_and_grads(manual, XOR_X,
                                                                          XOR_Y)[1]
    np.testing.assert_allclose(result.theta, manual, rtol=1e-12)


def test_train_accepts_engine_schedules():
    schedules = pytest.importorskip("engine.schedules")
    net = mlp.Network((2, 3, 1))
    theta = net.init(2, seed=5)
    schedule = schedules.make("step", step_size=4, gamma=0.1)
    result = mlp.train(net, theta, XOR_X, XOR_Y, optimizers.make("gd", lr=0.5), epochs=8,
                       schedule=schedule)
    manual = theta.copy()
    for epoch in range(8):
        manual = manual - 0.5 * 0.1 ** (epoch // 4) * net.loss_and_grads(manual, XOR_X,
                                                                        XOR_Y)[1]
    np.testing.assert_allclose(result.theta, manual, rtol=1e-12)


# ----------------------------------------------------------------- one classification rule


def test_one_output_is_class_1_from_one_half_for_sigmoid_and_linear_alike():
    """A linear (MSE) output regressed onto 0/1 labels means class 1 from 0.5 (the midpoint
    of the targets), as a sigmoid's probability does: 0.3 is class 0 for both."""
    for output, loss in (("sigmoid", "bce"), ("linear", "mse")):
        net = mlp.Network((1, 1), output=output, loss=loss)
        assert list(mlp.predicted_labels(np.array([[[0.2], [0.5], [0.9], [-3.0]]]))[0]) == \
            [0, 1, 1, 0]
        # the weights that give the outputs: ŷ = w·x + b (before the output function)
        logit = 0.3 if output == "linear" else np.log(0.3 / 0.7)
        theta = np.array([[0.0, logit]])
        assert mlp.accuracy(net, theta, np.array([[1.0]]), np.array([0]))[0] == 1.0
        assert mlp.accuracy(net, theta, np.array([[1.0]]), np.array([1]))[0] == 0.0
    assert list(mlp.predicted_labels(np.array([[0.1, 0.7, 0.2]]))) == [1]


def test_accuracy_of_other_points_uses_the_reference_statistics():
    net = mlp.Network((2, 4, 1), "relu", batch_norm=True)
    theta = net.init(1, seed=2)
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    one = X[:1]  # alone, its own batch statistics would be 0 variance
    with_ref = mlp.accuracy(net, theta, one, y[:1], reference=X)
    full = net.predict(theta, X)[0, 0, 0] >= 0.5
    assert with_ref[0] == float(full == y[0])


# ----------------------------------------------------------------- the penalty term


def test_penalty_is_the_regularisation_part_of_the_objective():
    net = mlp.Network((2, 3, 1))
    theta = net.init(2, seed=1)
    W = theta[:, net.weight_mask()]
    expected = 0.01 * np.abs(W).sum(axis=1) + 0.05 * (W * W).sum(axis=1)
    np.testing.assert_allclose(net.penalty(theta, 0.01, 0.05), expected, rtol=1e-13)
    np.testing.assert_allclose(net.objective(theta, XOR_X, XOR_Y, 0.01, 0.05),
                               net.objective(theta, XOR_X, XOR_Y) + expected, rtol=1e-13)
    np.testing.assert_array_equal(net.penalty(theta), [0.0, 0.0])


# ----------------------------------------------------------------- the next update


class RecordingOptimizer:
    """Wraps an optimizer and remembers the gradients of every step it is asked to make."""

    def __init__(self, inner):
        self.inner, self.grads = inner, []

    def init(self, params):
        return self.inner.init(params)

    def step(self, params, grads, state, lr_scale=1.0):
        self.grads.append(np.array(grads))
        return self.inner.step(params, grads, state, lr_scale=lr_scale)


@pytest.mark.parametrize(("batch_size", "dropout"), [(None, 0.3), (8, 0.0), (8, 0.3), (1, 0.0)])
def test_next_update_is_the_first_update_train_makes(batch_size, dropout):
    """The same mini-batch, the same dropout masks, the same gradient and step as the first
    update of train(...) with the same seed and start epoch (a continued run too)."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(40, 2))
    Y = (X[:, :1] * X[:, 1:] > 0).astype(float)
    net = mlp.Network((2, 6, 1), "tanh")
    theta = net.init(1, seed=3)
    opt = optimizers.make("momentum", lr=0.1)
    first = mlp.train(net, theta, X, Y, opt, 3, batch_size=batch_size, dropout=dropout, seed=9)
    kw = dict(batch_size=batch_size, dropout=dropout, l2=0.01, seed=21, start_epoch=3)
    nxt = mlp.next_update(net, first.theta, X, Y, opt, first.opt_state, **kw)
    recorder = RecordingOptimizer(opt)
    result = mlp.train(net, first.theta, X, Y, recorder, 1, opt_state=first.opt_state, **kw)
    np.testing.assert_array_equal(nxt.grads, recorder.grads[0])
    n = len(X)
    assert nxt.updates_per_epoch == len(recorder.grads) == (1 if batch_size is None
                                                            else -(-n // batch_size))
    assert len(nxt.batch) == (n if batch_size is None else batch_size)
    if nxt.updates_per_epoch == 1:
        np.testing.assert_array_equal(nxt.theta, result.theta)
    # the batch is what the gradient was taken on: without dropout, recompute it
    if dropout == 0:
        _, grads = net.loss_and_grads(first.theta, X[nxt.batch], Y[nxt.batch], l2=0.01)
        np.testing.assert_allclose(nxt.grads, grads, rtol=1e-12, atol=1e-15)
    # ... and it is not the full-batch, no-dropout gradient (what the page showed before)
    if batch_size is not None or dropout:
        _, full = net.loss_and_grads(first.theta, X, Y, l2=0.01)
        assert not np.allclose(nxt.grads, full)


@pytest.mark.parametrize("pair", mlp.SENSIBLE_PAIRS)
def test_logit_gradient_texts_are_the_backpropagated_gradient(pair):
    """The formula the page prints for dJ/dz (e.g. 2(ŷ − y)/(nK) for MSE, not ŷ − y) is the
    gradient backprop computes: dJ/db of the output bias sums dJ/dz over the samples."""
    output, loss = pair
    K = 3 if loss == "cce" else 2
    net = mlp.Network((2, K), output=output, loss=loss)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(5, 2))
    Y = np.eye(K)[rng.integers(0, K, 5)] if loss == "cce" else rng.random((5, K))
    theta = net.init(1, seed=0)
    _, grads = net.loss_and_grads(theta, X, Y)
    yhat = net.predict(theta, X)[0]
    text, rule = mlp.LOGIT_GRADIENTS[pair]
    bias = slice(2 * K, 3 * K)
    np.testing.assert_allclose(grads[0, bias], rule(yhat, Y, 5, K).sum(axis=0), rtol=1e-12)
    assert text == {"bce": "(ŷ − y)/(nK)", "cce": "(ŷ − y)/n", "mse": "2(ŷ − y)/(nK)"}[loss]
