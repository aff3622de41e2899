"""Overfitting and its cures: a small noisy dataset, a wide network, and what fixes it.

The scenario (:data:`SCENARIO`): two noisy moons, only 30 training points, a 2-32-32-1 tanh
network (1,185 parameters) trained with Adam on the full batch for 2,000 epochs. The
training loss keeps falling towards 0 while the loss on fresh points (the test set) falls,
then rises: the network learns the noise of its 30 points.

The cures, each one training of the *same* initial weights (one batched
:func:`engine.mlp.train`, per-network regularisation):

* ``l2``       weight decay: J = loss + λ₂ Σ W²   (λ₂ = 0.01)
* ``dropout``  inverted dropout on the hidden layers, p = 0.5 (halves the final test loss
  or better, but less than the other two: its test loss still creeps up)
* ``early_stopping``  the uncured run, stopped when the loss on 30 held-out validation
  points has not improved for ``patience`` epochs, keeping the weights of its best epoch
  (Keras' EarlyStopping(restore_best_weights=True)); needs no extra training
* ``l1``       J = loss + λ₁ Σ |W|   (λ₁ = 0.003): for the weight histogram — L1 drives most
  weights to (nearly) zero, L2 shrinks them all a little

:func:`run` trains them and records training, validation and test losses (the data loss,
without the penalty) every ``every`` epochs; :func:`weights` gives each network's weights
(not biases) for a histogram. The claims of the scenario are checked by
tests/engine/test_overfitting.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine import datasets, mlp, optimizers

__all__ = ["CURES", "SCENARIO", "Cure", "Curves", "Scenario", "run", "split", "weights"]


@dataclass(frozen=True)
class Cure:
    key: str
    title: str
    l1: float = 0.0
    l2: float = 0.0
    dropout: float = 0.0


CURES: dict[str, Cure] = {c.key: c for c in [
    Cure("none", "No cure"),
    Cure("l2", "L2 weight decay (λ = 0.01)", l2=0.01),
    Cure("dropout", "Dropout (p = 0.5)", dropout=0.5),
    Cure("l1", "L1 (λ = 0.003)", l1=0.003),
]}
EARLY_STOPPING = "early_stopping"  # read off the uncured run's validation curve


@dataclass(frozen=True)
class Scenario:
    dataset: str = "moons"
    n_train: int = 30
    n_validation: int = 30
    n_test: int = 300
    noise: float = 0.3
    data_seed: int = 0
    sizes: tuple[int, ...] = (2, 32, 32, 1)
    activation: str = "tanh"
    init: str = "lecun"  # std √(1/fan-in): wide enough initial weights to overfit in 2000 epochs
    init_seed: int = 0
    lr: float = 0.01
    epochs: int = 2000
    every: int = 10
    patience: int = 200
    cures: tuple[str, ...] = field(default=tuple(CURES))


SCENARIO = Scenario()


def split(scenario: Scenario = SCENARIO):
    """(X, y) of the training, validation and test points: one draw of the dataset, cut in
    that order (the generator shuffles the classes, so each part holds both)."""
    total = scenario.n_train + scenario.n_validation + scenario.n_test
    X, y = datasets.make(scenario.dataset, total, scenario.noise, scenario.data_seed)
    a, b = scenario.n_train, scenario.n_train + scenario.n_validation
    return (X[:a], y[:a]), (X[a:b], y[a:b]), (X[b:], y[b:])


@dataclass(frozen=True, eq=False)
class Curves:
    """Losses every ``every`` epochs: ``epochs`` (K,), ``train``/``validation``/``test``
    (K, C) for the C cures in ``keys`` (data loss, no penalty; row 0 = the initial
    weights); ``theta`` (C, P) the final weights; ``early_epoch`` the epoch early stopping
    keeps (best validation loss), ``stopped_at`` the epoch it stops (no improvement for
    ``patience`` epochs, or the last), ``early_theta`` the weights it keeps."""

    net: mlp.Network
    keys: tuple[str, ...]
    epochs: np.ndarray
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    theta: np.ndarray
    early_epoch: int
    stopped_at: int
    early_theta: np.ndarray

    def column(self, key: str) -> int:
        return self.keys.index(key)

    def final_test(self, key: str) -> float:
        """The test loss the cure ends with (early stopping: at the epoch it keeps)."""
        if key == EARLY_STOPPING:
            return float(self.test[self.epochs == self.early_epoch, self.column("none")][0])
        return float(self.test[-1, self.column(key)])


def run(scenario: Scenario = SCENARIO) -> Curves:
    """Train every cure of ``scenario`` from the same initial weights (one batched run)."""
    if "none" not in scenario.cures:
        raise ValueError("the cures must include 'none' (early stopping reads its curve)")
    unknown = [k for k in scenario.cures if k not in CURES]
    if unknown:
        raise ValueError(f"unknown cure {unknown[0]!r}; choose from {', '.join(CURES)}")
    (Xtr, ytr), (Xva, yva), (Xte, yte) = split(scenario)
    net = mlp.Network(sizes=scenario.sizes, activation=scenario.activation, output="sigmoid",
                      loss="bce")
    keys = tuple(scenario.cures)
    cures = [CURES[k] for k in keys]
    theta0 = np.repeat(net.init(1, scenario.init, scenario.init_seed), len(keys), axis=0)
    none = keys.index("none")
    rows: dict[str, list] = {"epoch": [], "train": [], "validation": [], "test": []}
    best = {"loss": np.inf, "epoch": 0, "theta": theta0[none].copy(), "stopped": None}

    def record(epoch: int, theta: np.ndarray) -> None:
        rows["epoch"].append(epoch)
        rows["train"].append(net.objective(theta, Xtr, ytr))
        rows["validation"].append(net.objective(theta, Xva, yva))
        rows["test"].append(net.objective(theta, Xte, yte))
        loss = rows["validation"][-1][none]
        if loss < best["loss"]:
            best.update(loss=loss, epoch=epoch, theta=theta[none].copy())
        elif best["stopped"] is None and epoch - best["epoch"] >= scenario.patience:
            best["stopped"] = epoch

    def callback(epoch, theta, _loss):
        if epoch % scenario.every == 0:
            record(epoch, theta)

    record(0, theta0)
    result = mlp.train(net, theta0, Xtr, ytr, optimizers.make("adam", lr=scenario.lr),
                       scenario.epochs, l1=np.array([c.l1 for c in cures]),
                       l2=np.array([c.l2 for c in cures]),
                       dropout=np.array([c.dropout for c in cures]), seed=scenario.init_seed,
                       callback=callback)
    return Curves(net=net, keys=keys, epochs=np.array(rows["epoch"]),
                  train=np.array(rows["train"]), validation=np.array(rows["validation"]),
                  test=np.array(rows["test"]), theta=result.theta,
                  early_epoch=int(best["epoch"]),
                  stopped_at=int(best["stopped"] if best["stopped"] is not None
                                 else scenario.epochs),
                  early_theta=best["theta"])


def weights(net: mlp.Network, theta) -> np.ndarray:
    """(B, number of weights): every network's weights W (not biases), for a histogram."""
    theta = np.atleast_2d(np.asarray(theta, dtype=np.float64))
    return np.concatenate([W.reshape(W.shape[0], -1) for W, _ in net.unpack(theta)], axis=1)
