"""engine.training: the optimizer comparison and the seed statistics, against direct
mlp.train calls written out here."""

import numpy as np
import pytest

from engine import datasets, mlp, optimizers, training

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0, 1, 1, 0])


def test_comparison_is_keyed_by_optimizer_and_equals_separate_trainings():
    net = mlp.Network((2, 4, 1), "tanh")
    theta0 = net.init(1, seed=5)
    chosen = {"gd": {"lr": 0.5}, "adam": {"lr": 0.03}, "momentum": {"lr": 0.1}}
    cmp = training.compare_optimizers(net, theta0, XOR_X, XOR_Y, chosen, 50, l2=0.001, seed=2)
    assert cmp.keys == ("gd", "adam", "momentum")
    assert set(cmp.losses) == set(cmp.thetas) == set(cmp.diverged_at) == set(chosen)
    np.testing.assert_array_equal(cmp.epochs, np.arange(51))
    for key, hyper in chosen.items():
        direct = mlp.train(net, theta0, XOR_X, XOR_Y, optimizers.make(key, **hyper), 50,
                           l2=0.001, seed=2)
        np.testing.assert_array_equal(cmp.losses[key], direct.loss[:, 0])
        np.testing.assert_array_equal(cmp.thetas[key], direct.theta)
        assert cmp.diverged_at[key] == -1


def test_comparison_reports_a_divergence():
    net = mlp.Network((2, 4, 1), "tanh", "linear", "mse")
    cmp = training.compare_optimizers(net, net.init(1, seed=0), XOR_X, XOR_Y,
                                      {"gd": {"lr": 50.0}, "adam": {"lr": 0.01}}, 200)
    assert cmp.diverged_at["gd"] >= 0 and cmp.diverged_at["adam"] == -1
    assert np.isfinite(cmp.losses["gd"]).all()


def solved_epoch_alone(net, theta, X, Y, y, opt, epochs, target):
    """The first epoch at which one network alone reaches ``target`` accuracy (-1: never)."""
    if mlp.accuracy(net, theta, X, y)[0] >= target:
        return 0
    hits = []

    def check(epoch, th, loss):
        if not hits and mlp.accuracy(net, th, X, y)[0] >= target - 1e-12:
            hits.append(epoch)
        return True

    mlp.train(net, theta, X, Y, opt, epochs, callback=check)
    return hits[0] if hits else -1


def test_seed_statistics_equal_networks_trained_one_by_one():
    net = mlp.Network((2, 2, 1), "sigmoid")
    opt = optimizers.make("adam", lr=0.05)
    epochs = 300
    solved = training.seed_statistics(net, XOR_X, XOR_Y, XOR_Y, opt, 8, epochs, 1.0,
                                      chunks=1)
    thetas = net.init(8, seed=0)
    alone = [solved_epoch_alone(net, thetas[i:i + 1], XOR_X, XOR_Y, XOR_Y, opt, epochs, 1.0)
             for i in range(8)]
    assert solved.tolist() == alone
    assert (solved >= 0).any() and (solved < epochs).all()


def test_seed_statistics_in_chunks_and_for_regression():
    X, y = datasets.make("sine", n=60, noise=0.05, seed=0)
    net = mlp.Network((1, 8, 1), "tanh", "linear", "mse")
    Y = np.asarray(y, dtype=float).reshape(-1, 1)
    seen = []
    solved = training.seed_statistics(net, X, Y, y, optimizers.make("adam", lr=0.03), 5, 400,
                                      0.05, regression=True, progress=seen.append)
    assert solved.shape == (5,) and seen[-1] == 1.0 and seen == sorted(seen)
    theta = net.init(5, seed=0)
    result = mlp.train(net, theta, X, Y, optimizers.make("adam", lr=0.03), 400)
    for i, epoch in enumerate(solved):
        below = np.flatnonzero(result.loss[:, i] <= 0.05)
        # chunked training reseeds nothing here (full batch, no dropout): the same curve
        assert epoch == (below[0] if below.size else -1)
    with pytest.raises(ValueError):
        training.seed_statistics(net, X, Y, y, optimizers.make("adam"), 0, 10, 0.1)
