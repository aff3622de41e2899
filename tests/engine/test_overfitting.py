"""engine.overfitting: without a cure the training loss keeps falling while the test loss
rises; L2, dropout and early stopping each fix it; L1 zeroes weights where L2 shrinks them.
Checked on three seeds of data and initial weights, so no claim rests on one lucky draw."""

from __future__ import annotations

import numpy as np
import pytest

from engine import mlp, optimizers
from engine import overfitting as of


@pytest.fixture(scope="module", params=[0, 1, 2], ids=lambda s: f"seed{s}")
def curves(request):
    seed = request.param
    return of.run(of.Scenario(data_seed=seed, init_seed=seed))


def test_without_a_cure_train_loss_falls_while_test_loss_rises(curves):
    col = curves.column("none")
    train, test = curves.train[:, col], curves.test[:, col]
    best = int(np.argmin(test))
    assert 0 < best < len(test) - 1  # the test loss falls first, then rises
    assert test[-1] > 2.5 * test[best]
    assert train[-1] < 1e-2 < train[best]  # ... while the training loss keeps falling
    late = train[best:]
    assert np.mean(np.diff(late) <= 1e-9) > 0.9


@pytest.mark.parametrize("cure", ["l2", "dropout", of.EARLY_STOPPING])
def test_each_cure_fixes_it(curves, cure):
    """Each cure at least halves the final test loss; L2 and early stopping end close to the
    best the uncured network ever did, dropout (p = 0.5) only part of the way: its test
    loss still creeps up — what a page must say rather than overclaim."""
    assert curves.final_test(cure) < 0.5 * curves.final_test("none")
    best = curves.test[:, curves.column("none")].min()
    if cure != "dropout":
        assert curves.final_test(cure) < 1.3 * best
    else:
        assert curves.final_test(cure) < 2.0 * best


def test_early_stopping_keeps_the_best_validation_epoch(curves):
    col = curves.column("none")
    k = int(np.argmin(curves.validation[:, col]))
    assert curves.early_epoch == curves.epochs[k]
    assert curves.stopped_at == curves.early_epoch + of.SCENARIO.patience
    assert curves.early_theta.shape == (curves.net.n_params,)


def test_kept_weights_reproduce_the_recorded_validation_loss():
    scenario = of.Scenario()
    c = of.run(scenario)
    (_, _), (Xva, yva), _ = of.split(scenario)
    loss = c.net.objective(c.early_theta[None], Xva, yva)[0]
    k = list(c.epochs).index(c.early_epoch)
    assert loss == pytest.approx(c.validation[k, c.column("none")], rel=1e-12)


def test_l1_makes_zeros_l2_shrinks(curves):
    W = of.weights(curves.net, curves.theta)
    near_zero = {k: np.mean(np.abs(W[curves.column(k)]) < 1e-2) for k in curves.keys}
    spread = {k: W[curves.column(k)].std() for k in curves.keys}
    assert near_zero["l1"] > 0.9 and near_zero["l2"] < 0.1 and near_zero["none"] < 0.1
    assert spread["l2"] < 0.5 * spread["none"]


def test_the_batched_cures_equal_single_trainings():
    """The L2 column of the batched run is the L2 network trained alone."""
    scenario = of.Scenario(epochs=300)
    c = of.run(scenario)
    (Xtr, ytr), _, _ = of.split(scenario)
    net = c.net
    alone = mlp.train(net, net.init(1, scenario.init, 0), Xtr, ytr,
                      optimizers.make("adam", lr=scenario.lr), 300, l2=0.01, seed=0)
    np.testing.assert_allclose(c.theta[c.column("l2")], alone.theta[0], rtol=1e-9, atol=1e-12)


def test_weights_are_the_w_matrices_only():
    net = mlp.Network(sizes=(2, 3, 1), activation="tanh", output="sigmoid", loss="bce")
    theta = net.init(2, "xavier", 0)
    W = of.weights(net, theta)
    assert W.shape == (2, 2 * 3 + 3 * 1)
    (W1, _), (W2, _) = net.unpack(theta)
    np.testing.assert_array_equal(W[1], np.concatenate([W1[1].ravel(), W2[1].ravel()]))


def test_bad_cures_are_refused():
    with pytest.raises(ValueError, match="'none'"):
        of.run(of.Scenario(cures=("l2",)))
    with pytest.raises(ValueError, match="unknown cure"):
        of.run(of.Scenario(cures=("none", "magic")))
