"""A network trained live on the Neural-network page: its parameters, optimizer state and
history (:class:`Run`), advanced a few epochs at a time (:func:`advance`, :func:`advance_for`).
No Streamlit: the live panel (``app_pages/network_live.py``) keeps a Run in the session."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app_pages.network_model import LOSS_LIMIT, Experiment, accuracy
from engine import mlp


@dataclass
class Run:
    """One network being trained live: parameters, optimizer state and history."""

    key: str
    weight_seed: int
    theta: np.ndarray                     # (1, P)
    theta0: np.ndarray                    # initial weights (for "same start" comparisons)
    opt_state: Any
    epoch: int = 0
    history: dict = field(default_factory=dict)
    grad_norms: list = field(default_factory=list)   # per epoch (n_layers,)
    diverged: bool = False
    diverged_at: int = -1
    epochs_per_chunk: int = 10
    last_grads: np.ndarray | None = None
    # (epoch, theta) after each epoch trained by the last advance(): the live view shows
    # snapshots of it one after another
    chunk: list = field(default_factory=list)
    uid: str = field(default_factory=lambda: uuid.uuid4().hex[:12])  # tells runs apart


def _evaluate(exp: Experiment, theta: np.ndarray) -> dict[str, float]:
    cfg = exp.config
    with np.errstate(all="ignore"):
        row = {"train_loss": float(exp.net.objective(theta, exp.X_train, exp.Y_train,
                                                     cfg["l1"], cfg["l2"])[0])}
        if exp.X_test is not None:
            row["test_loss"] = float(exp.net.objective(theta, exp.X_test, exp.Y_test,
                                                       cfg["l1"], cfg["l2"])[0])
        if not exp.is_regression:
            row["train_acc"] = float(accuracy(exp, theta, exp.X_train, exp.y_train)[0])
            if exp.X_test is not None:
                row["test_acc"] = float(accuracy(exp, theta, exp.X_test, exp.y_test)[0])
    return row


def _append(history: dict, epoch: int, row: Mapping[str, float]) -> None:
    history.setdefault("epoch", []).append(epoch)
    for name in ("train_loss", "test_loss", "train_acc", "test_acc"):
        history.setdefault(name, []).append(row.get(name, math.nan))


def new_run(exp: Experiment, key: str, weight_seed: int) -> Run:
    theta = exp.net.init(1, scheme=exp.config["init"], seed=int(weight_seed))
    run = Run(key=key, weight_seed=int(weight_seed), theta=theta, theta0=theta.copy(),
              opt_state=exp.optimizer.init(theta))
    _append(run.history, 0, _evaluate(exp, theta))
    return run


def chunk_seed(run: Run) -> int:
    """The seed of the mini-batches and dropout masks of the epochs :func:`advance` trains
    next (with ``start_epoch = run.epoch``)."""
    return run.weight_seed * 100_003 + run.epoch


def next_update(exp: Experiment, run: Run) -> mlp.NextUpdate:
    """The update the next Step (:func:`advance` by one epoch) makes first: its mini-batch,
    its dropout masks, its gradient and the optimizer's step, as the engine computes them."""
    cfg = exp.config
    return mlp.next_update(exp.net, run.theta, exp.X_train, exp.Y_train, exp.optimizer,
                           run.opt_state, batch_size=exp.batch_size, schedule=exp.schedule,
                           l1=cfg["l1"], l2=cfg["l2"], dropout=cfg["drop"],
                           seed=chunk_seed(run), start_epoch=run.epoch)


def advance(exp: Experiment, run: Run, epochs: int) -> Run:
    """Train ``run`` for up to ``epochs`` more epochs (fewer at the stop epoch or when the
    loss diverges), recording loss/accuracy after every epoch. Mutates and returns run."""
    cfg = exp.config
    epochs = max(0, min(int(epochs), int(cfg["ep"]) - run.epoch))
    run.chunk = []
    if epochs == 0 or run.diverged:
        return run
    rows: list[tuple[int, dict]] = []
    blown: list[int] = []
    good_thetas = [run.theta]

    def record(epoch, theta, loss):
        row = _evaluate(exp, theta)
        if not all(math.isfinite(v) and abs(v) < LOSS_LIMIT for v in row.values()):
            blown.append(epoch)
            return False  # stop here: the banner explains, the plots keep finite values
        rows.append((epoch, row))
        good_thetas.append(theta.copy())
        return True

    result = mlp.train(
        exp.net, run.theta, exp.X_train, exp.Y_train, exp.optimizer, epochs,
        batch_size=exp.batch_size, schedule=exp.schedule, l1=cfg["l1"], l2=cfg["l2"],
        dropout=cfg["drop"], seed=chunk_seed(run), callback=record, opt_state=run.opt_state,
        start_epoch=run.epoch)
    done = len(rows)
    if result.diverged[0] or blown:
        run.diverged = True
        run.diverged_at = blown[0] if blown else run.epoch + int(result.diverged_at[0]) + 1
        done = max(0, min(done, run.diverged_at - run.epoch - 1))
        rows = rows[:done]
        run.theta = good_thetas[done]  # the last weights whose loss was still finite
    else:
        run.theta = result.theta
    for epoch, row in rows:
        _append(run.history, epoch, row)
    run.chunk = [(epoch, theta) for (epoch, _), theta in zip(rows, good_thetas[1:],
                                                             strict=False)]
    run.grad_norms.extend(np.nan_to_num(result.grad_norms[:done, 0, :], nan=0.0,
                                        posinf=0.0))
    run.opt_state = result.opt_state
    run.epoch = int(run.history["epoch"][-1])
    return run


def advance_for(exp: Experiment, run: Run, budget_s: float = 0.1,
                max_epochs: int | None = None) -> Run:
    """Train up to ``max_epochs`` epochs, but only as many as fit in about ``budget_s``
    seconds of this thread's CPU: the chunk size adapts to the measured speed (a tiny XOR
    net manages thousands of epochs in that time, a wide spiral net a few dozen). CPU time,
    not wall time: on a busy server the wall clock also counts the other sessions' turns,
    and would shrink every chunk for what is not this training's cost."""
    n = run.epochs_per_chunk if max_epochs is None else min(run.epochs_per_chunk, max_epochs)
    n = max(1, n)
    start = time.thread_time()
    advance(exp, run, n)
    elapsed = max(time.thread_time() - start, 1e-4)
    # grow at most 2x per call so one fast measurement cannot cause a long stall
    run.epochs_per_chunk = int(np.clip(n * budget_s / elapsed, 1, 2 * max(n, 10)))
    return run


def history_arrays(run: Run, regression: bool) -> dict[str, np.ndarray | None]:
    """History as arrays for the plots (accuracy None for regression; test None if no
    test set)."""
    h = {k: np.asarray(v, dtype=float) for k, v in run.history.items()}
    out = {"epoch": h["epoch"], "train_loss": h["train_loss"]}
    for name in ("test_loss", "train_acc", "test_acc"):
        arr = h[name]
        out[name] = None if np.all(np.isnan(arr)) else arr
    if regression:
        out["train_acc"] = out["test_acc"] = None
    return out
