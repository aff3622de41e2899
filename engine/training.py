"""Training sweeps of small networks: the same network under several optimizers, and many
initial weights at once.

Both are :func:`engine.mlp.train` calls; the Neural-network page shows their results (the
"Compare optimizers" and "Seed statistics" tabs), a notebook can call them directly::

    cmp = compare_optimizers(net, theta0, X, Y, {"gd": {"lr": 0.5}, "adam": {"lr": 0.03}},
                             epochs=500)
    cmp.losses["adam"]            # (501,) full-data objective after each epoch

    solved_at = seed_statistics(net, X, Y, y, optimizers.make("adam", lr=0.03),
                                n_networks=100, max_epochs=2000, target=1.0)

Results are keyed by optimizer key (the page translates the titles).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from engine import mlp, optimizers

__all__ = ["OptimizerComparison", "compare_optimizers", "seed_statistics"]


@dataclass(frozen=True, eq=False)
class OptimizerComparison:
    """One training per optimizer from the same initial weights.

    keys: the optimizer keys, in the order given. losses[key] (E+1,): the full-data
    objective after each epoch (its last finite value after a divergence).
    diverged_at[key]: the epoch (0-based) at which the run diverged, −1 if it did not.
    thetas[key] (1, P): the final weights. epochs (E+1,): 0 … E.
    """

    keys: tuple[str, ...]
    losses: dict[str, np.ndarray]
    diverged_at: dict[str, int]
    thetas: dict[str, np.ndarray]
    epochs: np.ndarray


def compare_optimizers(net: mlp.Network, theta0, X, Y, chosen: Mapping[str, Mapping],
                       epochs: int, *, batch_size: int | None = None,
                       schedule: Callable | None = None, l1=0.0, l2=0.0, dropout=0.0,
                       seed: int = 0) -> OptimizerComparison:
    """Train ``theta0`` (1, P) with each optimizer of ``chosen`` (key -> hyper-parameters
    for ``optimizers.make``), the same mini-batches and dropout masks for all (``seed``)."""
    epochs = int(epochs)
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    losses, diverged_at, thetas = {}, {}, {}
    for key, hyper in chosen.items():
        result = mlp.train(net, theta0, X, Y, optimizers.make(key, **hyper), epochs,
                           batch_size=batch_size, schedule=schedule, l1=l1, l2=l2,
                           dropout=dropout, seed=seed)
        losses[key] = result.loss[:, 0]
        diverged_at[key] = int(result.diverged_at[0]) if result.diverged[0] else -1
        thetas[key] = result.theta
    return OptimizerComparison(tuple(chosen), losses, diverged_at, thetas,
                               np.arange(epochs + 1))


def seed_statistics(net: mlp.Network, X, Y, y, optimizer, n_networks: int, max_epochs: int,
                    target: float, *, regression: bool = False, init: str = "xavier",
                    first_seed: int = 0, batch_size: int | None = None,
                    schedule: Callable | None = None, l1=0.0, l2=0.0, dropout=0.0,
                    chunks: int = 20,
                    progress: Callable[[float], None] | None = None) -> np.ndarray:
    """Train ``n_networks`` networks of ``net`` that differ only in their initial weights
    (``net.init(n_networks, init, seed=first_seed)``: network i is the same whatever B) in
    one batch, and return each one's epochs-to-solve (−1 = not within ``max_epochs``).

    Solved: train accuracy ≥ ``target`` (classification: :func:`mlp.accuracy` on labels
    ``y``) or objective ≤ ``target`` (``regression``), checked after every epoch. Training
    goes in ``chunks`` calls (``progress(fraction)`` after each) and stops early once every
    network is solved.
    """
    n_networks, max_epochs = int(n_networks), int(max_epochs)
    if n_networks < 1 or max_epochs < 0:
        raise ValueError(f"need n_networks >= 1 and max_epochs >= 0, got {n_networks}, "
                         f"{max_epochs}")
    theta = net.init(n_networks, scheme=init, seed=int(first_seed))
    state = optimizer.init(theta)
    solved_at = np.full(n_networks, -1)

    def check(epoch, th, loss):
        if regression:
            ok = np.asarray(loss) <= target
        else:
            ok = mlp.accuracy(net, th, X, y) >= target - 1e-12
        solved_at[ok & (solved_at < 0)] = epoch
        return True

    with np.errstate(all="ignore"):
        check(0, theta, net.objective(theta, X, Y, l1, l2))
    done = 0
    for i in range(chunks):
        n = max_epochs * (i + 1) // chunks - done
        if n <= 0:
            continue
        result = mlp.train(net, theta, X, Y, optimizer, n, batch_size=batch_size,
                           schedule=schedule, l1=l1, l2=l2, dropout=dropout,
                           seed=int(first_seed) + done, callback=check, opt_state=state,
                           start_epoch=done)
        theta, state = result.theta, result.opt_state
        done += n
        if progress is not None:
            progress(done / max_epochs)
        if (solved_at >= 0).all():
            break
    if progress is not None:
        progress(1.0)
    return solved_at
